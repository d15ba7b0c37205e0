"""Results documents: the Excel export of a round's ranking, winners' certificates (PDF with a verification QR)
and the public page that QR opens."""

import io

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from doanso.core.audit import record_access
from doanso.core.pdf import pdf_response, render_pdf
from doanso.core.qr import qr_svg_data_uri
from doanso.core.text import fold
from doanso.members.privacy import mask_phone

from .models import Contest, RoundResult
from .permissions import VIEW_CONTESTS
from .views import get_round

_SIGNER = signing.Signer(salt="doanso.contests.certificate")


def certificate_token(result: RoundResult) -> str:
    return _SIGNER.sign(f"{signing.b62_encode(result.round_id)}.{signing.b62_encode(result.position)}")


def result_for_token(token: str) -> RoundResult | None:
    try:
        round_key, _dot, position_key = _SIGNER.unsign(token).partition(".")
        round_id, position = signing.b62_decode(round_key), signing.b62_decode(position_key)
    except (signing.BadSignature, ValueError):
        return None
    return (
        RoundResult.objects.select_related("participant", "unit", "round__contest")
        .filter(round_id=round_id, position=position)
        .first()
    )


def duration_text(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds = ms / 1000
    return f"{int(seconds // 60)}:{seconds % 60:06.3f}"


@login_required
def round_export(request, pk):
    """The round's ranking as XLSX; phones masked. An access record notes the export (personal data)."""
    from openpyxl import Workbook

    round_ = get_round(request, pk)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Ranking")[:31])
    sheet.append(
        [
            _("Position"),
            _("Rank"),
            _("Full name"),
            _("Date of birth"),
            _("Phone"),
            _("Unit"),
            _("Correct answers"),
            _("Prediction distance"),
            _("Duration (m:s)"),
            _("Submitted at"),
            _("Prize"),
        ]
    )
    rows = (
        RoundResult.objects.filter(round=round_)
        .select_related("participant", "unit")
        .order_by("position")
        .iterator(chunk_size=2000)
    )
    count = 0
    for r in rows:
        count += 1
        sheet.append(
            [
                r.position,
                r.rank,
                r.participant.full_name,
                r.participant.date_of_birth.strftime("%d/%m/%Y"),
                mask_phone(r.participant.phone),
                r.unit.name,
                r.correct,
                r.distance,
                duration_text(r.duration_ms),
                timezone.localtime(r.submitted_at).strftime("%d/%m/%Y %H:%M:%S"),
                r.get_prize_display(),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    record_access(
        actor=request.user,
        purpose="contests.export_ranking",
        object_type="contests.round",
        object_id=str(round_.pk),
        fields=["full_name", "date_of_birth", "phone"],
        row_count=count,
        unit=round_.contest.organiser,
    )
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = slugify(fold(f"xep hang {round_.contest.title} {round_}"))[:80] or "xep-hang"
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
def certificate_pdf(request, pk, position):
    result = get_object_or_404(
        RoundResult.objects.filter(round__contest__in=Contest.objects.restrict(request.user, VIEW_CONTESTS))
        .exclude(prize="")
        .select_related("participant", "unit__parent", "round__contest__organiser"),
        round_id=pk,
        position=position,
    )
    url = request.build_absolute_uri(reverse("contests:certificate_verify", args=[certificate_token(result)]))
    context = {
        "result": result,
        "round": result.round,
        "contest": result.round.contest,
        "qr": qr_svg_data_uri(url),
        "verify_url": url,
    }
    content = render_pdf("contests/certificate_pdf.html", context, request=request)
    filename = f"giay-chung-nhan-{slugify(fold(result.participant.full_name)) or result.position}.pdf"
    return pdf_response(content, filename, inline=False)


@require_GET
@cache_control(public=True, max_age=300)
def certificate_verify(request, token):
    result = result_for_token(token)
    status = 200 if result is not None and result.prize else 404
    return render(
        request, "contests/certificate_verify.html", {"result": result if status == 200 else None}, status=status
    )
