"""Personal data protection (Decree 13/2023/NĐ-CP): masking in lists, unmasking with a right and a reason, and
the access records that say who read what."""

from doanso.accounts.roles import VIEW_SENSITIVE
from doanso.accounts.scope import can
from doanso.core import audit

# Fields that lists mask and that only a holder of VIEW_SENSITIVE may see, giving a reason.
SENSITIVE_FIELDS = (
    "citizen_id",
    "phone",
    "email",
    "residence_address",
    "hometown_address",
    "religion",
    "party_joined_on",
)


def mask_citizen_id(value: str | None) -> str:
    """048203001234 → 048*******34: the province code and the last two digits stay, enough to tell rows apart."""
    if not value:
        return ""
    return value[:3] + "*" * (len(value) - 5) + value[-2:] if len(value) > 5 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """+84905123456 → 0905***456."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    local = "0" + digits[2:] if value.startswith("+84") else digits
    return local[:4] + "***" + local[-3:] if len(local) > 7 else "***"


def mask_email(value: str | None) -> str:
    if not value or "@" not in value:
        return ""
    name, domain = value.split("@", 1)
    return f"{name[:1]}***@{domain}"


def can_unmask(user, member) -> bool:
    return can(user, VIEW_SENSITIVE, member.unit)


def record_reveal(*, actor, member, fields, reason: str):
    """Log that ``actor`` saw ``fields`` of ``member`` unmasked, and why."""
    return audit.record_access(
        actor=actor,
        purpose="reveal",
        object_type="members.member",
        object_id=str(member.pk),
        fields=fields,
        row_count=1,
        unit=member.unit,
        reason=reason,
    )
