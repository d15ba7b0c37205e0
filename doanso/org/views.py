from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from doanso.accounts.roles import MANAGE_UNITS, RUN_TASKS, VIEW_MEMBERS, VIEW_UNITS
from doanso.accounts.scope import can
from doanso.core.forms import add_service_errors, preview_or_run
from doanso.core.tasks import start_task
from doanso.members import selectors as member_selectors
from doanso.members.lifecycle_views import unit_actions as member_unit_actions
from doanso.members.models import RatingLevel

from . import selectors, services
from .divisions import search_divisions
from .forms import (
    AsOfForm,
    DissolveForm,
    MergeForm,
    MoveForm,
    SplitPartFormSet,
    TwinningForm,
    UnitCreateForm,
    UnitEditForm,
)
from .models import Twinning, Unit, UnitKind


def get_unit(request, pk, action: str = VIEW_UNITS) -> Unit:
    """The one way views reach a unit: through the user's scope; anything else is a 404."""
    return get_object_or_404(
        Unit.objects.restrict(request.user, action).select_related("parent", "division__province", "successor"),
        pk=pk,
    )


@login_required
def tree(request):
    q = request.GET.get("q", "").strip()
    context = {"roots": selectors.tree_roots(request.user), "q": q}
    if q:
        context["results"] = selectors.search(request.user, q)
    if request.htmx and request.htmx.target == "unit-search-results":
        return render(request, "org/partials/search_results.html", context)
    for root in context["roots"]:
        root.loaded_children = selectors.children(root)
    return render(request, "org/tree.html", context)


@login_required
def tree_children(request, pk):
    unit = get_unit(request, pk)
    return render(request, "org/partials/tree_children.html", {"nodes": selectors.children(unit)})


@login_required
def unit_suggest(request):
    """Suggestions for the unit picker: options of a <datalist>, "Name — CODE"."""
    units = selectors.search(request.user, request.GET.get("q", ""), limit=15) if request.GET.get("q") else []
    return render(request, "org/partials/unit_options.html", {"units": units})


@login_required
def division_suggest(request):
    """Suggestions for the division picker: options of a <datalist>, "Name, Province — CODE"."""
    return render(
        request, "org/partials/division_options.html", {"divisions": search_divisions(request.GET.get("q", ""))}
    )


@login_required
def unit_detail(request, pk):
    unit = get_unit(request, pk)
    kids = selectors.children(unit, include_ended=request.GET.get("ended") == "1")
    twinnings = Twinning.objects.filter(first=unit) | Twinning.objects.filter(second=unit)
    context = {
        "unit": unit,
        "ancestors": [a for a in unit.ancestors() if can(request.user, VIEW_UNITS, a)],
        "children": kids,
        "twinnings": twinnings.select_related("first", "second").order_by("-since"),
        "can_manage": can(request.user, MANAGE_UNITS, unit),
        "can_export": can(request.user, RUN_TASKS, unit),
        "descendant_count": Unit.objects.filter(path__startswith=unit.path, active_to__isnull=True)
        .exclude(pk=unit.pk)
        .count(),
        # Members whose file sits anywhere in the subtree (units merged into this one included).
        "stats": member_selectors.unit_statistics(unit) if can(request.user, VIEW_MEMBERS, unit) else None,
        "rating_levels": RatingLevel.choices,
        "member_actions": member_unit_actions(request.user, unit),
    }
    return render(request, "org/unit_detail.html", context)


@login_required
def unit_history(request, pk):
    unit = get_unit(request, pk)
    return render(request, "org/unit_history.html", {"unit": unit, "versions": selectors.history(unit)})


@login_required
def tree_as_of(request):
    form = AsOfForm(request.GET or {"on": timezone.localdate().strftime("%d/%m/%Y")})
    nodes = selectors.tree_as_of(request.user, form.cleaned_data["on"]) if form.is_valid() else []
    return render(request, "org/tree_as_of.html", {"form": form, "nodes": nodes})


def _form_page(request, unit, form, template, title, extra=None):
    return render(request, template, {"unit": unit, "form": form, "title": title, **(extra or {})})


@login_required
def unit_create(request, pk):
    parent = get_unit(request, pk, MANAGE_UNITS)
    form = UnitCreateForm(request.POST or None)

    def preview():
        data, active_from = form.unit_data(), form.cleaned_data["active_from"]
        services.check_create(data, parent, active_from)
        return [
            _("{name} ({code}), {kind}, is created under {parent}.").format(
                name=data.name, code=data.code, kind=UnitKind(data.kind).label, parent=parent.name
            ),
            _("It is active from {date}.").format(date=active_from.strftime("%d/%m/%Y")),
        ]

    def run():
        unit = services.create_unit(
            form.unit_data(), actor=request.user, parent=parent, active_from=form.cleaned_data["active_from"]
        )
        messages.success(request, _("{unit} was created.").format(unit=unit.name))
        return redirect("org:unit_detail", unit.pk)

    response, lines = preview_or_run(request, form, preview, run)
    return response or _form_page(
        request,
        parent,
        form,
        "org/unit_form.html",
        _("New unit under {unit}").format(unit=parent.name),
        {"preview": lines},
    )


@login_required
def unit_edit(request, pk):
    unit = get_unit(request, pk, MANAGE_UNITS)
    form = UnitEditForm(request.POST or None, initial={key: getattr(unit, key) for key in services.EDITABLE})

    def changes():
        data = form.unit_data()
        return {key: getattr(data, key) for key in services.EDITABLE}

    def preview():
        after = services.plan_update(unit, form.cleaned_data["effective"], **changes())
        date = form.cleaned_data["effective"].strftime("%d/%m/%Y")
        lines = []
        for key in services.EDITABLE:
            old, new = getattr(unit, key), getattr(after, key)
            if (old or None) != (new or None):
                label = Unit._meta.get_field(key).verbose_name
                shown = {"kind": lambda v: UnitKind(v).label if v else "—"}.get(key, lambda v: v or "—")
                lines.append(_("{field}: {old} → {new}").format(field=label, old=shown(old), new=shown(new)))
        if not lines:
            return [_("Nothing changes.")]
        if (after.name, after.short_name) != (unit.name, unit.short_name):
            lines.append(_("From {date}; the former name stays in the history.").format(date=date))
        return lines

    def run():
        services.update_unit(
            unit,
            actor=request.user,
            effective=form.cleaned_data["effective"],
            note=form.cleaned_data["note"],
            **changes(),
        )
        messages.success(request, _("The changes were saved."))
        return redirect("org:unit_detail", unit.pk)

    response, lines = preview_or_run(request, form, preview, run)
    return response or _form_page(
        request,
        unit,
        form,
        "org/unit_form.html",
        _("Rename or edit {unit}").format(unit=unit.name),
        {"preview": lines},
    )


@login_required
def unit_move(request, pk):
    unit = get_unit(request, pk, MANAGE_UNITS)
    form = MoveForm(request.POST or None, user=request.user)
    plan = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if "confirm" in request.POST:
                services.move_unit(
                    unit, actor=request.user, new_parent=d["new_parent"], effective=d["effective"], note=d["note"]
                )
                messages.success(
                    request, _("{unit} now sits under {parent}.").format(unit=unit.name, parent=d["new_parent"].name)
                )
                return redirect("org:unit_detail", unit.pk)
            plan = services.plan_move(unit, d["new_parent"], d["effective"])
        except ValidationError as exc:
            add_service_errors(form, exc)
    return _form_page(
        request, unit, form, "org/unit_move.html", _("Move {unit}").format(unit=unit.name), {"plan": plan}
    )


@login_required
def unit_merge(request, pk):
    unit = get_unit(request, pk, MANAGE_UNITS)
    form = MergeForm(request.POST or None, user=request.user, unit=unit)
    plan = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        sources = [unit, *d["others"]]
        kwargs = {"effective": d["effective"]}
        if d["mode"] == MergeForm.MODE_INTO:
            kwargs["into"] = d["into"]
        else:
            kwargs["new_unit"] = services.UnitData(
                code=d["new_code"], name=d["new_name"], kind=d["new_kind"], org=unit.org, area_type=unit.area_type
            )
            kwargs["new_parent"] = d["new_parent"]
        try:
            if "confirm" in request.POST:
                target = services.merge_units(sources, actor=request.user, note=d["note"], **kwargs)
                messages.success(request, _("The units were merged into {target}.").format(target=target.name))
                return redirect("org:unit_detail", target.pk)
            plan = services.plan_merge(sources, **kwargs)
        except ValidationError as exc:
            add_service_errors(form, exc, {"sources": "others"})
    return _form_page(
        request, unit, form, "org/unit_merge.html", _("Merge {unit}").format(unit=unit.name), {"plan": plan}
    )


@login_required
def unit_split(request, pk):
    unit = get_unit(request, pk, MANAGE_UNITS)
    formset = SplitPartFormSet(request.POST or None, form_kwargs={"unit": unit}, prefix="part")
    effective_form = DissolveForm(request.POST or None)  # reuses its effective-date field
    effective_form.fields.pop("reason")
    plan = None
    if request.method == "POST" and formset.is_valid() and effective_form.is_valid():
        parts = [
            services.SplitPart(
                data=services.UnitData(
                    code=f.cleaned_data["code"],
                    name=f.cleaned_data["name"],
                    kind=f.cleaned_data["kind"],
                    org=unit.org,
                    area_type=unit.area_type,
                ),
                children=list(f.cleaned_data["children"]),
            )
            for f in formset.forms
            if f.cleaned_data.get("code")
        ]
        effective = effective_form.cleaned_data["effective"]
        try:
            if "confirm" in request.POST:
                created = services.split_unit(unit, parts, actor=request.user, effective=effective)
                messages.success(request, _("Created {names}.").format(names=", ".join(u.name for u in created)))
                return redirect("org:unit_detail", unit.pk)
            plan = services.plan_split(unit, parts, effective)
        except ValidationError as exc:
            add_service_errors(effective_form, exc)
    return _form_page(
        request,
        unit,
        effective_form,
        "org/unit_split.html",
        _("Split {unit}").format(unit=unit.name),
        {"formset": formset, "plan": plan},
    )


@login_required
def unit_dissolve(request, pk):
    unit = get_unit(request, pk, MANAGE_UNITS)
    form = DissolveForm(request.POST or None)

    def preview():
        plan = services.plan_dissolve(unit, form.cleaned_data["effective"], form.cleaned_data["reason"])
        return [
            _("{unit} ends on {date}; it keeps its history and leaves the tree.").format(
                unit=unit.name, date=plan.effective.strftime("%d/%m/%Y")
            ),
            ngettext("{n} twinning ends.", "{n} twinnings end.", plan.twinnings).format(n=plan.twinnings),
            ngettext(
                "{n} role assignment at this unit stops giving access.",
                "{n} role assignments at this unit stop giving access.",
                plan.roles,
            ).format(n=plan.roles),
        ]

    def run():
        services.dissolve_unit(
            unit, actor=request.user, effective=form.cleaned_data["effective"], reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("{unit} was dissolved.").format(unit=unit.name))
        return redirect("org:unit_detail", unit.pk)

    response, lines = preview_or_run(request, form, preview, run, {"unit": "__all__"})
    return response or _form_page(
        request, unit, form, "org/unit_dissolve.html", _("Dissolve {unit}").format(unit=unit.name), {"preview": lines}
    )


@login_required
def unit_twin(request, pk):
    unit = get_unit(request, pk, MANAGE_UNITS)
    form = TwinningForm(request.POST or None)

    def preview():
        other, since = form.cleaned_data["other"], form.cleaned_data["since"]
        services.check_twin(unit, other, since)
        return [
            _("{a} and {b} are twinned from {date}.").format(
                a=unit.name, b=other.name, date=since.strftime("%d/%m/%Y")
            ),
            _("The twinning shows on the pages of both units."),
        ]

    def run():
        services.twin_units(
            unit,
            form.cleaned_data["other"],
            actor=request.user,
            since=form.cleaned_data["since"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("The twinning was recorded."))
        return redirect("org:unit_detail", unit.pk)

    response, lines = preview_or_run(request, form, preview, run, {"unit": "__all__"})
    return response or _form_page(
        request,
        unit,
        form,
        "org/unit_form.html",
        _("Twin {unit} with another unit").format(unit=unit.name),
        {"preview": lines},
    )


@login_required
@require_POST
def twinning_end(request, pk):
    twinning = get_object_or_404(Twinning.objects.restrict(request.user, MANAGE_UNITS), pk=pk)
    try:
        services.end_twinning(twinning, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The twinning was ended."))
    own = twinning.first if can(request.user, MANAGE_UNITS, twinning.first) else twinning.second
    return redirect("org:unit_detail", own.pk)


@login_required
@require_POST
def unit_export(request, pk):
    unit = get_unit(request, pk, RUN_TASKS)
    from .tasks import export_units

    run = start_task(
        export_units,
        kind="org.export_units",
        owner=request.user,
        unit=unit,
        title=_("Export of the units under {unit}").format(unit=unit.name),
        unit_id=unit.pk,
    )
    return redirect("core:task_detail", run.pk)
