"""Results documents: the Excel export of a round's ranking (as a task), winners' certificates (PDF with a
verification QR) and the public page that QR opens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from doanso.core.pdf import pdf_response, render_pdf
from doanso.core.qr import qr_svg_data_uri
from doanso.core.tasks import start_task
from doanso.core.text import fold

from .models import Contest, RoundResult
from .permissions import VIEW_CONTESTS
from .tasks import export_ranking
from .views import get_round


def _signer() -> signing.Signer:
    # Made when used, not at import: reading SECRET_KEY at import broke `makemigrations`/`check` without one.
    return signing.Signer(salt="doanso.contests.certificate")


def certificate_token(result: RoundResult) -> str:
    # The attempt, not the position: ranking again after a disqualification moves positions, and a printed code
    # must keep naming its winner (or stop being valid), never vouch for whoever holds that place now.
    return _signer().sign(f"{signing.b62_encode(result.round_id)}.{signing.b62_encode(result.attempt_id)}")


def result_for_token(token: str) -> RoundResult | None:
    """The prize-winning result the token names, or None (forged, or the attempt no longer wins a prize)."""
    try:
        round_key, _dot, attempt_key = _signer().unsign(token).partition(".")
        round_id, attempt_id = signing.b62_decode(round_key), signing.b62_decode(attempt_key)
    except (signing.BadSignature, ValueError):
        return None
    return (
        RoundResult.objects.select_related("participant", "unit", "round__contest")
        .filter(round_id=round_id, attempt_id=attempt_id, round__results_published=True)
        .exclude(prize="")
        .first()
    )


@login_required
@require_POST
def round_export(request, pk):
    """Start the export of the round's whole ranking as a task; its page shows the progress and the file."""
    round_ = get_round(request, pk)
    run = start_task(
        export_ranking,
        kind="contests.export_ranking",
        owner=request.user,
        unit=round_.contest.organiser,
        title=_("Ranking of {round} — {contest}").format(round=round_, contest=round_.contest),
        user_id=request.user.pk,
        round_id=round_.pk,
    )
    return redirect("core:task_detail", run.pk)


@login_required
def certificate_pdf(request, pk, position):
    result = get_object_or_404(
        RoundResult.objects.filter(round__contest__in=Contest.objects.restrict(request.user, VIEW_CONTESTS))
        .exclude(prize="")
        .select_related("participant", "unit__parent", "round__contest__organiser"),
        round_id=pk,
        position=position,
    )
    if not result.round.results_published:
        # Its QR vouches for the prize only once the results are official.
        messages.error(request, _("Certificates are made once the round's results are published."))
        return redirect("contests:round_results", pk)
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
