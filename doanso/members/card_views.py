"""The e-member card (thẻ đoàn viên điện tử): a page, a PDF, and the public page its QR code opens.

The QR carries a URL with a token that names the member without being guessable: the member id in base 62
followed by a truncated HMAC of it under the site's secret key. Whoever holds a card can show that it is
genuine; nobody can walk the registry by trying numbers.
"""

import base64
import io

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from doanso.accounts.roles import VIEW_MEMBERS
from doanso.accounts.scope import can, scope_q
from doanso.core.pdf import pdf_response, render_pdf
from doanso.core.qr import qr_png_data_uri, qr_svg_data_uri
from doanso.core.text import fold

from .models import CURRENT_STATUSES, Member, MemberKind
from .services.selfservice import can_invite

_CARD_SALT = "doanso.members.card"
# 16 bytes of HMAC-SHA256: far beyond guessing, and short enough to keep the QR code small and easy to scan.
_MAC_BYTES = 16
# A card photo is shown at most ~27 mm high; 300 × 400 px is sharp at 300 dpi and weighs a few dozen KB.
PHOTO_SIZE = (300, 400)
# The verification page may be cached briefly: a status change shows within five minutes.
VERIFY_MAX_AGE = 300


def _mac(value: str, secret=None) -> str:
    digest = salted_hmac(_CARD_SALT, value, secret=secret, algorithm="sha256").digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def card_token(member: Member) -> str:
    key = signing.b62_encode(member.pk)
    return f"{key}-{_mac(key)}"


def member_for_token(token: str) -> Member | None:
    """The member a card token names, or None when the token was not made by this site."""
    key, _sep, mac = token.partition("-")
    if not key or not mac:
        return None
    # Cards printed before a key rotation stay valid while the old key is listed in SECRET_KEY_FALLBACKS.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(constant_time_compare(mac, _mac(key, secret)) for secret in secrets):
        return None
    try:
        pk = signing.b62_decode(key)
    except ValueError:
        return None
    return Member.objects.select_related("unit").filter(pk=pk).first()


def verify_url(request, member: Member) -> str:
    return request.build_absolute_uri(reverse("members:card_verify", args=[card_token(member)]))


def photo_data_uri(member: Member) -> str | None:
    """The member's photo from private storage, cropped to 3:4 and resized, as a data URI — never a URL, since
    photos are personal data that no public address may serve."""
    if not member.photo:
        return None
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with member.photo.open("rb") as file, Image.open(file) as original:
            upright = ImageOps.exif_transpose(original).convert("RGB")
            fitted = ImageOps.fit(upright, PHOTO_SIZE, Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            fitted.save(buffer, format="JPEG", quality=85)
    except (OSError, UnidentifiedImageError):
        # A missing or broken file must not take the card down: the card shows the initials instead.
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def initials(member: Member) -> str:
    return "".join(part[0] for part in (member.family_name, member.given_name) if part).upper()


def viewable_members(user):
    """Members whose card ``user`` may see: their own, and those of the units where they may view members."""
    return Member.objects.filter(scope_q(user, VIEW_MEMBERS, "unit") | Q(user=user))


def get_card_member(request, pk) -> Member:
    member = get_object_or_404(viewable_members(request.user).select_related("unit"), pk=pk)
    # The card and its title are the union's; association members and pioneers have no such card.
    if member.kind != MemberKind.UNION:
        raise Http404
    return member


def card_context(request, member: Member, *, for_pdf: bool) -> dict:
    url = verify_url(request, member)
    return {
        "member": member,
        "photo": photo_data_uri(member),
        "initials": initials(member),
        # Vector in the PDF (sharp at any print resolution); PNG on the page, which phones render fastest.
        "qr": qr_svg_data_uri(url) if for_pdf else qr_png_data_uri(url, scale=6),
        "verify_url": url,
        "is_valid": member.status in CURRENT_STATUSES,
    }


@login_required
def card(request, pk):
    member = get_card_member(request, pk)
    context = card_context(request, member, for_pdf=False)
    context["is_own"] = member.user_id == request.user.pk
    return render(request, "members/card.html", context)


@login_required
def card_pdf(request, pk):
    member = get_card_member(request, pk)
    content = render_pdf("members/card_pdf.html", card_context(request, member, for_pdf=True), request=request)
    filename = f"the-doan-vien-{slugify(fold(member.full_name)) or member.pk}.pdf"
    return pdf_response(content, filename, inline=False)


@require_GET
@cache_control(public=True, max_age=VERIFY_MAX_AGE)
def card_verify(request, token):
    """Public: what anyone scanning a card may learn — the name, the unit and whether the membership is valid."""
    member = member_for_token(token)
    if member is None:
        return render(request, "members/card_verify.html", {"member": None}, status=404)
    context = {"member": member, "is_valid": member.status in CURRENT_STATUSES}
    return render(request, "members/card_verify.html", context)


def member_links(user, member: Member) -> list[tuple[str, str]]:
    """Links for the member page (label, url): the card, its PDF, and the self-service invitation, each shown
    only when ``user`` may use it."""
    links = []
    if member.kind == MemberKind.UNION and (member.user_id == user.pk or can(user, VIEW_MEMBERS, member.unit)):
        links.append((_("Member card"), reverse("members:card", args=[member.pk])))
        links.append((_("Member card (PDF)"), reverse("members:card_pdf", args=[member.pk])))
    if member.user_id is None and member.status in CURRENT_STATUSES and can_invite(user, member):
        links.append((_("Invite to self-service"), reverse("members:member_invite", args=[member.pk])))
    return links
