"""Import (as a task with a dry run and an error report, like member imports) and export of sites."""

import uuid

from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from doanso.accounts.scope import can_anywhere
from doanso.core.models import private_storage
from doanso.core.tasks import start_task

from . import selectors
from .apps import EDIT_SITES, VIEW_SITES
from .forms import ImportForm
from .importing import KIND_PREFIX, export_csv, export_geojson, export_kml, export_queryset, export_xlsx, import_sites

MAX_IMPORT_BYTES = 20 * 1024 * 1024
EXPORTS = {
    "csv": (export_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": (export_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "kml": (export_kml, "application/vnd.google-earth.kml+xml", "kml"),
    "geojson": (export_geojson, "application/geo+json", "geojson"),
}


@login_required
def import_start(request):
    if not can_anywhere(request.user, EDIT_SITES):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            form.add_error("file", _("The file is larger than 20 MB."))
        else:
            suffix = "." + upload.name.rsplit(".", 1)[-1].lower()[:8] if "." in upload.name else ""
            name = private_storage().save(
                f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}", ContentFile(upload.read())
            )
            unit, mode = form.cleaned_data["unit"], form.cleaned_data["mode"]
            titles = {"check": _("Checking {file}"), "all": _("Import of {file}"), "valid": _("Import of {file}")}
            run = start_task(
                import_sites,
                kind=KIND_PREFIX + ("import_check" if mode == "check" else "import"),
                title=titles[mode].format(file=upload.name[:100]),
                owner=request.user,
                unit=unit,
                storage_name=name,
                filename=upload.name,
                unit_id=unit.pk,
                actor_id=request.user.pk,
                mode=mode,
                language=translation.get_language() or "",
            )
            return redirect("core:task_detail", run.pk)
    return render(request, "sites/import.html", {"form": form})


@login_required
def export(request, fmt):
    if fmt not in EXPORTS or not can_anywhere(request.user, VIEW_SITES):
        raise Http404
    make, content_type, ext = EXPORTS[fmt]
    sites = list(export_queryset(selectors.visible_to_editor(request.user, VIEW_SITES)))
    response = HttpResponse(make(sites), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="dia-diem-{timezone.localdate():%Y%m%d}.{ext}"'
    return response
