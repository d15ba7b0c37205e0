"""The editors' pages: list and search, create and edit, photos and media, the editorial flow, QR boards, scan
statistics, border markers and their condition reports, adoption and its activity log."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doanso.accounts.scope import can, can_anywhere
from doanso.core.forms import add_service_errors
from doanso.core.pdf import pdf_response
from doanso.core.qr import qr_png_data_uri
from doanso.core.text import fold
from doanso.core.views import CappedPaginator

from . import scans, selectors, services
from .apps import ADOPT_SITES, EDIT_SITES, PUBLISH_SITES, VIEW_SITES
from .forms import (
    ActivityForm,
    AdminFilterForm,
    AdoptForm,
    ConditionForm,
    EndAdoptionForm,
    MarkerSiteForm,
    MediaForm,
    NoteForm,
    PhotoForm,
    SiteForm,
)
from .models import Adoption, BorderMarker, Media, Photo, ScanCount, Site, SiteKind, SiteStatus
from .qr import board_pdf, board_svg, public_url

PER_PAGE = 50
SCAN_DAYS = 30


def _site(request, pk, action=VIEW_SITES) -> Site:
    return get_object_or_404(selectors.visible_to_editor(request.user, action), pk=pk)


def _need_anywhere(request, action) -> None:
    if not can_anywhere(request.user, action):
        raise Http404


@login_required
def site_list(request):
    _need_anywhere(request, VIEW_SITES)
    form = AdminFilterForm(request.GET or None)
    qs = selectors.visible_to_editor(request.user, VIEW_SITES)
    if form.is_valid():
        d = form.cleaned_data
        qs = selectors.search(qs, d["q"])
        if d["kind"]:
            qs = qs.filter(kind=d["kind"])
        if d["status"]:
            qs = qs.filter(status=d["status"])
    if request.GET.get("kind") == SiteKind.BORDER_MARKER:
        qs = qs.order_by("marker__number", "marker__sub_number")
    page = CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "can_edit": can_anywhere(request.user, EDIT_SITES),
        "to_review": selectors.visible_to_editor(request.user, PUBLISH_SITES)
        .filter(status=SiteStatus.SUBMITTED)
        .count(),
    }
    return render(request, "sites/site_list.html", context)


def _form_page(request, form, site=None, marker=False):
    return render(request, "sites/site_form.html", {"form": form, "site": site, "is_marker": marker})


@login_required
def site_create(request, marker=False):
    _need_anywhere(request, EDIT_SITES)
    form_class = MarkerSiteForm if marker else SiteForm
    form = form_class(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.create_site(
                actor=request.user, unit=form.cleaned_data["unit"], marker=form.marker_data(), **form.site_data()
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"sub_number": "sub_number"})
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("The site was created as a draft."))
            return redirect("sites:site_detail", site.pk)
    return _form_page(request, form, marker=marker)


@login_required
def marker_create(request):
    return site_create(request, marker=True)


def _initial(site: Site) -> dict:
    initial = {f: getattr(site, f) for f in services.SITE_FIELDS}
    initial["unit"] = site.unit
    marker = getattr(site, "marker", None) if site.kind == SiteKind.BORDER_MARKER else None
    if marker is not None:
        initial.update({f: getattr(marker, f) for f in services.MARKER_FIELDS})
    return initial


@login_required
def site_edit(request, pk):
    site = _site(request, pk, EDIT_SITES)
    is_marker = site.kind == SiteKind.BORDER_MARKER
    form_class = MarkerSiteForm if is_marker else SiteForm
    form = form_class(request.POST or None, user=request.user, initial=_initial(site))
    if request.method == "POST" and form.is_valid():
        data = form.site_data()
        try:
            services.update_site(
                site, actor=request.user, unit=form.cleaned_data["unit"], marker=form.marker_data(), **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Saved."))
            return redirect("sites:site_detail", site.pk)
    return _form_page(request, form, site, is_marker)


def _scan_stats(site: Site) -> dict:
    scans.flush()
    since = timezone.localdate() - datetime.timedelta(days=SCAN_DAYS - 1)
    rows = list(ScanCount.objects.filter(site=site, day__gte=since).order_by("-day").values_list("day", "count"))
    total = ScanCount.objects.filter(site=site).aggregate(n=Sum("count"))["n"] or 0
    return {"days": rows, "recent": sum(n for _d, n in rows), "total": total}


@login_required
def site_detail(request, pk):
    site = _site(request, pk)
    user = request.user
    may_edit = can(user, EDIT_SITES, site.unit) and (
        site.status == SiteStatus.DRAFT or can(user, PUBLISH_SITES, site.unit)
    )
    marker = getattr(site, "marker", None) if site.kind == SiteKind.BORDER_MARKER else None
    current = site.adoptions.current().select_related("unit").first()
    context = {
        "site": site,
        "marker": marker,
        "photos": site.photos.all(),
        "media": site.media.all(),
        "may_edit": may_edit,
        "may_review": can(user, PUBLISH_SITES, site.unit),
        "photo_form": PhotoForm(),
        "media_form": MediaForm(),
        "note_form": NoteForm(),
        "adoptions": selectors.site_adoptions(site),
        "current_adoption": current,
        "adopt_form": AdoptForm(user=user, initial={"since": timezone.localdate()}) if current is None else None,
        "may_adopt": can_anywhere(user, ADOPT_SITES) and current is None and site.is_published,
        "condition_form": ConditionForm(initial={"date": timezone.localdate()}) if marker else None,
        "reports": marker.reports.select_related("unit").prefetch_related("photos")[:20] if marker else [],
        "scans": _scan_stats(site) if site.is_published else None,
        "qr": qr_png_data_uri(public_url(request, site), scale=5) if site.is_published else None,
        "short_url": public_url(request, site),
    }
    return render(request, "sites/site_detail.html", context)


def _run(request, site_pk, fn, success: str):
    """Run a POST action; its ValidationError becomes a message on the site page (nothing was saved)."""
    try:
        fn()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, success)
    return redirect("sites:site_detail", site_pk)


@login_required
@require_POST
def site_submit(request, pk):
    site = _site(request, pk, EDIT_SITES)
    return _run(request, pk, lambda: services.submit_site(site, actor=request.user), _("Submitted for review."))


@login_required
@require_POST
def site_review(request, pk):
    site = _site(request, pk, PUBLISH_SITES)
    note = request.POST.get("note", "")[:500]
    if request.POST.get("decision") == "publish":
        return _run(request, pk, lambda: services.publish_site(site, actor=request.user, note=note), _("Published."))
    return _run(
        request, pk, lambda: services.return_site(site, actor=request.user, note=note), _("Returned to the editor.")
    )


@login_required
@require_POST
def site_unpublish(request, pk):
    site = _site(request, pk, PUBLISH_SITES)
    note = request.POST.get("note", "")[:500]
    return _run(request, pk, lambda: services.unpublish_site(site, actor=request.user, note=note), _("Withdrawn."))


def _submit(request, site, form, action, success: str, target=None):
    """A form posted from the site page: the service runs on valid data; on success a message and the site page
    (or ``target``); otherwise the form again with every error at its field, nothing saved."""
    if form.is_valid():
        try:
            result = action(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, success)
            return redirect(*(target(result) if target else ("sites:site_detail", site.pk)))
    return render(request, "sites/upload_form.html", {"site": site, "form": form}, status=400)


@login_required
@require_POST
def photo_add(request, pk):
    site = _site(request, pk, EDIT_SITES)
    return _submit(
        request,
        site,
        PhotoForm(request.POST, request.FILES),
        lambda d: services.add_photo(site, d["image"], actor=request.user, alt=d["alt"], alt_en=d["alt_en"]),
        _("The photo was added."),
    )


@login_required
@require_POST
def photo_delete(request, pk):
    photo = get_object_or_404(
        Photo.objects.select_related("site"), pk=pk, site__in=selectors.visible_to_editor(request.user, EDIT_SITES)
    )
    return _run(
        request, photo.site_id, lambda: services.delete_photo(photo, actor=request.user), _("The photo was removed.")
    )


@login_required
@require_POST
def media_add(request, pk):
    site = _site(request, pk, EDIT_SITES)
    return _submit(
        request,
        site,
        MediaForm(request.POST, request.FILES),
        lambda d: services.add_media(site, d["file"], actor=request.user, kind=d["kind"], title=d["title"]),
        _("The file was added."),
    )


@login_required
@require_POST
def media_delete(request, pk):
    media = get_object_or_404(
        Media.objects.select_related("site"), pk=pk, site__in=selectors.visible_to_editor(request.user, EDIT_SITES)
    )
    return _run(
        request, media.site_id, lambda: services.delete_media(media, actor=request.user), _("The file was removed.")
    )


def _board_name(site: Site, ext: str) -> str:
    return f"bang-qr-{slugify(fold(site.name))[:60] or site.code}-{site.code}.{ext}"


@login_required
def board(request, pk, fmt):
    site = _site(request, pk)
    if fmt not in ("a4", "a5", "svg") or not site.is_published:
        # A board must never point at a page that visitors cannot open.
        raise Http404
    if fmt == "svg":
        response = HttpResponse(board_svg(request, site), content_type="image/svg+xml")
        response["Content-Disposition"] = f'attachment; filename="{_board_name(site, "svg")}"'
        return response
    return pdf_response(board_pdf(request, site, fmt), _board_name(site, f"{fmt}.pdf"), inline=False)


@login_required
def marker_list(request):
    _need_anywhere(request, VIEW_SITES)
    markers = (
        BorderMarker.objects.filter(site__in=selectors.visible_to_editor(request.user, VIEW_SITES))
        .select_related("site", "site__division")
        .order_by("number", "sub_number")
    )
    return render(request, "sites/marker_list.html", {"markers": markers})


@login_required
@require_POST
def condition_add(request, pk):
    site = get_object_or_404(
        selectors.published_or_in_scope(request.user, VIEW_SITES).select_related("marker", "unit"),
        pk=pk,
        kind=SiteKind.BORDER_MARKER,
    )
    return _submit(
        request,
        site,
        ConditionForm(request.POST, request.FILES),
        lambda d: services.report_condition(
            site.marker,
            actor=request.user,
            date=d["date"],
            condition=d["condition"],
            note=d["note"],
            photos=d["photos"],
        ),
        _("The condition report was saved."),
    )


@login_required
@require_POST
def adopt(request, pk):
    site = get_object_or_404(selectors.published_or_in_scope(request.user, VIEW_SITES).select_related("unit"), pk=pk)
    return _submit(
        request,
        site,
        AdoptForm(request.POST, user=request.user),
        lambda d: services.adopt_site(site, actor=request.user, unit=d["unit"], since=d["since"], note=d["note"]),
        _("Adopted."),
        target=lambda adoption: ("sites:adoption_detail", adoption.pk),
    )


def _adoption(request, pk) -> Adoption:
    return get_object_or_404(
        Adoption.objects.restrict(request.user, ADOPT_SITES).select_related("site", "unit", "site__marker"), pk=pk
    )


@login_required
def adoption_detail(request, pk):
    adoption = _adoption(request, pk)
    activities = adoption.activities.select_related("created_by").prefetch_related("photos")
    form = ActivityForm(initial={"date": timezone.localdate()})
    context = {
        "adoption": adoption,
        "activities": activities,
        "form": form,
        "end_form": EndAdoptionForm(initial={"until": timezone.localdate()}),
    }
    return render(request, "sites/adoption_detail.html", context)


@login_required
@require_POST
def activity_add(request, pk):
    adoption = _adoption(request, pk)
    form = ActivityForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.log_activity(
                adoption,
                actor=request.user,
                date=d["date"],
                kind=d["kind"],
                description=d["description"],
                participants=d["participants"],
                photos=d["photos"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("The activity was logged."))
            return redirect("sites:adoption_detail", pk)
    activities = adoption.activities.prefetch_related("photos")
    context = {"adoption": adoption, "activities": activities, "form": form, "end_form": EndAdoptionForm()}
    return render(request, "sites/adoption_detail.html", context, status=400)


@login_required
@require_POST
def adoption_end(request, pk):
    adoption = _adoption(request, pk)
    form = EndAdoptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the end date (dd/mm/yyyy)."))
        return redirect("sites:adoption_detail", pk)
    try:
        services.end_adoption(adoption, actor=request.user, until=form.cleaned_data["until"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, _("The adoption has ended."))
    return redirect("sites:adoption_detail", pk)
