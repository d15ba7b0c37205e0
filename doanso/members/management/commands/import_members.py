"""manage.py import_members FILE --unit CODE [--dry-run] [--mapping NAME]

Checks every row like the import page does and, unless ``--dry-run``, writes all of them in one transaction —
or nothing when a row is rejected (``--only-valid`` writes the valid rows and leaves the rejected ones out).
Prints each rejected row, then, as its last line, a JSON object with the keys rows, created, updated,
unchanged and errors (rejected rows; for a dry run created/updated/unchanged are what a commit would do).
Exit status: 0 when no row is rejected, 1 when some are (or the file or the arguments cannot be used: the reason,
then the same JSON line with errors 1).
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from doanso.accounts.roles import IMPORT_MEMBERS
from doanso.accounts.scope import can
from doanso.members.importing import (
    BUILTIN_MAPPINGS,
    DUPLICATES_REJECT,
    DUPLICATES_UPDATE,
    ImportFileError,
    ImportOptions,
    paused_gc,
    plan_from_file,
    read_for_import,
    sync_builtin_mappings,
)
from doanso.members.models import ImportMapping
from doanso.members.services.imports import ImportRefused, import_member_sheet
from doanso.org.models import Unit


class Command(BaseCommand):
    help = "Import members from an XLSX, XLS, ODS or CSV file into a unit (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the spreadsheet")
        parser.add_argument("--unit", required=True, help="code of the unit to import into")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--mapping", help="name of a saved or built-in column mapping (default: recognised)")
        parser.add_argument("--sheet", help="name of the sheet (default: the first with data)")
        parser.add_argument(
            "--duplicates",
            choices=[DUPLICATES_UPDATE, DUPLICATES_REJECT],
            default=DUPLICATES_UPDATE,
            help="members already registered with other data: update them (default) or reject the rows",
        )
        parser.add_argument("--only-valid", action="store_true", help="write the valid rows even if some are rejected")
        parser.add_argument("--user", help="import as this user (login name): their rights and name in the audit log")

    def handle(self, *args, **options):
        # Messages in the site's language (Vietnamese), not the untranslated source a command gets by default.
        with translation.override(settings.LANGUAGE_CODE):
            status = self._run(options)
        if status:
            raise SystemExit(status)

    def _run(self, options) -> int:
        try:
            path, unit, actor, mapping = self._arguments(options)
        except ImportFileError as exc:
            # Arguments that cannot be used: said like a file that cannot be read, with the summary line.
            self.stdout.write(str(exc))
            self._summary({"rows": 0, "created": 0, "updated": 0, "unchanged": 0, "errors": 1})
            return 1
        import_options = ImportOptions(
            unit_id=unit.pk,
            mapping=mapping,
            sheet=options["sheet"],
            duplicates=options["duplicates"],
            filename=path.name,
            mapping_name=options["mapping"] or "",
        )
        refused = None
        try:
            if options["dry_run"]:
                plan = plan_from_file(path.read_bytes(), import_options, unit)
                counts = plan.summary()
            else:
                with paused_gc():
                    sheet, _report = read_for_import(path.read_bytes(), import_options)
                    try:
                        plan, counts = import_member_sheet(
                            sheet, import_options, actor=actor, unit=unit, only_valid=options["only_valid"]
                        )
                    except ImportRefused as exc:
                        if exc.plan is None:
                            raise CommandError(str(exc)) from None
                        refused, plan = exc, exc.plan
                        counts = {**plan.summary(), "created": 0, "updated": 0, "unchanged": 0}
        except ImportFileError as exc:
            self.stdout.write(f"{path.name}: {exc}")
            self._summary({"rows": 0, "created": 0, "updated": 0, "unchanged": 0, "errors": 1})
            return 1
        for error in plan.errors:
            self.stdout.write(f"{error.row}\t{error.column}\t{error.value}\t{error.message}")
        if refused is not None:
            self.stdout.write(str(refused))
        self._summary(counts)
        return 1 if counts["errors"] else 0

    def _arguments(self, options):
        path = Path(options["file"])
        if not path.is_file():
            raise ImportFileError(_("No such file: {path}").format(path=path))
        unit = Unit.objects.filter(code__iexact=options["unit"]).first()
        if unit is None:
            raise ImportFileError(_("No unit has the code {code}.").format(code=options["unit"]))
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None or not can(actor, IMPORT_MEMBERS, unit):
                raise ImportFileError(
                    _("{user} may not import members into {unit}.").format(user=options["user"], unit=unit.code)
                )
        mapping = None
        if options["mapping"]:
            sync_builtin_mappings()
            found = ImportMapping.objects.filter(name=options["mapping"]).first()
            if found is None:
                names = ", ".join(
                    [*BUILTIN_MAPPINGS, *ImportMapping.objects.filter(is_builtin=False).values_list("name", flat=True)]
                )
                message = _("No column mapping is named “{name}”; known: {names}.")
                raise ImportFileError(message.format(name=options["mapping"], names=names))
            mapping = found.mapping
        return path, unit, actor, mapping

    def _summary(self, counts: dict) -> None:
        keys = ("rows", "created", "updated", "unchanged", "errors")
        self.stdout.write(json.dumps({k: counts[k] for k in keys}))
