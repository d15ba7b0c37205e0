"""``manage.py seed_demo``: the demo province, its sample members and one login per role.

Idempotent: ``scripts/demo`` runs it on every start, and once the demo exists it only prints the logins.

``--reset`` does not delete anything. Audit records are append-only (in Python, and by trigger on PostgreSQL)
and protect the units and users they name, so a demo that has been built, and therefore audited, cannot be
wiped from inside the application without breaking that promise. ``--reset`` therefore refuses whenever the
database holds units or audit records, and says how to start over: delete the SQLite file (or drop the
PostgreSQL database), migrate, and seed again. On an empty database it seeds as usual.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from doanso.core.models import AuditRecord
from doanso.org import demo
from doanso.org.models import Unit


class Command(BaseCommand):
    help = (
        "Build the demo province (Thành đoàn Đà Nẵng, its 94 communes, blocks, schools and sample members) and "
        "print one login per role. Does nothing but print the logins when the demo already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--members",
            type=int,
            default=demo.DEFAULT_MEMBERS,
            help=f"number of sample members (default {demo.DEFAULT_MEMBERS}; up to 1,000,000 for benchmarks)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="start from an empty database; refuses (and says what to do) when it is not empty",
        )

    def handle(self, *args, members, reset, **options):
        if members < 0:
            raise CommandError("--members cannot be negative.")
        if reset and (Unit.objects.exists() or AuditRecord.objects.exists()):
            raise CommandError(self.reset_instructions())
        if demo.demo_exists():
            self.stdout.write("The demo province already exists; nothing was changed.")
            if members != demo.DEFAULT_MEMBERS:
                self.stdout.write(f"--members {members} was ignored. {self.reset_instructions()}")
            self.print_logins()
            return
        problems = demo.conflicts()
        if problems:
            raise CommandError(
                "seed_demo only fills an empty database, and this one is not: " + "; ".join(problems) + "."
            )

        self.stdout.write(f"Building the demo province with {members:,} sample members…")
        summary = demo.DemoBuilder(members=members, log=self.stdout.write).build()
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {summary.seconds_total:.1f} s (units {summary.seconds_units:.1f} s, members "
                f"{summary.seconds_members:.1f} s)."
            )
        )
        self.stdout.write("Active units by kind: " + ", ".join(f"{k} {n}" for k, n in summary.units_by_kind.items()))
        self.stdout.write(f"Members: {summary.members:,}")
        self.print_logins()

    def reset_instructions(self) -> str:
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            how = f"delete {database['NAME']}"
        else:
            how = f"drop and re-create the database {database['NAME']!r}"
        return (
            "Audit records are append-only, so the demo cannot be wiped from inside the application. To start "
            f"over: {how}, then run `manage.py migrate` and `manage.py seed_demo` (or scripts/demo) again."
        )

    def print_logins(self) -> None:
        rows = demo.login_rows()
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                "Dữ liệu mẫu — sample data: the members, users and most unit names below are invented; no member "
                "is a real person."
            )
        )
        headers = ("Vai trò", "Họ tên", "Đăng nhập (e-mail | điện thoại | tên)", "Mật khẩu")
        table = [headers] + [(r.label, r.name, r.login, r.password) for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
        for number, row in enumerate(table):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
            if number == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(
            f"The administrator logs in with a second factor. Authenticator secret (base32): {demo.admin_totp_secret()}"
        )
        self.stdout.write("Current code: ./.venv/bin/python manage.py otp_code admin")
