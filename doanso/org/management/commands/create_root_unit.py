from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from doanso.accounts.backends import find_user
from doanso.org import services
from doanso.org.models import AdministrativeDivision, UnitKind


class Command(BaseCommand):
    help = "Create the root unit of a deployment (the provincial union), e.g. on a fresh production database."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="Unit code, e.g. TD-DN")
        parser.add_argument("--name", required=True, help='e.g. "Thành đoàn Đà Nẵng"')
        parser.add_argument("--short-name", default="")
        parser.add_argument("--division", default="", help="Official province code, e.g. 48 for Đà Nẵng")
        parser.add_argument("--active-from", default=None, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--actor", required=True, help="A platform administrator (username, phone or e-mail)")

    def handle(self, *args, **o):
        import datetime

        actor = find_user(o["actor"])
        if actor is None or not actor.is_superuser:
            raise CommandError("--actor must name a platform administrator (manage.py createsuperuser).")
        division = None
        if o["division"]:
            division = AdministrativeDivision.objects.filter(code=o["division"].zfill(2)).first()
            if division is None:
                raise CommandError(f"No administrative division with code {o['division']}.")
        active_from = datetime.date.fromisoformat(o["active_from"]) if o["active_from"] else None
        data = services.UnitData(
            code=o["code"], name=o["name"], short_name=o["short_name"], kind=UnitKind.PROVINCE, division=division
        )
        try:
            unit = services.create_unit(data, actor=actor, parent=None, active_from=active_from)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created {unit.name} ({unit.code}), id {unit.pk}.")
