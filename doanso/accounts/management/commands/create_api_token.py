from django.core.management.base import BaseCommand, CommandError

from doanso.accounts.backends import find_user
from doanso.accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create a personal API token for a user (by username, phone or e-mail) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, username, name, **options):
        user = find_user(username)
        if user is None:
            raise CommandError(f"No user {username!r}.")
        _token, raw = create_api_token(user, actor=user, name=name or "manage.py create_api_token")
        self.stdout.write(raw)
