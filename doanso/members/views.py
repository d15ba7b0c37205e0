"""The registry's own pages: the member list with search and filters, the record, statistics, export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doanso.accounts.roles import EXPORT_MEMBERS, IMPORT_MEMBERS, MANAGE_MEMBERS, VIEW_MEMBERS, VIEW_SENSITIVE
from doanso.accounts.scope import can, can_anywhere
from doanso.core.forms import add_service_errors
from doanso.core.models import AccessRecord
from doanso.core.tasks import start_task
from doanso.org.models import Unit

from . import selectors
from .exporting import can_export_unmasked, export_members
from .forms import ExportForm, MemberFilterForm, MemberForm, RevealForm, SavedFilterForm
from .models import Member, SavedFilter
from .privacy import mask_citizen_id, mask_email, mask_phone
from .services import records
from .services.records import RECORD_FIELDS

PAGE_SIZE = 50


def get_member(request, pk, action: str = VIEW_MEMBERS) -> Member:
    return get_object_or_404(
        Member.objects.restrict(request.user, action).select_related(
            "unit", "hometown__province", "residence__province"
        ),
        pk=pk,
    )


def filtered(request):
    """The filter form and the members it selects. Filters that do not validate select nobody (the form says
    what is wrong): dropping them instead would list — and export — everyone in scope."""
    form = MemberFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, {}, Member.objects.none()
    criteria = form.criteria() if form.is_bound else {}
    return form, criteria, selectors.search(request.user, **criteria)


@login_required
def member_list(request):
    if not can_anywhere(request.user, VIEW_MEMBERS):
        raise Http404
    form, _criteria, members = filtered(request)
    text_query = bool(form.is_bound and form.is_valid() and form.cleaned_data.get("q"))
    page = selectors.SearchPaginator(members.select_related("unit"), PAGE_SIZE, text_query=text_query).get_page(
        request.GET.get("page")
    )
    for member in page:
        member.masked_citizen_id = mask_citizen_id(member.citizen_id)
        member.masked_phone = mask_phone(member.phone)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "saved_filters": SavedFilter.objects.filter(user=request.user),
        "can_export": can_anywhere(request.user, EXPORT_MEMBERS),
        "can_add": can_anywhere(request.user, MANAGE_MEMBERS),
        "can_import": can_anywhere(request.user, IMPORT_MEMBERS),
    }
    template = "members/partials/member_rows.html" if request.htmx else "members/member_list.html"
    return render(request, template, context)


@login_required
def member_detail(request, pk):
    member = get_member(request, pk)
    revealed = None
    reveal_form = RevealForm(request.POST or None) if can(request.user, VIEW_SENSITIVE, member.unit) else None
    if request.method == "POST" and reveal_form is None:
        raise Http404
    if request.method == "POST" and reveal_form.is_valid():  # otherwise the page shows the form's errors
        try:
            revealed = records.reveal(member, actor=request.user, reason=reveal_form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(reveal_form, exc)
    context = {
        "member": member,
        "revealed": revealed,
        "reveal_form": reveal_form,
        "masked": {
            "citizen_id": mask_citizen_id(member.citizen_id),
            "phone": mask_phone(member.phone),
            "email": mask_email(member.email),
        },
        "events": member.events.select_related("unit", "other_unit", "actor").order_by("-date", "-id"),
        "positions": member.positions.select_related("unit"),
        "ratings": member.ratings.all(),
        "disciplines": member.disciplines.select_related("decided_by"),
        "transfers": member.transfers.select_related("from_unit", "to_unit"),
        "can_edit": can(request.user, MANAGE_MEMBERS, member.unit),
        "actions": member_actions(request.user, member),
        "accesses": (
            AccessRecord.objects.filter(object_type="members.member", object_id=str(member.pk)).select_related("actor")[
                :20
            ]
            if can(request.user, VIEW_SENSITIVE, member.unit)
            else None
        ),
    }
    return render(request, "members/member_detail.html", context)


def member_actions(user, member) -> list[tuple[str, str]]:
    """Buttons of the lifecycle, card and self-service pages that this user may use for this member."""
    actions = []
    for module_name, function in (("lifecycle_views", "member_actions"), ("card_views", "member_links")):
        try:
            module = __import__(f"doanso.members.{module_name}", fromlist=[function])
        except ModuleNotFoundError:
            continue
        actions += getattr(module, function)(user, member)
    return actions


@login_required
def member_create(request):
    if not can_anywhere(request.user, MANAGE_MEMBERS):
        raise Http404
    unit_field_form = UnitChoice(request.POST or request.GET or None, user=request.user)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and unit_field_form.is_valid() and form.is_valid():
        data = {name: form.cleaned_data.get(name) for name in RECORD_FIELDS}
        try:
            member = records.create_member(actor=request.user, unit=unit_field_form.cleaned_data["unit"], **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("{name} was added.").format(name=member.full_name))
            return redirect("members:member_detail", member.pk)
    return render(
        request, "members/member_form.html", {"form": form, "unit_form": unit_field_form, "title": _("Add a member")}
    )


@login_required
def member_edit(request, pk):
    member = get_member(request, pk, MANAGE_MEMBERS)
    form = MemberForm(request.POST or None, instance=Member.objects.get(pk=member.pk))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data.get(name) for name in RECORD_FIELDS}
        try:
            records.update_member(member, actor=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The record was saved."))
            return redirect("members:member_detail", member.pk)
    return render(
        request,
        "members/member_form.html",
        {"form": form, "member": member, "title": _("Edit {name}").format(name=member.full_name)},
    )


@login_required
def member_export(request):
    if not can_anywhere(request.user, EXPORT_MEMBERS):
        raise Http404
    filter_form, criteria, members = filtered(request)
    form = ExportForm(request.POST or None, can_unmask=can_export_unmasked(request.user))
    if request.method == "POST" and filter_form.errors:
        form.add_error(None, _("The filters of the list are not valid: correct them in the list, then export."))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if criteria.get("unit"):
            criteria["unit"] = criteria["unit"].pk
        run = start_task(
            export_members,
            kind="members.export",
            owner=request.user,
            unit=Unit.objects.filter(pk=criteria.get("unit")).first(),
            title=_("Export of {n} members").format(n=members.count()),
            user_id=request.user.pk,
            criteria=criteria,
            layout=d["layout"],
            file_format=d["format"],
            unmasked=bool(d.get("unmask")),
            reason=d.get("reason") or "",
        )
        return redirect("core:task_detail", run.pk)
    return render(
        request,
        "members/member_export.html",
        {"form": form, "count": members.count(), "query": request.GET.urlencode(), "filter_form": filter_form},
    )


@login_required
@require_POST
def filter_save(request):
    form = SavedFilterForm(request.POST)
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("page", None)
    if form.is_valid():
        records.save_filter(actor=request.user, name=form.cleaned_data["name"], query=query.urlencode())
        messages.success(request, _("The filter was saved."))
    else:
        messages.error(request, " ".join(form.errors.get("name", [_("Give the filter a name.")])))
    return redirect(f"{_list_url()}?{query.urlencode()}")


@login_required
@require_POST
def filter_delete(request, pk):
    records.delete_filter(get_object_or_404(SavedFilter, pk=pk, user=request.user), actor=request.user)
    return redirect(_list_url())


def _list_url():
    from django.urls import reverse

    return reverse("members:member_list")


class UnitChoice(MemberFilterForm):
    """The unit a new member joins: any unit where the user may manage members."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        for name in list(self.fields):
            if name != "unit":
                del self.fields[name]
        self.fields["unit"].required = True
        self.fields["unit"].label = _("Unit that holds the member's file")
        self.fields["unit"].queryset = Unit.objects.restrict(user, MANAGE_MEMBERS).filter(active_to__isnull=True)
