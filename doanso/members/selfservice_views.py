"""Self-service pages: the member's own page, correction requests and their review, data-update campaigns, and
the invitation that opens a member's account."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from doanso.accounts.phones import display_phone
from doanso.accounts.roles import MANAGE_MEMBERS, VIEW_MEMBERS
from doanso.accounts.scope import can, can_anywhere, scope_q
from doanso.core.forms import add_service_errors
from doanso.core.widgets import DateInput
from doanso.org.forms import UnitCodeField
from doanso.org.models import Unit

from .models import CorrectionRequest, DataCampaign, Member, MemberKind
from .privacy import SENSITIVE_FIELDS, can_unmask, mask_email, mask_phone, record_reveal
from .reference import ETHNICITY_CHOICES, RELIGIONS
from .services import selfservice as services

# What the member sees of their own record, in this order.
MY_FIELDS = (
    "family_name",
    "middle_name",
    "given_name",
    "other_names",
    "date_of_birth",
    "sex",
    "ethnicity",
    "religion",
    "citizen_id",
    "phone",
    "email",
    "hometown_address",
    "residence_address",
    "occupation",
    "schooling",
    "qualification",
    "political_theory",
    "foreign_language",
    "it_skill",
    "joined_on",
    "card_number",
)
NOT_CONFIRMED_PER_PAGE = 50


label = services.field_label


def shown(member: Member, name: str, value=None) -> str:
    """A record value the way people read it: choices by their label, dates dd/mm/yyyy, phones 0905 123 456."""
    value = getattr(member, name) if value is None else value
    field = services.record_field(name)
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if name == "phone":
        return display_phone(value) or value
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if name == "date_of_birth":  # an ISO string from a correction request
        return "/".join(reversed(str(value).split("-")))
    return str(value)


# --- The member's own pages -----------------------------------------------------------------------------------


def my_member(request) -> Member | None:
    """The member record of the logged-in user, linking a freshly activated account on first visit."""
    member = Member.objects.select_related("unit").filter(user=request.user).first()
    if member is None:
        member = services.activate_member_account(request.user)
    return member


def require_my_member(request) -> Member:
    member = my_member(request)
    if member is None:
        raise Http404
    return member


@login_required
def my_home(request):
    member = my_member(request)
    if member is None:
        return render(request, "members/selfservice/my_home.html", {"member": None})
    context = {
        "member": member,
        "rows": [(label(name), shown(member, name)) for name in MY_FIELDS],
        "has_card": member.kind == MemberKind.UNION,
        "campaigns": list(services.open_campaigns_for(member)),
        "corrections": member.corrections.select_related("reviewed_by")[:10],
    }
    return render(request, "members/selfservice/my_home.html", context)


class CorrectionForm(forms.Form):
    """The member's record as it is, to edit; only what differs is sent for review."""

    message = forms.CharField(
        label=gettext_lazy("Message to the cadre (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, data=None, *, member: Member):
        initial = {name: getattr(member, name) for name in services.CORRECTABLE_FIELDS}
        initial["phone"] = display_phone(member.phone) or member.phone
        super().__init__(data, initial=initial)
        fields = forms.fields_for_model(Member, fields=services.CORRECTABLE_FIELDS)
        fields["date_of_birth"] = forms.DateField(label=label("date_of_birth"), widget=DateInput())
        ethnicities = list(ETHNICITY_CHOICES)
        religions = [(r, r) for r in RELIGIONS]
        # A value recorded before the lists existed stays choosable, so that an untouched form changes nothing.
        if member.ethnicity and (member.ethnicity, member.ethnicity) not in ethnicities:
            ethnicities.append((member.ethnicity, member.ethnicity))
        if member.religion and member.religion not in RELIGIONS:
            religions.append((member.religion, member.religion))
        fields["ethnicity"] = forms.ChoiceField(
            label=label("ethnicity"), choices=[("", "—"), *ethnicities], required=False
        )
        fields["religion"] = forms.ChoiceField(label=label("religion"), choices=[("", "—"), *religions], required=False)
        fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        fields["email"].widget.attrs.update({"autocomplete": "email"})
        message = self.fields.pop("message")
        self.fields.update({name: fields[name] for name in services.CORRECTABLE_FIELDS})
        self.fields["message"] = message

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in services.CORRECTABLE_FIELDS}


@login_required
def correction_request(request):
    member = require_my_member(request)
    form = CorrectionForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_correction(
                member, actor=request.user, values=form.values(), message=form.cleaned_data["message"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your request was sent. A cadre of your unit will review it."))
            return redirect("members:my_home")
    return render(request, "members/selfservice/correction_form.html", {"form": form, "member": member})


@login_required
@require_POST
def confirm_data(request, pk):
    member = require_my_member(request)
    campaign = get_object_or_404(
        DataCampaign.objects.filter(unit_id__in=services.ancestor_ids(member.unit.path)), pk=pk
    )
    try:
        _confirmation, created = services.confirm_data(campaign, member, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if created:
            messages.success(request, _("Thank you: your data are confirmed."))
        else:
            messages.info(request, _("You had already confirmed your data."))
    return redirect("members:my_home")


# --- Review of correction requests ----------------------------------------------------------------------------


def reviewable(user):
    return CorrectionRequest.objects.filter(scope_q(user, MANAGE_MEMBERS, "member__unit")).select_related(
        "member__unit", "reviewed_by"
    )


STATUS_FILTERS = [
    (CorrectionRequest.Status.PENDING, gettext_lazy("Waiting")),
    (CorrectionRequest.Status.APPROVED, gettext_lazy("Approved")),
    (CorrectionRequest.Status.REJECTED, gettext_lazy("Rejected")),
]


@login_required
def correction_inbox(request):
    if not can_anywhere(request.user, MANAGE_MEMBERS):
        raise Http404
    status = request.GET.get("status", CorrectionRequest.Status.PENDING)
    if status not in CorrectionRequest.Status.values:
        status = CorrectionRequest.Status.PENDING
    qs = reviewable(request.user).filter(status=status)
    qs = qs.order_by("created_at", "pk") if status == CorrectionRequest.Status.PENDING else qs
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    for correction in page:
        correction.field_labels = [label(name) for name in correction.changes]
    return render(
        request,
        "members/selfservice/correction_inbox.html",
        {"page": page, "status": status, "status_filters": STATUS_FILTERS},
    )


def _diff_rows(request, correction: CorrectionRequest) -> list[dict]:
    member = correction.member
    unmasked = can_unmask(request.user, member)
    masks = {"phone": mask_phone, "email": mask_email}
    rows = []
    for name, change in correction.changes.items():
        values = {"old": change["old"], "new": change["new"], "now": services.json_value(getattr(member, name))}
        if name in SENSITIVE_FIELDS and not unmasked:
            mask = masks.get(name, lambda v: "•••")
            display = {k: mask(v) if v else "—" for k, v in values.items()}
        else:
            display = {k: shown(member, name, v) if v not in (None, "") else "—" for k, v in values.items()}
        rows.append({"label": label(name), **display, "changed_since": values["now"] != values["old"]})
    if unmasked and correction.status == CorrectionRequest.Status.PENDING:
        sensitive = [n for n in correction.changes if n in SENSITIVE_FIELDS]
        if sensitive:
            # Reading protected fields is logged (Decree 13/2023), here with the review as the reason.
            record_reveal(
                actor=request.user,
                member=member,
                fields=sensitive,
                reason=_("Review of correction request #{pk}").format(pk=correction.pk),
            )
    return rows


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note to the member"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _correction_page(request, correction, form=None, status=200):
    return render(
        request,
        "members/selfservice/correction_detail.html",
        {
            "correction": correction,
            "rows": _diff_rows(request, correction),
            "form": form or ReviewForm(),
            "is_own": correction.member.user_id == request.user.pk,
        },
        status=status,
    )


@login_required
def correction_detail(request, pk):
    return _correction_page(request, get_object_or_404(reviewable(request.user), pk=pk))


def _review(request, pk, run, done: str):
    correction = get_object_or_404(reviewable(request.user), pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            run(correction, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done.format(name=correction.member.full_name))
            return redirect("members:correction_inbox")
    return _correction_page(request, correction, form, status=400)


@login_required
@require_POST
def correction_approve(request, pk):
    return _review(request, pk, services.approve_correction, _("The record of {name} was corrected."))


@login_required
@require_POST
def correction_reject(request, pk):
    return _review(request, pk, services.reject_correction, _("The request of {name} was rejected."))


# --- Data-update campaigns ------------------------------------------------------------------------------------


@login_required
def campaign_list(request):
    if not can_anywhere(request.user, VIEW_MEMBERS):
        raise Http404
    page = Paginator(services.visible_campaigns(request.user), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "members/campaign_list.html",
        {
            "page": page,
            "today": timezone.localdate(),
            "can_launch": can_anywhere(request.user, MANAGE_MEMBERS),
        },
    )


class CampaignForm(forms.Form):
    unit = UnitCodeField(
        label=gettext_lazy("Unit"), help_text=gettext_lazy("The members of this unit and all units below it confirm.")
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    instructions = forms.CharField(
        label=gettext_lazy("Instructions to members"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    starts_on = forms.DateField(label=gettext_lazy("From"), widget=DateInput(), initial=timezone.localdate)
    deadline = forms.DateField(label=gettext_lazy("Deadline"), widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        unit = self.fields["unit"]
        assert isinstance(unit, UnitCodeField)
        unit.queryset = Unit.objects.restrict(user, MANAGE_MEMBERS).filter(active_to__isnull=True)


@login_required
def campaign_create(request):
    if not can_anywhere(request.user, MANAGE_MEMBERS):
        raise Http404
    first = Unit.objects.restrict(request.user, MANAGE_MEMBERS).filter(active_to__isnull=True).order_by("depth").first()
    form = CampaignForm(request.POST or None, user=request.user, initial={"unit": first})
    preview = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if "confirm" in request.POST:
                campaign = services.launch_campaign(
                    actor=request.user,
                    unit=d["unit"],
                    title=d["title"],
                    instructions=d["instructions"],
                    starts_on=d["starts_on"],
                    deadline=d["deadline"],
                )
                messages.success(request, _("The campaign “{title}” was launched.").format(title=campaign.title))
                return redirect("members:campaign_detail", campaign.pk)
            preview = _campaign_preview(d)
        except ValidationError as exc:
            add_service_errors(form, exc)
    return render(request, "members/campaign_form.html", {"form": form, "preview": preview})


def _campaign_preview(d) -> list[str]:
    """What launching will do, checked by the same rules as the launch itself (nothing is written)."""
    errors = {}
    today = timezone.localdate()
    if d["starts_on"] < today:
        errors["starts_on"] = _("The start cannot be in the past.")
    if d["deadline"] < d["starts_on"]:
        errors["deadline"] = _("The deadline cannot be before the start.")
    if errors:
        raise ValidationError(errors)
    count = Member.objects.current().filter(unit__path__startswith=d["unit"].path).count()
    return [
        _("{count} current members of {unit} and the units below it are asked to confirm their data.").format(
            count=count, unit=d["unit"].name
        ),
        _("From {start} to {deadline}.").format(
            start=d["starts_on"].strftime("%d/%m/%Y"), deadline=d["deadline"].strftime("%d/%m/%Y")
        ),
    ]


def get_campaign(request, pk) -> DataCampaign:
    return get_object_or_404(services.visible_campaigns(request.user), pk=pk)


def drill_unit(request, campaign) -> Unit | None:
    """The unit chosen with ``?unit=``, which must lie in the campaign's subtree and in the user's scope (a 404
    otherwise); None for the default, the user's starting point."""
    raw = request.GET.get("unit")
    if not raw:
        return None
    try:
        pk = int(raw)
    except ValueError:
        raise Http404 from None
    unit = get_object_or_404(Unit.objects.filter(path__startswith=campaign.unit.path), pk=pk)
    if not can(request.user, VIEW_MEMBERS, unit):
        raise Http404
    return unit


# The rate comes right after the name, so that a phone shows it without scrolling sideways.
SORT_COLUMNS = [
    ("name", gettext_lazy("Unit")),
    ("rate", gettext_lazy("Rate")),
    ("members", gettext_lazy("Members")),
    ("confirmed", gettext_lazy("Confirmed")),
    ("pending", gettext_lazy("Not yet")),
]


def _next_sort(key: str, sort: str) -> str:
    """A click on the sorted column flips it; on another column sorts names A→Z and numbers highest first."""
    if sort.lstrip("-") == key:
        return key if sort.startswith("-") else f"-{key}"
    return key if key == "name" else f"-{key}"


@login_required
def campaign_detail(request, pk):
    campaign = get_campaign(request, pk)
    unit = drill_unit(request, campaign)
    roots = [] if unit else services.campaign_roots(request.user, campaign)
    if unit is None and len(roots) == 1:
        unit = roots[0]
    if unit is not None:
        rows = services.completion_by_child(campaign, unit)
        # The path from the campaign's unit down to this one, as far as the user may see it.
        crumbs = [
            u
            for u in Unit.objects.filter(pk__in=services.ancestor_ids(unit.path), path__startswith=campaign.unit.path)
            if u.pk != unit.pk and can(request.user, VIEW_MEMBERS, u)
        ]
    else:
        rows, crumbs = services.completion_for_units(campaign, roots), []
    sort = request.GET.get("sort", "name")
    rows = services.sort_rows(rows, sort)
    current = sort.lstrip("-")
    columns = [
        {
            "key": key,
            "label": text,
            "aria": ("descending" if sort.startswith("-") else "ascending") if key == current else "",
            "next": _next_sort(key, sort),
        }
        for key, text in SORT_COLUMNS
    ]
    context = {
        "campaign": campaign,
        "unit": unit,
        "crumbs": sorted(crumbs, key=lambda u: u.depth),
        "rows": rows,
        "total": services.totals(rows, unit or campaign.unit),
        "columns": columns,
        "sort": sort,
        "is_open": services.is_open(campaign),
        "today": timezone.localdate(),
    }
    return render(request, "members/campaign_detail.html", context)


@login_required
def campaign_not_confirmed(request, pk):
    campaign = get_campaign(request, pk)
    unit = drill_unit(request, campaign)
    if unit is None:
        roots = services.campaign_roots(request.user, campaign)
        if len(roots) != 1:
            # Several starting units: the list is per unit, chosen on the campaign page.
            return redirect("members:campaign_detail", campaign.pk)
        unit = roots[0]
    page = Paginator(services.not_confirmed(campaign, unit), NOT_CONFIRMED_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "members/campaign_not_confirmed.html", {"campaign": campaign, "unit": unit, "page": page})


# --- Invitation to self-service -------------------------------------------------------------------------------


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    phone = forms.CharField(
        label=gettext_lazy("Phone number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )


@login_required
def member_invite(request, pk):
    member = get_object_or_404(Member.objects.restrict(request.user, MANAGE_MEMBERS).select_related("unit"), pk=pk)
    if not services.can_invite(request.user, member):
        raise Http404
    form = MemberInviteForm(
        request.POST or None, initial={"email": member.email, "phone": display_phone(member.phone) or member.phone}
    )
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation, raw = services.invite_member(
                member, actor=request.user, email=form.cleaned_data["email"], phone=form.cleaned_data["phone"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            link = request.build_absolute_uri(reverse("accounts:invitation_accept", args=[raw]))
            if invitation.email:
                send_mail(
                    _("Your Đoàn Số member account"),
                    _(
                        "Hello {name},\n\nYour union branch invites you to Đoàn Số, where you can see your member "
                        "card and your data. Open this link within {days} days to choose your password:\n{link}\n"
                    ).format(name=invitation.full_name, days=settings.DOANSO_INVITATION_DAYS, link=link),
                    None,
                    [invitation.email],
                )
    return render(
        request,
        "members/selfservice/invite.html",
        {
            "member": member,
            "form": form,
            "link": link,
            "invitation_days": settings.DOANSO_INVITATION_DAYS,
        },
    )
