from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError

from doanso.org.divisions import load_divisions


class Command(BaseCommand):
    help = (
        "Reload the provinces and communes from the installed vietnam-provinces package (after upgrading it). "
        "Idempotent: existing codes are updated in place, so units and members keep their division."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Also delete divisions the package no longer has. Refused as a whole if anything refers to one.",
        )

    def handle(self, *args, prune=False, **options):
        import vietnam_provinces

        try:
            result = load_divisions(prune=prune)
        except ProtectedError as exc:
            raise CommandError(
                "Nothing was changed: some divisions the package dropped are still in use "
                f"({len(exc.protected_objects)} referring rows). Reassign them, then run --prune again."
            ) from exc
        self.stdout.write(
            f"vietnam-provinces {vietnam_provinces.__version__} (data {vietnam_provinces.__data_version__}): "
            f"{result.provinces} provinces, {result.communes} communes."
        )
        self.stdout.write(
            f"Created {result.created}, updated {result.updated}, unchanged {result.unchanged}, "
            f"deleted {result.deleted}."
        )
        if result.stale and not prune:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.stale)} division(s) no longer in the package were kept: "
                    f"{', '.join(result.stale[:20])}{' …' if len(result.stale) > 20 else ''}. "
                    "Use --prune to delete them."
                )
            )
