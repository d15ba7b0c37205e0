"""Background work of the contests module: the Excel export of a round's whole ranking (hundreds of thousands
of rows are minutes of work, not a request)."""

import datetime
import io

from django.tasks import task
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from doanso.accounts.models import User
from doanso.core import audit
from doanso.core.tasks import Progress, tracked
from doanso.core.text import duration_text, fold
from doanso.members.privacy import mask_phone

from .models import Round
from .services import results


def _date(value) -> str:
    if isinstance(value, str):  # SQLite hands raw dates over as text
        value = datetime.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def _moment(value) -> str:
    if isinstance(value, str):
        value = parse_datetime(value.replace(" ", "T"))
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M:%S")


@task
@tracked
def export_ranking(progress: Progress, *, user_id: int, round_id: int) -> dict:
    """The round's whole ranking as XLSX, phones masked; an access record notes the export (personal data)."""
    from openpyxl import Workbook

    user = User.objects.get(pk=user_id)
    round_ = Round.objects.select_related("contest__organiser").get(pk=round_id)
    total = results.participants_ranked(round_)
    progress.start(total, _("Writing the ranking of {n} participants").format(n=total))
    prizes = dict(results.RoundResult.objects.filter(round=round_).exclude(prize="").values_list("position", "prize"))
    labels = dict(results.RoundResult._meta.get_field("prize").choices)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Ranking")[:31])
    sheet.append(
        [
            pgettext("ranking", "Position"),
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
    count = 0
    for position, rank, name, born, phone, unit, correct, distance, duration, submitted in results.ranking_rows(round_):
        count += 1
        sheet.append(
            [
                position,
                rank,
                name,
                _date(born),
                mask_phone(phone),
                unit,
                correct,
                distance,
                duration_text(duration),
                _moment(submitted),
                str(labels.get(prizes.get(position), "")),
            ]
        )
        if count % 5000 == 0:
            progress.advance(count)
    buffer = io.BytesIO()
    book.save(buffer)
    name = slugify(fold(f"xep hang {round_.contest.title} {round_}"))[:80] or "xep-hang"
    progress.attach_result(f"{name}.xlsx", buffer.getvalue())
    audit.record_access(
        actor=user,
        purpose="contests.export_ranking",
        object_type="contests.round",
        object_id=str(round_.pk),
        fields=["full_name", "date_of_birth", "phone"],
        row_count=count,
        unit=round_.contest.organiser,
    )
    return {_("Participants"): count}
