"""The import pages: upload → column mapping → dry run (a task) → rejected rows and the choice → commit (a task).

The state of one import (the stored file, the target unit, the columns and the chosen mapping, the two task
runs) lives in the session of the person who started it, under a random token: nobody else can continue it, and
no model is needed. The file itself is in the private storage, never under MEDIA_ROOT; the commit deletes it.
"""

import csv
import io
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doanso.accounts.roles import IMPORT_MEMBERS
from doanso.accounts.scope import can_anywhere
from doanso.core.models import TaskRun, private_storage
from doanso.core.tasks import start_task
from doanso.org.forms import UnitCodeField
from doanso.org.models import Unit

from .importing import (
    BUILTIN_MAPPINGS,
    DUPLICATES_REJECT,
    DUPLICATES_UPDATE,
    ERRORS_SHOWN,
    IGNORE,
    OUR_LAYOUT,
    TARGETS,
    ImportFileError,
    ImportOptions,
    column_letter,
    commit_members_import,
    counts_from_result,
    detect_header,
    guess_mapping,
    mapping_problems,
    preview_members_import,
    read_file,
    read_sheet,
    shown,
    sync_builtin_mappings,
)
from .models import ImportMapping
from .services.imports import save_mapping

SESSION_KEY = "member_imports"
# Imports kept in one session; older ones are dropped and their uploaded files deleted.
KEEP = 5
MAX_BYTES = getattr(settings, "DOANSO_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
SAMPLES = 3
EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt")
PREVIEW_KIND = "members.import_preview"
COMMIT_KIND = "members.import_commit"
AUTO = "__auto__"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy("Excel (.xlsx, .xls), OpenDocument (.ods) or CSV; the header row may be below a title."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )
    unit = UnitCodeField(
        label=gettext_lazy("Import into"),
        help_text=gettext_lazy("Rows without a unit go to this unit; rows may name any unit under it."),
    )
    mapping = forms.ChoiceField(label=gettext_lazy("Layout of the file"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, IMPORT_MEMBERS).active()
        stored = set(ImportMapping.objects.filter(is_builtin=True).values_list("name", flat=True))
        builtin = [(name, name) for name in BUILTIN_MAPPINGS if name in stored]
        saved = [(m.name, m.name) for m in ImportMapping.objects.filter(is_builtin=False)]
        choices = [(AUTO, _("Recognise the columns automatically")), *builtin]
        if saved:
            choices.append((_("Saved mappings"), saved))
        self.fields["mapping"].choices = choices
        self.fields["mapping"].initial = AUTO

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than {size} MB; split it.").format(size=MAX_BYTES // (1024 * 1024))
            )
        return upload

    def saved_mapping(self) -> ImportMapping | None:
        name = self.cleaned_data.get("mapping")
        if not name or name == AUTO:
            return None
        return ImportMapping.objects.filter(name=name).first()


class MappingForm(forms.Form):
    duplicates = forms.ChoiceField(
        label=gettext_lazy("Members already registered (same citizen ID) with other data"),
        widget=forms.RadioSelect,
        choices=[
            (DUPLICATES_UPDATE, gettext_lazy("update them with the data of the file")),
            (DUPLICATES_REJECT, gettext_lazy("reject those rows")),
        ],
        initial=DUPLICATES_UPDATE,
    )
    save_as = forms.CharField(
        label=gettext_lazy("Save this mapping as"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Optional: a name to choose this layout again next time, e.g. “Danh sách trường THPT”."),
    )

    def __init__(self, *args, columns: list[str], fields: list[str], user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.columns = columns
        choices = [(IGNORE, _("— not imported —")), *((t.key, t.label) for t in TARGETS)]
        for index, (header, field) in enumerate(zip(columns, fields, strict=True)):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=choices, initial=field, required=False
            )

    def column_fields(self):
        return [self[f"col_{i}"] for i in range(len(self.columns))]

    def chosen(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{i}") or IGNORE for i in range(len(self.columns))]

    def clean_save_as(self):
        name = self.cleaned_data["save_as"].strip()
        if not name:
            return ""
        if name in BUILTIN_MAPPINGS:
            raise forms.ValidationError(_("This is the name of a built-in layout; choose another name."))
        existing = ImportMapping.objects.filter(name=name).first()
        if existing is not None and existing.created_by_id != self.user.pk:
            raise forms.ValidationError(_("Someone else saved a mapping with this name; choose another name."))
        return name

    def clean(self):
        data = super().clean()
        for problem in mapping_problems(self.chosen()):
            self.add_error(None, problem)
        return data


# --- Session state ----------------------------------------------------------------------------------------------


def _imports(request) -> dict:
    return request.session.setdefault(SESSION_KEY, {})


def _state(request, token: str) -> dict:
    state = _imports(request).get(token)
    if state is None:
        raise Http404
    return state


def _save(request) -> None:
    request.session.modified = True


def _target(request, state) -> Unit:
    # Rights are checked again at every step: a role removed meanwhile ends the import.
    unit = Unit.objects.restrict(request.user, IMPORT_MEMBERS).filter(pk=state["unit_id"]).first()
    if unit is None:
        raise Http404
    return unit


def _remember(request, state: dict) -> str:
    imports = _imports(request)
    token = uuid.uuid4().hex
    imports[token] = state
    # Forget the oldest imports of this session, with their files unless they were committed (then deleted).
    for old in sorted(imports, key=lambda t: imports[t]["started"])[:-KEEP]:
        stale = imports.pop(old)
        if not stale.get("commit_run"):
            private_storage().delete(stale["storage_name"])
    _save(request)
    return token


def _run(request, pk: str | None, kind: str) -> TaskRun | None:
    if not pk:
        return None
    return TaskRun.objects.filter(pk=pk, owner=request.user, kind=kind).first()


def _columns_and_samples(sheet, saved: dict | None):
    header = detect_header(sheet)
    samples: list[list[str]] = [[] for _ in header.columns]
    for _number, cells in sheet.rows[header.data_from :]:
        for i in range(len(header.columns)):
            if len(samples[i]) < SAMPLES and i < len(cells) and shown(cells[i]):
                samples[i].append(shown(cells[i])[:60])
        if all(len(s) >= SAMPLES for s in samples):
            break
    return header, samples, guess_mapping(header.columns, saved)


# --- Pages ---------------------------------------------------------------------------------------------------------


@login_required
def import_start(request):
    """Upload: the file, the unit to import into, the layout (automatic, built-in or saved)."""
    if not can_anywhere(request.user, IMPORT_MEMBERS):
        raise Http404
    sync_builtin_mappings()
    initial = {}
    if code := request.GET.get("don-vi"):
        initial["unit"] = Unit.objects.restrict(request.user, IMPORT_MEMBERS).filter(code=code).first()
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        saved = form.saved_mapping()
        try:
            sheet = read_sheet(data, upload.name)
            header, samples, fields = _columns_and_samples(sheet, saved.mapping if saved else None)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            suffix = Path(upload.name).suffix.lower()
            suffix = suffix if suffix in EXTENSIONS else ".bin"
            storage_name = private_storage().save(
                f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}", ContentFile(data)
            )
            token = _remember(
                request,
                {
                    "started": timezone.now().isoformat(),
                    "storage_name": storage_name,
                    "filename": Path(upload.name).name[:200],
                    "unit_id": form.cleaned_data["unit"].pk,
                    "sheet": sheet.name,
                    "sheets": sheet.names,
                    "header_row": header.row,
                    "columns": header.columns,
                    "samples": samples,
                    "fields": fields,
                    "mapping_name": saved.name if saved else "",
                    "duplicates": DUPLICATES_UPDATE,
                    "preview_run": None,
                    "commit_run": None,
                },
            )
            return redirect("members:import_mapping", token)
    return render(request, "members/import_start.html", {"form": form, "layout": OUR_LAYOUT})


@login_required
def import_mapping(request, token):
    """Which column feeds which field: guesses preselected, sample values shown; starts the dry run."""
    state = _state(request, token)
    unit = _target(request, state)
    if state.get("commit_run"):
        return redirect("members:import_result", token)
    wanted = request.GET.get("trang")
    if wanted and wanted in state["sheets"] and wanted != state["sheet"]:
        try:
            sheet = read_sheet(read_file(state["storage_name"]), state["filename"], wanted)
            header, samples, fields = _columns_and_samples(sheet, None)
        except ImportFileError as exc:
            messages.error(request, str(exc))
        else:
            state.update(
                sheet=sheet.name, header_row=header.row, columns=header.columns, samples=samples, fields=fields
            )
            _save(request)
    form = MappingForm(
        request.POST or None,
        columns=state["columns"],
        fields=state["fields"],
        user=request.user,
        initial={"duplicates": state["duplicates"]},
    )
    if request.method == "POST" and form.is_valid():
        fields = form.chosen()
        mapping = dict(zip(state["columns"], fields, strict=True))
        name = form.cleaned_data["save_as"]
        if name:
            save_mapping(actor=request.user, name=name, mapping=mapping)
            messages.success(request, _("The mapping is saved as “{name}”.").format(name=name))
        state.update(
            fields=fields, duplicates=form.cleaned_data["duplicates"], mapping_name=name or state["mapping_name"]
        )
        options = ImportOptions(
            unit_id=unit.pk,
            mapping=mapping,
            sheet=state["sheet"],
            duplicates=state["duplicates"],
            filename=state["filename"],
            mapping_name=state["mapping_name"],
        )
        run = start_task(
            preview_members_import,
            kind=PREVIEW_KIND,
            title=_("Checking {file} for {unit}").format(file=state["filename"], unit=unit.name),
            owner=request.user,
            unit=unit,
            storage_name=state["storage_name"],
            options=options.as_dict(),
            language=get_language(),
        )
        state["preview_run"] = str(run.pk)
        _save(request)
        return redirect("members:import_preview", token)
    rows = list(zip(form.column_fields(), state["samples"], strict=True))
    context = {"form": form, "state": state, "unit": unit, "rows": rows, "token": token}
    return render(request, "members/import_mapping.html", context)


def _first_errors(run: TaskRun) -> list[list[str]]:
    if not run.error_report:
        return []
    with run.error_report.open("rb") as handle:
        reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8-sig"))
        next(reader, None)
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) >= ERRORS_SHOWN:
                break
    return rows


def _status_page(request, token, run: TaskRun, template: str, extra: dict) -> HttpResponse:
    counts = counts_from_result(run.result) if run.status == TaskRun.Status.SUCCEEDED else {}
    context = {
        "task": run,
        "token": token,
        "counts": counts,
        "errors": _first_errors(run) if run.is_finished else [],
        "errors_shown": ERRORS_SHOWN,
        **extra,
    }
    if request.htmx:
        return render(request, "members/import_status.html", context)
    return render(request, template, context)


@login_required
def import_preview(request, token):
    """The dry run's progress, then every rejected row (the first 200 here, all in the report) and the choice."""
    state = _state(request, token)
    unit = _target(request, state)
    run = _run(request, state.get("preview_run"), PREVIEW_KIND)
    if run is None:
        return redirect("members:import_mapping", token)
    return _status_page(
        request,
        token,
        run,
        "members/import_preview.html",
        {"state": state, "unit": unit, "phase": "preview", "committed": bool(state.get("commit_run"))},
    )


@login_required
@require_POST
def import_commit(request, token):
    """Start the commit: all or nothing, or — when the person says so — only the valid rows."""
    state = _state(request, token)
    unit = _target(request, state)
    if state.get("commit_run"):
        return redirect("members:import_result", token)
    run = _run(request, state.get("preview_run"), PREVIEW_KIND)
    if run is None or run.status != TaskRun.Status.SUCCEEDED:
        raise Http404
    counts = counts_from_result(run.result)
    only_valid = request.POST.get("only_valid") == "1"
    valid = counts["created"] + counts["updated"] + counts["unchanged"]
    if counts["errors"] and not only_valid:
        messages.error(request, _("Some rows are rejected: correct the file, or import only the valid rows."))
        return redirect("members:import_preview", token)
    if not valid:
        messages.error(request, _("No row can be imported."))
        return redirect("members:import_preview", token)
    options = ImportOptions(
        unit_id=unit.pk,
        mapping=dict(zip(state["columns"], state["fields"], strict=True)),
        sheet=state["sheet"],
        duplicates=state["duplicates"],
        filename=state["filename"],
        mapping_name=state["mapping_name"],
    )
    commit = start_task(
        commit_members_import,
        kind=COMMIT_KIND,
        title=_("Import of {file} into {unit}").format(file=state["filename"], unit=unit.name),
        owner=request.user,
        unit=unit,
        storage_name=state["storage_name"],
        options=options.as_dict(),
        actor_id=request.user.pk,
        only_valid=only_valid,
        language=get_language(),
    )
    state["commit_run"] = str(commit.pk)
    _save(request)
    return redirect("members:import_result", token)


@login_required
def import_result(request, token):
    """The commit's progress and what it wrote."""
    state = _state(request, token)
    unit = _target(request, state)
    run = _run(request, state.get("commit_run"), COMMIT_KIND)
    if run is None:
        return redirect("members:import_preview", token)
    return _status_page(
        request, token, run, "members/import_result.html", {"state": state, "unit": unit, "phase": "commit"}
    )


@login_required
def import_template(request):
    """An empty workbook in our layout, to fill in by hand."""
    if not can_anywhere(request.user, IMPORT_MEMBERS):
        raise Http404
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append(OUR_LAYOUT)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Citizen ID, phone and card number as text, so that Excel keeps their leading zeros.
    for header in ("Số CCCD", "Số điện thoại", "Số thẻ đoàn viên"):
        column = column_letter(OUR_LAYOUT.index(header))
        for row in range(2, 1002):
            sheet[f"{column}{row}"].number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-doan-vien.xlsx"'
    return response
