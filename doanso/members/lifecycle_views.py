"""Pages of the member lifecycle: admissions, transfers (and the letter and its public check), temporary
attachments, the yearly rating table, discipline, graduation, the end of membership and positions.

Every page reaches its object through the user's scope (404 otherwise) and writes through one service of
``services/lifecycle.py``. Operation forms have two steps, as in the unit pages: a preview that writes nothing,
then a confirmation that runs the service.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from doanso.accounts.roles import MANAGE_MEMBERS, VIEW_MEMBERS
from doanso.accounts.scope import can, can_anywhere, scope_q
from doanso.core.forms import preview_or_run
from doanso.core.pdf import pdf_response, render_pdf
from doanso.core.qr import qr_svg_data_uri
from doanso.core.text import fold
from doanso.org.models import Unit

from . import lifecycle_forms as forms
from .models import (
    Admission,
    DisciplineLevel,
    Member,
    MemberStatus,
    Position,
    RatingLevel,
    TemporaryAttachment,
    Transfer,
)
from .services import lifecycle

# The letter check may be cached briefly: a cancellation shows within five minutes.
VERIFY_MAX_AGE = 300


def d(value: datetime.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


# --- reaching objects through the scope -----------------------------------------------------------------------


def get_unit(request, pk, action: str = MANAGE_MEMBERS) -> Unit:
    return get_object_or_404(Unit.objects.restrict(request.user, action).select_related("parent"), pk=pk)


def get_member(request, pk, action: str = MANAGE_MEMBERS) -> Member:
    return get_object_or_404(Member.objects.restrict(request.user, action).select_related("unit__parent"), pk=pk)


def admissions_for(user, action: str = VIEW_MEMBERS):
    return Admission.objects.filter(scope_q(user, action, "unit"))


def transfers_for(user):
    """Transfers the user's units send or receive."""
    return Transfer.objects.filter(
        scope_q(user, MANAGE_MEMBERS, "from_unit") | scope_q(user, MANAGE_MEMBERS, "to_unit")
    ).select_related("member", "from_unit", "to_unit")


def member_url(member: Member) -> str:
    return reverse("members:member_detail", args=[member.pk])


def page(request, template: str, title: str, **context):
    return render(request, f"members/lifecycle/{template}", {"title": title, **context})


def form_page(request, title: str, form, *, back: str, preview=None, intro: str = "", confirm: str = "", **extra):
    return page(
        request,
        "form.html",
        title,
        form=form,
        back_url=back,
        preview=preview,
        intro=intro,
        confirm_label=confirm or _("Confirm"),
        **extra,
    )


# --- the buttons other pages show -----------------------------------------------------------------------------


def member_actions(user, member: Member) -> list[tuple[str, str]]:
    """(label, url) of the lifecycle steps ``user`` may take for ``member``, for the member's page."""
    actions: list[tuple[str, str]] = []
    manages = can(user, MANAGE_MEMBERS, member.unit)
    pk = member.pk
    if member.status == MemberStatus.ACTIVE and manages:
        actions += [
            (_("Transfer"), reverse("members:transfer_send", args=[pk])),
            (_("Temporary attachment"), reverse("members:attachment_add", args=[pk])),
            (_("Discipline"), reverse("members:discipline_add", args=[pk])),
            (_("Add a position"), reverse("members:position_add", args=[pk])),
        ]
        limit = lifecycle.rule("member_age_limit")
        if lifecycle.age_in_year(member, timezone.localdate().year) > limit:
            actions.append((_("Keep past the age limit"), reverse("members:graduation_keep", args=[pk])))
    if member.status == MemberStatus.TRANSFERRING:
        transfer = member.transfers.filter(status=Transfer.Status.SENT).select_related("from_unit", "to_unit").first()
        if transfer is not None:
            actions += transfer_actions(user, transfer)
    if member.status in (MemberStatus.ACTIVE, MemberStatus.TRANSFERRING) and manages:
        actions.append((_("End of membership"), reverse("members:end_membership", args=[pk])))
        for attachment in member.attachments.filter(Q(end__isnull=True) | Q(end__gt=timezone.localdate())):
            actions.append(
                (
                    _("End the attachment to {unit}").format(unit=attachment.unit.name),
                    reverse("members:attachment_end", args=[attachment.pk]),
                )
            )
    if member.status == MemberStatus.ACTIVE:
        for position in member.positions.filter(end__isnull=True).select_related("unit"):
            if can(user, MANAGE_MEMBERS, position.unit):
                actions.append(
                    (
                        _("End the position: {title}").format(title=position.title),
                        reverse("members:position_end", args=[position.pk]),
                    )
                )
    return actions


def transfer_actions(user, transfer: Transfer) -> list[tuple[str, str]]:
    actions: list[tuple[str, str]] = []
    if transfer.status != Transfer.Status.SENT:
        return actions
    if transfer.to_unit is not None and can(user, MANAGE_MEMBERS, transfer.to_unit):
        actions.append((_("Receive the transfer"), reverse("members:transfer_receive", args=[transfer.pk])))
    if transfer.to_unit is None and can(user, MANAGE_MEMBERS, transfer.from_unit):
        actions.append((_("Transfer letter (PDF)"), reverse("members:transfer_letter", args=[transfer.pk])))
        actions.append(
            (_("Received by the other province"), reverse("members:transfer_received_elsewhere", args=[transfer.pk]))
        )
    if lifecycle.may_cancel(user, transfer):
        actions.append((_("Cancel the transfer"), reverse("members:transfer_cancel", args=[transfer.pk])))
    return actions


def unit_actions(user, unit: Unit) -> list[tuple[str, str]]:
    """(label, url) of the lifecycle pages of ``unit`` that ``user`` may open, for the unit's pages."""
    actions = []
    if can(user, VIEW_MEMBERS, unit):
        actions.append((_("Admissions"), reverse("members:admission_list", args=[unit.pk])))
    if can(user, MANAGE_MEMBERS, unit) and unit.is_active:
        actions.append((_("Transfers to receive"), reverse("members:transfer_inbox")))
        actions.append((_("Annual rating"), reverse("members:rating_bulk", args=[unit.pk])))
        actions.append((_("Graduation"), reverse("members:graduation_list", args=[unit.pk])))
    return actions


# --- admission ------------------------------------------------------------------------------------------------


@login_required
def admission_list(request, pk):
    unit = get_unit(request, pk, VIEW_MEMBERS)
    show_closed = request.GET.get("all") == "1"
    admissions = (
        admissions_for(request.user)
        .filter(unit__path__startswith=unit.path)
        .select_related("unit", "introducer", "member")
        .order_by("-created_at")
    )
    if not show_closed:
        admissions = admissions.exclude(stage__in=[Admission.Stage.APPROVED, Admission.Stage.REJECTED])
    return page(
        request,
        "admission_list.html",
        _("Admissions in {unit}").format(unit=unit.name),
        unit=unit,
        admissions=admissions[:200],
        show_closed=show_closed,
        can_start=can(request.user, MANAGE_MEMBERS, unit) and unit.is_active,
    )


@login_required
def admission_start(request, pk):
    unit = get_unit(request, pk)
    form = forms.AdmissionStartForm(request.POST or None, user=request.user, unit=unit)

    def preview():
        branch, data = form.cleaned_data["branch"], form.applicant()
        lifecycle.check_start_admission(branch, data)
        return [
            _("{name}, born {date}, becomes a candidate of {branch}.").format(
                name=" ".join(p for p in (data.family_name, data.middle_name, data.given_name) if p),
                date=d(data.date_of_birth),
                branch=branch.name,
            ),
            _("Next: the union course, the introduction, the branch vote, then confirmation by {superior}.").format(
                superior=branch.parent.name if branch.parent_id else "—"
            ),
        ]

    def run():
        admission = lifecycle.start_admission(form.cleaned_data["branch"], form.applicant(), actor=request.user)
        messages.success(request, _("The admission file of {name} was opened.").format(name=admission))
        return redirect("members:admission_detail", admission.pk)

    response, lines = preview_or_run(request, form, preview, run, {"unit": "branch"})
    return response or form_page(
        request,
        _("New admission in {unit}").format(unit=unit.name),
        form,
        back=reverse("members:admission_list", args=[unit.pk]),
        preview=lines,
        intro=_("Admission is open from 15 years and one day to 30 years of age on the day of the branch vote."),
    )


ADMISSION_STEPS = {
    Admission.Stage.CANDIDATE: "course",
    Admission.Stage.COURSE_DONE: "introduction",
    Admission.Stage.INTRODUCED: "vote",
    Admission.Stage.VOTED: "approve",
}


@login_required
def admission_detail(request, pk):
    admission = get_object_or_404(
        admissions_for(request.user).select_related("unit__parent", "introducer", "approved_by", "member"), pk=pk
    )
    step = ADMISSION_STEPS.get(admission.stage)
    is_open = step is not None
    may_act = can(request.user, MANAGE_MEMBERS, admission.unit)
    # Confirmation belongs to the union directly above the branch.
    may_step = can(request.user, MANAGE_MEMBERS, admission.unit.parent) if step == "approve" else may_act
    posted = request.POST.get("step")
    if request.method == "POST" and not ((posted == step and may_step) or (posted == "reject" and may_act)):
        raise Http404
    form = reject_form = None
    lines = None
    if step is not None and may_step:
        form, preview, run = admission_step(request, admission, step)
        response, lines = preview_or_run(request, form, preview, run) if posted == step else (None, None)
        if response:
            return response
    if is_open and may_act:
        reject_form = forms.ReasonForm(request.POST if posted == "reject" else None, prefix="reject")

        def reject_preview():
            lifecycle.check_rejection(admission, reject_form.cleaned_data["reason"])
            return [_("The file of {name} is closed without admission.").format(name=admission)]

        def reject_run():
            lifecycle.reject_admission(admission, actor=request.user, reason=reject_form.cleaned_data["reason"])
            messages.success(request, _("The file was closed."))
            return redirect("members:admission_detail", admission.pk)

        response, reject_lines = (
            preview_or_run(request, reject_form, reject_preview, reject_run) if posted == "reject" else (None, None)
        )
        if response:
            return response
        if reject_lines:
            lines = reject_lines
    return page(
        request,
        "admission_detail.html",
        str(admission),
        admission=admission,
        step=step,
        form=form,
        reject_form=reject_form,
        preview=lines,
        preview_step=posted,
        stages=admission_stages(admission),
    )


def admission_stages(admission: Admission) -> list[tuple[str, bool]]:
    order = [*ADMISSION_STEPS, Admission.Stage.APPROVED]
    reached = order.index(Admission.Stage(admission.stage)) if admission.stage in order else -1
    return [(str(Admission.Stage(stage).label), i <= reached) for i, stage in enumerate(order)]


def admission_step(request, admission: Admission, step: str):
    """The form of the admission's next step, with its preview and its run."""
    data = request.POST if request.POST.get("step") == step else None
    back = redirect("members:admission_detail", admission.pk)
    superior = admission.unit.parent.name if admission.unit.parent is not None else ""
    form: forms.forms.Form

    def done(message):
        messages.success(request, message)
        return back

    if step == "course":
        form = forms.CourseForm(data)

        def preview():
            lifecycle.check_course(admission, form.cleaned_data["completed_on"])
            return [_("Completed the union course on {date}.").format(date=d(form.cleaned_data["completed_on"]))]

        def run():
            lifecycle.record_course(admission, actor=request.user, completed_on=form.cleaned_data["completed_on"])
            return done(_("The union course was recorded."))

    elif step == "introduction":
        form = forms.IntroductionForm(data, branch=admission.unit)

        def preview():
            c = form.cleaned_data
            lifecycle.check_introduction(admission, c["on"], c["introducer"], c["known_since"], c["collective"])
            if c["introducer"]:
                return [
                    _("Introduced by {member}, who has known the applicant since {date}.").format(
                        member=c["introducer"].full_name, date=d(c["known_since"])
                    )
                ]
            return [_("Introduced collectively by {collective}.").format(collective=c["collective"])]

        def run():
            c = form.cleaned_data
            lifecycle.record_introduction(
                admission,
                actor=request.user,
                introducer=c["introducer"],
                known_since=c["known_since"],
                collective=c["collective"],
                on=c["on"],
            )
            return done(_("The introduction was recorded."))

    elif step == "vote":
        form = forms.VoteForm(data)

        def preview():
            c = form.cleaned_data
            lifecycle.check_vote(admission, c["vote_on"], c["votes_present"], c["votes_for"])
            passes = lifecycle.vote_passes(c["votes_present"], c["votes_for"])
            return [
                _("{n} of {m} members present voted for.").format(n=c["votes_for"], m=c["votes_present"]),
                _("More than half: the branch admits; {superior} confirms next.").format(superior=superior)
                if passes
                else _("Not more than half: the applicant is not admitted and the file closes."),
            ]

        def run():
            c = form.cleaned_data
            result = lifecycle.record_branch_vote(
                admission,
                actor=request.user,
                vote_on=c["vote_on"],
                present=c["votes_present"],
                votes_for=c["votes_for"],
            )
            return done(
                _("The vote was recorded: admitted by the branch.")
                if result.stage == Admission.Stage.VOTED
                else _("The vote was recorded: not admitted.")
            )

    else:
        form = forms.ApproveForm(data)

        def preview():
            lifecycle.check_approval(admission, form.cleaned_data["approved_on"])
            return [
                _("{superior} confirms the admission on {date}.").format(
                    superior=superior, date=d(form.cleaned_data["approved_on"])
                ),
                _("{name} becomes a member of {branch}, joined on that day.").format(
                    name=admission, branch=admission.unit.name
                ),
            ]

        def run():
            member = lifecycle.approve_admission(
                admission, actor=request.user, approved_on=form.cleaned_data["approved_on"]
            )
            messages.success(request, _("{name} is now a member.").format(name=member.full_name))
            return redirect(member_url(member))

    return form, preview, run


# --- transfer -------------------------------------------------------------------------------------------------


@login_required
def transfer_send(request, pk):
    member = get_member(request, pk)
    form = forms.TransferSendForm(request.POST or None)

    def preview():
        c = form.cleaned_data
        where = form.destination_kwargs()
        lifecycle.check_send_transfer(member, where["to_unit"], where["destination"], c["sent_on"], c["assessment"])
        to = where["to_unit"].name if where["to_unit"] else where["destination"]
        lines = [
            _("{name} is sent from {unit} to {to} on {date}.").format(
                name=member.full_name, unit=member.unit.name, to=to, date=d(c["sent_on"])
            ),
            _("{unit} keeps the file until it is received; the member shows as being transferred.").format(
                unit=member.unit.name
            ),
        ]
        if where["to_unit"] is None:
            lines.append(_("A letter with a verification code is issued for the member to take along."))
        return lines

    def run():
        c = form.cleaned_data
        transfer = lifecycle.send_transfer(
            member,
            actor=request.user,
            sent_on=c["sent_on"],
            assessment=c["assessment"],
            dues_paid_until=c["dues_paid_until"],
            **form.destination_kwargs(),
        )
        messages.success(request, _("The transfer was sent."))
        return redirect(member_url(transfer.member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("Transfer {name}").format(name=member.full_name),
        form,
        back=member_url(member),
        preview=lines,
        confirm=_("Send the transfer"),
        member=member,
        province_picker=True,
    )


@login_required
def transfer_inbox(request):
    if not can_anywhere(request.user, MANAGE_MEMBERS):
        raise Http404
    waiting = Transfer.objects.filter(status=Transfer.Status.SENT).select_related("member", "from_unit", "to_unit")
    incoming = waiting.filter(scope_q(request.user, MANAGE_MEMBERS, "to_unit")).order_by("sent_on", "id")
    outgoing = waiting.filter(scope_q(request.user, MANAGE_MEMBERS, "from_unit")).order_by("sent_on", "id")
    return page(
        request,
        "transfer_inbox.html",
        _("Transfers"),
        incoming=incoming[:200],
        outgoing=outgoing[:200],
    )


@login_required
def transfer_receive(request, pk):
    transfer = get_object_or_404(
        Transfer.objects.filter(scope_q(request.user, MANAGE_MEMBERS, "to_unit")).select_related(
            "member", "from_unit", "to_unit"
        ),
        pk=pk,
    )
    form = forms.TransferReceiveForm(request.POST or None, transfer=transfer)

    def place():
        return form.cleaned_data["place_in"] or transfer.to_unit

    def preview():
        lifecycle.check_receive(transfer, form.cleaned_data["received_on"], place())
        return [
            _("{name} joins {unit} on {date}, coming from {origin}.").format(
                name=transfer.member.full_name,
                unit=place().name,
                date=d(form.cleaned_data["received_on"]),
                origin=transfer.from_unit.name,
            ),
            _("The member's file is held by {unit} from then on.").format(unit=place().name),
        ]

    def run():
        member = lifecycle.receive_transfer(
            transfer, actor=request.user, received_on=form.cleaned_data["received_on"], place_in=place()
        )
        messages.success(request, _("{name} was received.").format(name=member.full_name))
        return redirect(member_url(member))

    response, lines = preview_or_run(request, form, preview, run, {"transfer": "__all__"})
    return response or form_page(
        request,
        _("Receive {name}").format(name=transfer.member.full_name),
        form,
        back=reverse("members:transfer_inbox"),
        preview=lines,
        confirm=_("Receive"),
        transfer=transfer,
        unit_picker=True,
    )


@login_required
def transfer_cancel(request, pk):
    transfer = get_object_or_404(transfers_for(request.user), pk=pk)
    form = forms.TransferCancelForm(request.POST or None)

    def preview():
        lifecycle.check_cancel(transfer, form.cleaned_data["on"])
        return [
            _("The transfer of {name} is called off; {unit} keeps the file and the member is active there.").format(
                name=transfer.member.full_name, unit=transfer.from_unit.name
            )
        ] + ([_("The letter stops being valid.")] if transfer.to_unit is None else [])

    def run():
        lifecycle.cancel_transfer(
            transfer, actor=request.user, on=form.cleaned_data["on"], reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("The transfer was cancelled."))
        return redirect("members:transfer_inbox")

    response, lines = preview_or_run(request, form, preview, run, {"transfer": "__all__"})
    return response or form_page(
        request,
        _("Cancel the transfer of {name}").format(name=transfer.member.full_name),
        form,
        back=reverse("members:transfer_inbox"),
        preview=lines,
        confirm=_("Cancel the transfer"),
        transfer=transfer,
    )


@login_required
def transfer_received_elsewhere(request, pk):
    transfer = get_object_or_404(
        Transfer.objects.filter(
            scope_q(request.user, MANAGE_MEMBERS, "from_unit"), to_unit__isnull=True
        ).select_related("member", "from_unit"),
        pk=pk,
    )
    form = forms.TransferOutForm(request.POST or None)

    def preview():
        lifecycle.check_transfer_out(transfer, form.cleaned_data["received_on"])
        return [
            _("{destination} received {name} on {date}.").format(
                destination=transfer.destination,
                name=transfer.member.full_name,
                date=d(form.cleaned_data["received_on"]),
            ),
            _("The member's file leaves the province; the record stays, ended, with its history."),
        ]

    def run():
        member = lifecycle.record_transfer_out(
            transfer, actor=request.user, received_on=form.cleaned_data["received_on"], note=form.cleaned_data["note"]
        )
        messages.success(request, _("The transfer was closed."))
        return redirect(member_url(member))

    response, lines = preview_or_run(request, form, preview, run, {"transfer": "__all__"})
    return response or form_page(
        request,
        _("{name} received outside the province").format(name=transfer.member.full_name),
        form,
        back=member_url(transfer.member),
        preview=lines,
        transfer=transfer,
    )


def verify_url(request, transfer: Transfer) -> str:
    return request.build_absolute_uri(reverse("members:transfer_verify", args=[transfer.verification_code]))


def grouped(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to read aloud and to copy from paper."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@login_required
def transfer_letter(request, pk):
    """Giấy giới thiệu sinh hoạt Đoàn: the letter a member takes to a union outside the province."""
    transfer = get_object_or_404(
        Transfer.objects.filter(scope_q(request.user, MANAGE_MEMBERS, "from_unit"), to_unit__isnull=True)
        .exclude(status=Transfer.Status.CANCELLED)
        .select_related("member", "from_unit__parent", "from_unit__division__province"),
        pk=pk,
    )
    url = verify_url(request, transfer)
    division = transfer.from_unit.division
    context = {
        "transfer": transfer,
        "member": transfer.member,
        "code": grouped(transfer.verification_code),
        "verify_url": url,
        # Printed for whoever cannot scan: a short address where the code is typed.
        "lookup_url": request.build_absolute_uri(reverse("members:transfer_verify_lookup")),
        "qr": qr_svg_data_uri(url),
        "place": (division.province.name if division and division.province else division.name) if division else "",
    }
    content = render_pdf("members/lifecycle/transfer_letter.html", context, request=request)
    filename = f"giay-gioi-thieu-{slugify(fold(transfer.member.full_name)) or transfer.member.pk}.pdf"
    return pdf_response(content, filename)


@require_GET
@cache_control(public=True, max_age=VERIFY_MAX_AGE)
def transfer_verify(request, code):
    """Public: whoever holds a letter may check it. Shows only the name, where from, where to, the date and
    whether the letter is valid; nothing else about the member."""
    code = lifecycle.normalise_code(code)
    transfer = (
        Transfer.objects.filter(verification_code=code, to_unit__isnull=True)
        .select_related("member", "from_unit")
        .first()
        if len(code) == lifecycle.CODE_LENGTH
        else None
    )
    context = {"transfer": transfer, "code": grouped(code)}
    return render(request, "members/lifecycle/transfer_verify.html", context, status=200 if transfer else 404)


@require_GET
def transfer_verify_lookup(request):
    """Public: the letter's code typed by hand leads to its check."""
    code = lifecycle.normalise_code(request.GET.get("code", ""))
    if code:
        return redirect("members:transfer_verify", code)
    return render(request, "members/lifecycle/transfer_verify.html", {"lookup": True})


@login_required
def transfer_unit_suggest(request):
    """Suggestions for the receiving or host unit: any active unit of the province, not only the user's."""
    if not can_anywhere(request.user, MANAGE_MEMBERS):
        raise Http404
    words = fold(request.GET.get("q", "")).split()
    units = Unit.objects.none()
    if words:
        units = forms.province_units()
        for word in words[:6]:
            units = units.filter(search_name__contains=word)
        units = units.order_by("depth", "search_name")[:15]
    return render(request, "org/partials/unit_options.html", {"units": units})


# --- temporary attachment -------------------------------------------------------------------------------------


@login_required
def attachment_add(request, pk):
    member = get_member(request, pk)
    form = forms.AttachmentForm(request.POST or None)

    def preview():
        c = form.cleaned_data
        lifecycle.check_attachment(member, c["unit"], c["start"], c["end"])
        return [
            _("{name} also takes part in {host} from {start}{until}.").format(
                name=member.full_name,
                host=c["unit"].name,
                start=d(c["start"]),
                until=_(" until {date}").format(date=d(c["end"])) if c["end"] else "",
            ),
            _("{unit} keeps the file.").format(unit=member.unit.name),
        ]

    def run():
        c = form.cleaned_data
        lifecycle.attach_temporarily(
            member, c["unit"], actor=request.user, start=c["start"], end=c["end"], reason=c["reason"]
        )
        messages.success(request, _("The temporary attachment was recorded."))
        return redirect(member_url(member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("Temporary attachment of {name}").format(name=member.full_name),
        form,
        back=member_url(member),
        preview=lines,
        member=member,
        province_picker=True,
    )


@login_required
def attachment_end(request, pk):
    attachment = get_object_or_404(
        TemporaryAttachment.objects.filter(
            scope_q(request.user, MANAGE_MEMBERS, "member__unit") | scope_q(request.user, MANAGE_MEMBERS, "unit")
        ).select_related("member__unit", "unit"),
        pk=pk,
    )
    form = forms.EndDateForm(request.POST or None)

    def preview():
        lifecycle.check_end_attachment(attachment, form.cleaned_data["end"])
        return [
            _("{name} stops taking part in {host} on {date}.").format(
                name=attachment.member.full_name, host=attachment.unit.name, date=d(form.cleaned_data["end"])
            )
        ]

    def run():
        lifecycle.end_attachment(attachment, actor=request.user, end=form.cleaned_data["end"])
        messages.success(request, _("The temporary attachment ended."))
        return redirect(member_url(attachment.member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("End the attachment of {name} to {host}").format(name=attachment.member.full_name, host=attachment.unit.name),
        form,
        back=member_url(attachment.member),
        preview=lines,
    )


# --- annual rating --------------------------------------------------------------------------------------------


def chosen_year(request) -> int:
    year_form = forms.YearForm(request.GET)
    return year_form.cleaned_data["year"] if year_form.is_valid() else timezone.localdate().year


@login_required
def rating_bulk(request, pk):
    """The branch's table for one year: a level per member, saved in one go."""
    unit = get_unit(request, pk)
    year = chosen_year(request)
    members = list(lifecycle.rateable_members(unit).order_by("sort_name", "pk"))
    existing = {r.member_id: r for r in unit_ratings(members, year)}
    initial = {}
    for member_id, rating in existing.items():
        initial.update(
            {
                f"level_{member_id}": rating.level,
                f"participation_{member_id}": rating.participation,
                f"note_{member_id}": rating.note,
            }
        )
    form = forms.RatingTableForm(request.POST or None, members=members, initial=initial)

    def preview():
        entries = form.entries()
        lifecycle.check_ratings(unit, year, entries)
        new = sum(1 for m in entries if m.pk not in existing)
        changed = sum(
            1
            for m, e in entries.items()
            if m.pk in existing
            and (existing[m.pk].level, existing[m.pk].participation, existing[m.pk].note)
            != (e.level, e.participation, e.note)
        )
        counts = dict.fromkeys(RatingLevel.values, 0)
        for entry in entries.values():
            counts[entry.level] += 1
        return [
            ngettext("{n} new rating for {year}.", "{n} new ratings for {year}.", new).format(n=new, year=year),
            ngettext("{n} correction of an earlier rating.", "{n} corrections of earlier ratings.", changed).format(
                n=changed
            ),
            ", ".join(f"{RatingLevel(level).label}: {n}" for level, n in counts.items()),
        ]

    def run():
        counts = lifecycle.rate_members(unit, year, form.entries(), actor=request.user)
        messages.success(
            request,
            _("Ratings saved: {created} new, {corrected} corrected.").format(
                created=counts["created"], corrected=counts["corrected"]
            ),
        )
        return redirect(f"{reverse('members:rating_bulk', args=[unit.pk])}?year={year}")

    response, lines = preview_or_run(request, form, preview, run)
    return response or page(
        request,
        "rating_bulk.html",
        _("Annual rating {year} — {unit}").format(year=year, unit=unit.name),
        unit=unit,
        year=year,
        years=forms.year_choices(timezone.localdate().year),
        form=form,
        preview=lines,
        min_participation=lifecycle.rule("excellent_min_participation"),
    )


def unit_ratings(members, year):
    from .models import AnnualRating

    return AnnualRating.objects.filter(member__in=[m.pk for m in members], year=year)


# --- discipline -----------------------------------------------------------------------------------------------


@login_required
def discipline_add(request, pk):
    member = get_member(request, pk)
    form = forms.DisciplineForm(request.POST or None, user=request.user, member=member)

    def preview():
        c = form.cleaned_data
        lifecycle.check_discipline(member, c["level"], c["decided_by"], c["decided_on"], c["reason"])
        lines = [
            _("{level} of {name}, decided by {unit} on {date}.").format(
                level=DisciplineLevel(c["level"]).label,
                name=member.full_name,
                unit=c["decided_by"].name,
                date=d(c["decided_on"]),
            )
        ]
        if c["level"] == DisciplineLevel.EXPULSION:
            lines.append(_("Expulsion ends membership; the record stays with its history."))
        if c["level"] in (DisciplineLevel.EXPULSION, DisciplineLevel.DISMISSAL):
            lines.append(_("The positions the member holds end on that day."))
        return lines

    def run():
        c = form.cleaned_data
        lifecycle.discipline_member(
            member,
            actor=request.user,
            level=c["level"],
            decided_by=c["decided_by"],
            decided_on=c["decided_on"],
            reason=c["reason"],
        )
        messages.success(request, _("The discipline was recorded."))
        return redirect(member_url(member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("Discipline {name}").format(name=member.full_name),
        form,
        back=member_url(member),
        preview=lines,
        intro=_("Decided by secret ballot. A warning, dismissal or expulsion is decided by the union directly above."),
        danger=True,
        member=member,
    )


# --- graduation -----------------------------------------------------------------------------------------------


def graduation_context(request, unit: Unit, year: int, form=None, preview=None):
    listing = lifecycle.graduation_candidates(unit, year)
    choices = [row.member for row in listing.due + listing.kept]
    form = form or forms.GraduateForm(choices=choices, initial={"members": [row.member.pk for row in listing.due]})
    return {
        "unit": unit,
        "year": year,
        "years": forms.year_choices(timezone.localdate().year),
        "listing": listing,
        "form": form,
        "preview": preview,
        "limit": lifecycle.rule("member_age_limit"),
        "cap": lifecycle.rule("extended_age_limit"),
        "can_keep": True,
    }


@login_required
def graduation_list(request, pk):
    unit = get_unit(request, pk)
    year = chosen_year(request)
    context = graduation_context(request, unit, year)
    return page(
        request, "graduation_list.html", _("Graduation {year} — {unit}").format(year=year, unit=unit.name), **context
    )


@login_required
@require_POST
def graduate(request, pk):
    unit = get_unit(request, pk)
    year = chosen_year(request)
    listing = lifecycle.graduation_candidates(unit, year)
    form = forms.GraduateForm(request.POST, choices=[row.member for row in listing.due + listing.kept])

    def preview():
        chosen = list(form.cleaned_data["members"])
        lifecycle.check_graduation(chosen, form.cleaned_data["ceremony_on"])
        return [
            ngettext(
                "{n} member graduates at the ceremony of {date}:",
                "{n} members graduate at the ceremony of {date}:",
                len(chosen),
            ).format(n=len(chosen), date=d(form.cleaned_data["ceremony_on"])),
            ", ".join(m.full_name for m in chosen),
            _("Their membership ends; their records stay with their history."),
        ]

    def run():
        count = lifecycle.graduate_members(
            form.cleaned_data["members"], actor=request.user, ceremony_on=form.cleaned_data["ceremony_on"]
        )
        messages.success(request, ngettext("{n} member graduated.", "{n} members graduated.", count).format(n=count))
        return redirect(f"{reverse('members:graduation_list', args=[unit.pk])}?year={year}")

    response, lines = preview_or_run(request, form, preview, run)
    if response:
        return response
    context = graduation_context(request, unit, year, form=form, preview=lines)
    return page(
        request, "graduation_list.html", _("Graduation {year} — {unit}").format(year=year, unit=unit.name), **context
    )


@login_required
def graduation_keep(request, pk):
    member = get_member(request, pk)
    form = forms.KeepForm(request.POST or None)
    on = timezone.localdate()

    def preview():
        lifecycle.check_keep(member, on, form.cleaned_data["reason"])
        return [
            _("{unit} keeps {name} past the age limit, at most until the year they turn {cap}.").format(
                unit=member.unit.name, name=member.full_name, cap=lifecycle.rule("extended_age_limit")
            )
        ]

    def run():
        lifecycle.keep_member(member, actor=request.user, reason=form.cleaned_data["reason"], on=on)
        messages.success(request, _("The decision was recorded."))
        return redirect(member_url(member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("Keep {name} past the age limit").format(name=member.full_name),
        form,
        back=member_url(member),
        preview=lines,
        member=member,
    )


# --- end of membership ----------------------------------------------------------------------------------------


@login_required
def end_membership(request, pk):
    member = get_member(request, pk)
    form = forms.EndMembershipForm(request.POST or None)

    def preview():
        c = form.cleaned_data
        kind, on, reason = c["kind"], c["on"], c["reason"]
        if kind == form.STRIKE_OFF:
            lifecycle.check_strike_off(member, on, reason, c["months_missed"] or 0)
            what = _("{name} is struck off on {date}.")
        elif kind == form.RESIGNATION:
            lifecycle.check_end(member, on, reason)
            what = _("{name} leaves the union on {date}.")
        else:
            lifecycle.check_death(member, on)
            what = _("{name} died on {date}.")
        return [
            what.format(name=member.full_name, date=d(on)),
            _("Membership ends; the record stays with its history. Positions and attachments end that day."),
        ]

    def run():
        c = form.cleaned_data
        kind, on, reason = c["kind"], c["on"], c["reason"]
        if kind == form.STRIKE_OFF:
            lifecycle.strike_off(
                member, actor=request.user, reason=reason, months_missed=c["months_missed"] or 0, on=on
            )
        elif kind == form.RESIGNATION:
            lifecycle.record_resignation(member, actor=request.user, reason=reason, on=on)
        else:
            lifecycle.record_death(member, actor=request.user, on=on, note=reason)
        messages.success(request, _("The end of membership was recorded."))
        return redirect(member_url(member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("End of membership — {name}").format(name=member.full_name),
        form,
        back=member_url(member),
        preview=lines,
        danger=True,
        member=member,
    )


# --- positions ------------------------------------------------------------------------------------------------


@login_required
def position_add(request, pk):
    member = get_member(request, pk)
    form = forms.PositionForm(request.POST or None, user=request.user, member=member)

    def preview():
        c = form.cleaned_data
        lifecycle.check_position(member, c["title"], c["unit"], c["start"])
        lines = [
            _("{name}: {title} at {unit} from {date}.").format(
                name=member.full_name, title=c["title"], unit=c["unit"].name, date=d(c["start"])
            )
        ]
        if c["keeps_membership"]:
            lines.append(_("While in this position the member is not listed for graduation."))
        return lines

    def run():
        c = form.cleaned_data
        lifecycle.add_position(
            member,
            actor=request.user,
            title=c["title"],
            unit=c["unit"],
            start=c["start"],
            keeps_membership=c["keeps_membership"],
        )
        messages.success(request, _("The position was recorded."))
        return redirect(member_url(member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("Add a position — {name}").format(name=member.full_name),
        form,
        back=member_url(member),
        preview=lines,
        member=member,
        unit_picker=True,
    )


@login_required
def position_end(request, pk):
    position = get_object_or_404(
        Position.objects.filter(scope_q(request.user, MANAGE_MEMBERS, "unit")).select_related("member", "unit"),
        pk=pk,
    )
    form = forms.EndDateForm(request.POST or None)

    def preview():
        lifecycle.check_end_position(position, form.cleaned_data["end"])
        return [
            _("{name} leaves the position {title} on {date}.").format(
                name=position.member.full_name, title=position.title, date=d(form.cleaned_data["end"])
            )
        ]

    def run():
        lifecycle.end_position(position, actor=request.user, end=form.cleaned_data["end"])
        messages.success(request, _("The position ended."))
        return redirect(member_url(position.member))

    response, lines = preview_or_run(request, form, preview, run)
    return response or form_page(
        request,
        _("End the position {title} — {name}").format(title=position.title, name=position.member.full_name),
        form,
        back=member_url(position.member),
        preview=lines,
    )
