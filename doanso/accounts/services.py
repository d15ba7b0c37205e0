"""Every write to accounts: roles, invitations, API tokens, two-factor devices. Each audited."""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doanso.core import audit
from doanso.core.text import nfc

from .models import ApiToken, Invitation, RoleAssignment, User, hash_token
from .phones import normalise_phone
from .roles import MANAGE_MEMBERS, MANAGE_ROLES, ROLES
from .scope import can


def check_can_grant(actor, role: str, unit) -> None:
    """A cadre manages roles only inside their own subtree, and only roles their own role may grant there."""
    if role not in ROLES:
        raise ValidationError({"role": _("Unknown role.")})
    if actor.is_superuser:
        return
    if not can(actor, MANAGE_ROLES, unit):
        raise PermissionDenied
    grantable = {g for r, path, _u in actor.assignments() if unit.path.startswith(path) for g in ROLES[r].grants}
    if role not in grantable:
        raise ValidationError({"role": _("You cannot grant this role.")})


@transaction.atomic
def assign_role(user: User, role: str, unit, *, actor) -> RoleAssignment:
    check_can_grant(actor, role, unit)
    if not unit.is_active:
        raise ValidationError({"unit": _("{unit} is no longer active.").format(unit=unit.name)})
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(user=user, role=role, unit=unit, granted_by=actor)
    except IntegrityError:
        raise ValidationError(
            {"role": _("{user} already has this role at {unit}.").format(user=user, unit=unit.name)}
        ) from None
    audit.record(
        actor=actor,
        action="accounts.role.assign",
        obj=assignment,
        unit=unit,
        after={"user": user.pk, "role": role, "unit": unit.pk},
    )
    return assignment


@transaction.atomic
def revoke_role(assignment: RoleAssignment, *, actor) -> None:
    check_can_grant(actor, assignment.role, assignment.unit)
    if assignment.user_id == actor.pk and not actor.is_superuser:
        raise ValidationError(_("You cannot remove your own role; ask a cadre above you."))
    before = {"user": assignment.user_id, "role": assignment.role, "unit": assignment.unit_id}
    audit.record(actor=actor, action="accounts.role.revoke", obj=assignment, unit=assignment.unit, before=before)
    assignment.delete()


def clean_contact(email: str, phone: str) -> tuple[str, str]:
    email = (email or "").strip().lower()
    phone_in = (phone or "").strip()
    phone_e164 = normalise_phone(phone_in) if phone_in else ""
    if phone_in and not phone_e164:
        raise ValidationError({"phone": _("“{phone}” is not a valid phone number.").format(phone=phone_in)})
    if not email and not phone_e164:
        raise ValidationError({"email": _("Give an e-mail address or a phone number.")})
    return email, phone_e164 or ""


@transaction.atomic
def invite_user(
    *, actor, full_name: str, unit, role: str = "", email: str = "", phone: str = ""
) -> tuple[Invitation, str]:
    """Create an invitation and return it with the raw token (shown or sent once, stored only as a hash)."""
    if role:
        check_can_grant(actor, role, unit)
    elif not (can(actor, MANAGE_ROLES, unit) or can(actor, MANAGE_MEMBERS, unit)):
        # An account without a role is a member's own account: whoever manages members may invite them.
        raise PermissionDenied
    full_name = nfc(full_name)
    if not full_name:
        raise ValidationError({"full_name": _("Enter the person's full name.")})
    email, phone = clean_contact(email, phone)
    if email and User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    if phone and User.objects.filter(phone=phone).exists():
        raise ValidationError({"phone": _("An account with this phone number already exists.")})
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        token_hash=hash_token(raw),
        full_name=full_name,
        email=email,
        phone=phone,
        role=role,
        unit=unit,
        invited_by=actor,
        expires_at=timezone.now() + datetime.timedelta(days=settings.DOANSO_INVITATION_DAYS),
    )
    audit.record(
        actor=actor,
        action="accounts.invitation.create",
        obj=invitation,
        unit=unit,
        after={"full_name": full_name, "email": email, "phone": phone, "role": role},
    )
    return invitation, raw


def find_invitation(raw: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("unit").filter(token_hash=hash_token(raw)).first()
    return invitation if invitation and invitation.is_usable else None


@transaction.atomic
def accept_invitation(raw: str, *, password: str) -> User:
    invitation = Invitation.objects.select_for_update().filter(token_hash=hash_token(raw)).first()
    if invitation is None or not invitation.is_usable:
        raise ValidationError(_("This invitation link is no longer valid. Ask for a new one."))
    username = invitation.email or invitation.phone
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("An account for this person already exists. Log in instead."))
    user = User(
        username=username,
        full_name=invitation.full_name,
        email=invitation.email or None,
        phone=invitation.phone or None,
    )
    from django.contrib.auth.password_validation import validate_password

    validate_password(password, user)
    user.set_password(password)
    user.save()
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    if invitation.role:
        RoleAssignment.objects.create(
            user=user, role=invitation.role, unit=invitation.unit, granted_by=invitation.invited_by
        )
    audit.record(
        actor=user,
        action="accounts.invitation.accept",
        obj=invitation,
        unit=invitation.unit,
        after={"user": user.pk, "role": invitation.role},
    )
    return user


@transaction.atomic
def create_api_token(user: User, *, actor, name: str = "") -> tuple[ApiToken, str]:
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=nfc(name)[:100], prefix=raw[3:11], key_hash=hash_token(raw))
    audit.record(actor=actor, action="accounts.api_token.create", obj=token, after={"user": user.pk, "name": name})
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor) -> None:
    if actor.pk != token.user_id and not actor.is_superuser:
        raise PermissionDenied
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    audit.record(actor=actor, action="accounts.api_token.revoke", obj=token)


@transaction.atomic
def confirm_totp_device(user: User, device, token: str, *, actor) -> bool:
    """Confirm a new TOTP device with a code from the app; other devices of the user are removed."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    type(device).objects.filter(user=user).exclude(pk=device.pk).delete()
    audit.record(actor=actor, action="accounts.totp.enable", obj=user, after={"device": device.pk})
    return True


@transaction.atomic
def disable_totp(user: User, *, actor) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user.is_superuser and settings.DOANSO_REQUIRE_2FA_FOR_ADMINS:
        raise ValidationError(_("Platform administrators must keep two-factor authentication."))
    TOTPDevice.objects.filter(user=user).delete()
    audit.record(actor=actor, action="accounts.totp.disable", obj=user)
