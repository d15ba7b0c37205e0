"""The import pages: upload, mapping, dry run with the rejected rows, the explicit choice, the commit."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from doanso.core.models import TaskRun
from doanso.members.importing import NATIONAL_MAPPING_NAME, OUR_LAYOUT, OUR_MAPPING_NAME
from doanso.members.models import ImportMapping, Member, MemberEvent

from .import_files import HEADER, people, person, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def cadre(client, world):
    """The manager of C1, browsing in English (the messages asserted are the English source)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.manager_C1)
    return client


def upload(client, path, unit="C1", mapping="__auto__"):
    with open(path, "rb") as handle:
        data = handle.read()
    return client.post(
        reverse("members:import_start"),
        {"file": SimpleUploadedFile(path.name, data), "unit": unit, "mapping": mapping},
    )


def token_of(response) -> str:
    return re.search(r"/nhap/([0-9a-f]{32})/", response.url).group(1)


def mapping_post(client, token, **extra):
    page = client.get(reverse("members:import_mapping", args=[token]))
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(extra)
    return client.post(reverse("members:import_mapping", args=[token]), data)


def private_files(tmp_path) -> list[str]:
    root = tmp_path / "private" / "imports"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_whole_way_for_a_clean_file(cadre, world, tmp_path, django_capture_on_commit_callbacks):
    path = write_xlsx(tmp_path / "danh-sach.xlsx", [HEADER, *people(3)], title=[["DANH SÁCH ĐOÀN VIÊN"], []])
    response = upload(cadre, path)
    assert response.status_code == 302
    token = token_of(response)
    # Stored in the private storage, never under MEDIA_ROOT.
    assert len(private_files(tmp_path)) == 1 and not (tmp_path / "media").exists()

    page = cadre.get(reverse("members:import_mapping", args=[token]))
    assert page.status_code == 200
    assert [field.value() for field in page.context["form"].column_fields()] == [
        "",
        "full_name",
        "date_of_birth",
        "sex",
        "ethnicity",
        "citizen_id",
        "phone",
        "joined_on",
        "unit_name",
    ]
    assert page.context["rows"][1][1] == ["Trần Thị Bình", "Trần Thị Chi", "Trần Thị Dũng"]
    assert "header in row 3" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = mapping_post(cadre, token)
    assert response.url == reverse("members:import_preview", args=[token])
    preview = TaskRun.objects.get(kind="members.import_preview")
    assert (preview.status, preview.owner, preview.unit, preview.error_count) == (
        "succeeded",
        world.manager_C1,
        world.C1,
        0,
    )
    assert Member.objects.count() == 0  # the dry run writes nothing

    page = cadre.get(response.url)
    assert page.context["counts"] == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": 0}
    assert "Every row is valid." in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = cadre.post(reverse("members:import_commit", args=[token]))
    assert response.url == reverse("members:import_result", args=[token])
    assert Member.objects.filter(unit=world.B1).count() == 3
    page = cadre.get(response.url)
    assert page.context["counts"] == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": 0}
    # The uploaded file is gone once its rows are in the registry.
    assert private_files(tmp_path) == []
    # A second click does not import twice.
    cadre.post(reverse("members:import_commit", args=[token]))
    assert TaskRun.objects.filter(kind="members.import_commit").count() == 1


def test_rejected_rows_are_listed_and_only_an_explicit_choice_imports_the_valid_ones(
    cadre, world, tmp_path, django_capture_on_commit_callbacks
):
    rows = [HEADER, *people(2), person(3, **{"Ngày sinh": "31/02/2001"}), person(4, **{"Số CCCD": "048304000004"})]
    token = token_of(upload(cadre, write_xlsx(tmp_path / "ds.xlsx", rows)))
    with django_capture_on_commit_callbacks(execute=True):
        mapping_post(cadre, token)
    page = cadre.get(reverse("members:import_preview", args=[token]))
    assert page.context["errors"] == [
        ["4", "Ngày sinh", "31/02/2001", "The date 31/02/2001 does not exist: month 2 of 2001 has 28 days."],
        ["5", "Số CCCD", "048304000004", "Digits 5–6 (04) must be the year of birth (2003)."],
        ["5", "Số CCCD", "048304000004", "The fourth digit (3) is for a woman, but the sex is male."],
    ]
    html = page.content.decode()
    assert "Import only the 2 valid rows" in html and "Every row is valid." not in html

    # Without the explicit choice nothing starts and nothing is written.
    response = cadre.post(reverse("members:import_commit", args=[token]))
    assert response.url == reverse("members:import_preview", args=[token])
    assert (Member.objects.count(), TaskRun.objects.filter(kind="members.import_commit").count()) == (0, 0)

    with django_capture_on_commit_callbacks(execute=True):
        cadre.post(reverse("members:import_commit", args=[token]), {"only_valid": "1"})
    assert sorted(Member.objects.values_list("citizen_id", flat=True)) == ["048303000001", "048303000002"]
    commit = TaskRun.objects.get(kind="members.import_commit")
    report = list(csv.reader(io.StringIO(commit.error_report.read().decode("utf-8-sig"))))
    assert [r[0] for r in report[1:]] == ["4", "5", "5"]


def test_the_page_shows_200_rejected_rows_and_the_report_has_all(cadre, tmp_path, django_capture_on_commit_callbacks):
    rows = [HEADER] + [[*r[:2], "30/02/2003", *r[3:]] for r in people(250)]
    token = token_of(upload(cadre, write_xlsx(tmp_path / "ds.xlsx", rows)))
    with django_capture_on_commit_callbacks(execute=True):
        mapping_post(cadre, token)
    page = cadre.get(reverse("members:import_preview", args=[token]))
    assert len(page.context["errors"]) == 200
    assert "The first 200 of 250 problems; the report has all of them." in page.content.decode()
    run = TaskRun.objects.get(kind="members.import_preview")
    with run.error_report.open("rb") as handle:
        report = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    assert len(report) == 251 and report[-1][0] == "251"
    assert "No row can be imported." in page.content.decode()


def test_a_damaged_file_is_refused_at_the_upload_and_nothing_is_kept(cadre, tmp_path):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    response = upload(cadre, path)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The file is damaged and cannot be read. Open it in Excel or LibreOffice, save it again and upload it."
    ]
    assert private_files(tmp_path) == [] and cadre.session.get("member_imports", {}) == {}


def test_a_unit_outside_the_scope_cannot_be_chosen(cadre, tmp_path):
    response = upload(cadre, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)]), unit="C2")
    assert response.context["form"].errors["unit"] == ["No unit with the code “C2” in your units."]
    assert private_files(tmp_path) == []


def test_an_import_belongs_to_the_session_that_started_it(cadre, client, world, tmp_path):
    token = token_of(upload(cadre, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)])))
    from django.test import Client

    other = Client()
    other.force_login(world.manager_P)  # may import into C1, but this is not their import
    for name in ("import_mapping", "import_preview", "import_result"):
        assert other.get(reverse(f"members:{name}", args=[token])).status_code == 404
    assert other.post(reverse("members:import_commit", args=[token])).status_code == 404


def test_mapping_problems_and_saving_a_mapping(cadre, world, tmp_path, django_capture_on_commit_callbacks):
    token = token_of(upload(cadre, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)])))
    response = mapping_post(cadre, token, col_2="", save_as="")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Choose the column of the date of birth."]

    response = mapping_post(cadre, token, save_as=OUR_MAPPING_NAME)
    assert response.context["form"].errors["save_as"] == ["This is the name of a built-in layout; choose another name."]
    with django_capture_on_commit_callbacks(execute=True):
        response = mapping_post(cadre, token, col_8="", save_as="Danh sách thôn")
    assert response.status_code == 302
    saved = ImportMapping.objects.get(name="Danh sách thôn")
    assert (saved.created_by, saved.is_builtin, saved.mapping["Đơn vị"], saved.mapping["Họ và tên"]) == (
        world.manager_C1,
        False,
        "",
        "full_name",
    )
    # Rows without a unit column go to the unit imported into.
    with django_capture_on_commit_callbacks(execute=True):
        cadre.post(reverse("members:import_commit", args=[token]))
    assert Member.objects.get().unit == world.C1
    assert MemberEvent.objects.get().kind == "imported"


def test_built_in_layouts_are_offered(cadre):
    page = cadre.get(reverse("members:import_start"))
    choices = [value for value, _label in page.context["form"].fields["mapping"].choices]
    assert choices == ["__auto__", OUR_MAPPING_NAME, NATIONAL_MAPPING_NAME]
    assert set(ImportMapping.objects.filter(is_builtin=True).values_list("name", flat=True)) == {
        OUR_MAPPING_NAME,
        NATIONAL_MAPPING_NAME,
    }


def test_progress_is_polled_as_a_partial(cadre, tmp_path):
    token = token_of(upload(cadre, write_xlsx(tmp_path / "ds.xlsx", [HEADER, person(1)])))
    mapping_post(cadre, token)  # the task is enqueued after commit: here it stays queued
    url = reverse("members:import_preview", args=[token])
    partial = cadre.get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert html.lstrip().startswith('<section id="import-status"') and f'hx-get="{url}"' in html


def test_the_empty_template_has_our_layout(cadre):
    import openpyxl

    response = cadre.get(reverse("members:import_template"))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook.active[1]] == OUR_LAYOUT
