from django.contrib.auth.backends import ModelBackend

from .models import User
from .phones import normalise_phone


class PhoneOrEmailBackend(ModelBackend):
    """Log in with a phone number (any common Vietnamese spelling) or an e-mail address, or the username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = find_user(username)
        if user is None:
            User().set_password(password)  # same work as a real check, so timing does not reveal accounts
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def find_user(identifier: str) -> User | None:
    identifier = identifier.strip()
    if "@" in identifier:
        return User.objects.filter(email__iexact=identifier).first()
    phone = normalise_phone(identifier)
    if phone:
        user = User.objects.filter(phone=phone).first()
        if user:
            return user
    return User.objects.filter(username=identifier).first()
