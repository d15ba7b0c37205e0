import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import role_choices


class User(AbstractUser):
    """A person who logs in: a cadre, a member or an administrator. Logs in by phone or e-mail."""

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    # Stored in E.164 (+84…) so that "0905 123 456" and "+84905123456" are the same login.
    phone = models.CharField(_("phone"), max_length=20, null=True, blank=True, unique=True)
    # NULL rather than "" for "no e-mail", so that the unique constraint allows many users without one.
    email = models.EmailField(_("e-mail"), null=True, blank=True, unique=True)  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.email or self.phone or self.username

    def save(self, *args, **kwargs):
        # "" would collide in the unique columns (createsuperuser leaves e-mail blank): no value is NULL.
        self.email = self.email or None
        self.phone = self.phone or None
        super().save(*args, **kwargs)

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser

    @property
    def is_cadre(self) -> bool:
        return self.is_superuser or bool(self.assignments())

    def assignments(self) -> list[tuple[str, str, int]]:
        """(role, unit path, unit id) of every active role, cached on the instance for one request."""
        cached = getattr(self, "_assignments_cache", None)
        if cached is None:
            cached = list(
                self.role_assignments.filter(unit__active_to__isnull=True).values_list("role", "unit__path", "unit_id")
            )
            self._assignments_cache = cached
        return cached


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=role_choices)
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    granted_by = models.ForeignKey(
        User, verbose_name=_("granted by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("granted on"), default=timezone.now)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [models.UniqueConstraint(fields=["user", "role", "unit"], name="unique_role_per_unit")]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.unit}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Invitation(models.Model):
    """A link that lets a new person set a password and receive a role at a unit."""

    token_hash = models.CharField(max_length=64, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=role_choices, blank=True)
    unit = models.ForeignKey("org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(User, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(condition=~Q(email="") | ~Q(phone=""), name="invitation_has_contact"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the token is shown once when created."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def generate() -> str:
        return "ds_" + secrets.token_urlsafe(32)
