"""Submit the attempts whose time ran out without a submit. Run every minute (systemd timer or cron) while a
contest is live; pages and rankings also finalise such attempts when they meet them, so this only keeps the
tallies and the dashboard current."""

from django.core.management.base import BaseCommand

from doanso.contests.services.taking import expire_attempts


class Command(BaseCommand):
    help = "Submit contest attempts whose deadline has passed, with the answers saved by then."

    def handle(self, *args, **options):
        total = 0
        while True:
            n = expire_attempts()
            total += n
            if not n:
                break
        self.stdout.write(f"{total}")
