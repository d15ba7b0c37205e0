import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from doanso.core.models import TaskRun


class Command(BaseCommand):
    help = (
        "Delete finished background tasks older than --days, with their result files and error reports (exports "
        "hold personal data: they should not outlive their use), and uploads of imports never committed. Run it "
        "daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days, **options):
        cutoff = timezone.now() - datetime.timedelta(days=days)
        old = TaskRun.objects.filter(
            status__in=[TaskRun.Status.SUCCEEDED, TaskRun.Status.FAILED], finished_at__lt=cutoff
        )
        files = 0
        for run in old.iterator():
            for field in (run.result_file, run.error_report):
                if field:
                    field.delete(save=False)
                    files += 1
        count, _ = old.delete()
        uploads = self.prune_uploads(cutoff)
        self.stdout.write(
            f"Deleted {count} finished tasks older than {days} days, {files} files, and {uploads} abandoned uploads."
        )

    def prune_uploads(self, cutoff) -> int:
        """Spreadsheets uploaded for an import that was never committed (the commit deletes its own file)."""
        from doanso.core.models import private_storage

        storage = private_storage()
        deleted = 0

        def walk(folder: str):
            nonlocal deleted
            if not storage.exists(folder):
                return
            dirs, names = storage.listdir(folder)
            for name in names:
                path = f"{folder}/{name}"
                if storage.get_modified_time(path) < cutoff:
                    storage.delete(path)
                    deleted += 1
            for sub in dirs:
                walk(f"{folder}/{sub}")

        walk("imports")
        return deleted
