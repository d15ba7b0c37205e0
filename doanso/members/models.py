"""The member registry. The foundation holds the core of the record that the unit tree counts against; the
full record, lifecycle and import/export come with the member-registry module."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from doanso.core.text import fold


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    GRADUATED = "graduated", _("Graduated")
    STRUCK_OFF = "struck_off", _("Struck off")
    RESIGNED = "resigned", _("Left the union")
    DECEASED = "deceased", _("Deceased")


class MemberQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "members.view"):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action, "unit"))


class Member(models.Model):
    family_name = models.CharField(_("family name"), max_length=50)
    middle_name = models.CharField(_("middle name"), max_length=80, blank=True)
    given_name = models.CharField(_("given name"), max_length=50)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=40, blank=True)
    # The unit whose branch holds the member's file. Tree changes never rewrite it (see org.models.Unit).
    unit = models.ForeignKey("org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="members")
    joined_on = models.DateField(_("joined the union on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    is_sample = models.BooleanField(_("sample data"), default=False)
    # fold(given + middle + family): search ignores accents; sorting by it follows given name first.
    search_name = models.CharField(max_length=200, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["search_name"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        indexes = [models.Index(fields=["unit", "status"], name="members_unit_status")]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)

    def refresh_search(self) -> None:
        self.search_name = fold(f"{self.given_name} {self.middle_name} {self.family_name}")
