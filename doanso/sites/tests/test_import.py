"""Import of sites and markers from CSV/XLSX, KML and GeoJSON: validation at the row and column, dry run, all or
nothing, only the valid rows; export in the same columns reads back."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from doanso.core.models import TaskRun

from .. import importing
from ..models import BorderMarker, Site, SiteStatus
from .support import make_marker

pytestmark = pytest.mark.django_db

HEADER = ["STT", "Tên địa điểm", "Loại", "Xếp hạng", "Số mốc", "Xã/phường", "Vĩ độ", "Kinh độ", "Tóm tắt"]


def xlsx(rows, title=True) -> bytes:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append(["DANH SÁCH ĐỊA CHỈ ĐỎ"])
        sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = [
    [1, "Địa đạo Kỳ Anh", "Di tích", "Quốc gia", "", "Xã Bến Giằng", "15.52", "107.75", "Địa đạo"],
    [2, "Cột mốc 680", "Cột mốc", "", "680", "20710", "15.6", "107.4", "Mốc chính"],
    [3, "Cọc dấu 680/1", "", "", "680/1", "Bến Giằng", "15.61", "107.41", ""],
]


def plan_for(world, data: bytes, filename: str):
    return importing.build_plan(importing.read_rows(data, filename), world.C1)


def test_xlsx_below_a_title_block_reads_and_checks(world):
    plan = plan_for(world, xlsx(GOOD), "dia-diem.xlsx")
    assert plan.errors == []
    assert [r.number for r in plan.rows] == [4, 5, 6]
    relic, _marker, aux = (r.values for r in plan.rows)
    assert (relic["kind"], relic["rank"], relic["division"].code) == ("relic", "national", "20710")
    assert plan.rows[1].marker["number"] == 680 and plan.rows[2].marker == {
        "number": 680,
        "sub_number": 1,
        "role": "auxiliary",
        "form": "single",
        "border_section": "",
        "lao_province": "",
    }
    assert aux["kind"] == "border_marker"


def test_bad_rows_are_reported_at_their_row_and_column(world):
    make_marker(world, 700, publish=False)
    rows = [
        [1, "Sai toạ độ", "Di tích", "", "", "Xã Bến Giằng", "107.75", "15.52", ""],  # swapped
        [2, "Ngoài Việt Nam", "", "", "", "", "48.8", "2.3", ""],
        [3, "Xã lạ", "", "", "", "Xã Không Có Thật", "15.5", "107.7", ""],
        [4, "Mốc trùng CSDL", "Cột mốc", "", "700", "", "15.5", "107.7", ""],
        [5, "Mốc A", "Cột mốc", "", "701", "", "15.5", "107.7", ""],
        [6, "Mốc B", "Cột mốc", "", "701", "", "15.5", "107.7", ""],
        [7, "Loại lạ", "Nhà hàng", "", "", "", "15.5", "107.7", ""],
        [8, "Đúng", "Đài tưởng niệm", "", "", "", "15.5", "107.7", ""],
    ]
    plan = plan_for(world, xlsx(rows, title=False), "f.xlsx")
    got = [(e.row, e.column, e.value, e.message[:40]) for e in plan.errors]
    assert got == [
        (2, "Vĩ độ", "107.75", "Latitude and longitude seem swapped: in "),
        (3, "Vĩ độ", "48.8", "The point 48.800000, 2.300000 is not in "),
        (4, "Xã/phường", "Xã Không Có Thật", "Unknown commune or ward “Xã Không Có Thậ"),
        (5, "Số mốc", "700", "Marker 700 already exists."),
        (7, "Số mốc", "701", "Marker 701 is also in row 6 of the file."),
        (8, "Loại", "Nhà hàng", "Unknown kind; use one of: Red address, H"),
    ]
    assert [r.number for r in plan.valid] == [6, 9]


def test_kml_with_broken_geometry_reports_the_placemark(world):
    kml = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
 <Placemark><name>Cột mốc 690</name><ExtendedData><Data name="Số mốc"><value>690</value></Data></ExtendedData>
  <Point><coordinates>107.45,15.65,0</coordinates></Point></Placemark>
 <Placemark><name>Không có điểm</name></Placemark>
 <Placemark><name>Đường</name><LineString><coordinates>107.1,15.1 107.2,15.2</coordinates></LineString></Placemark>
 <Placemark><name>Hỏng</name><Point><coordinates>abc</coordinates></Point></Placemark>
</Document></kml>""".encode()
    plan = plan_for(world, kml, "moc.kml")
    assert [(e.row, e.message) for e in plan.errors] == [
        (2, "The placemark has no point (coordinates)."),
        (3, "The placemark is a LineString, not a point."),
        (4, "The point's coordinates “abc” are not “longitude,latitude”."),
    ]
    first = plan.rows[0]
    assert (str(first.values["latitude"]), first.marker["number"]) == ("15.650000", 690)


def test_malformed_files_are_refused_with_a_message(world):
    for data, name, fragment in [
        (b"<kml><Placemark>", "a.kml", "not valid XML"),
        (b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa">]><kml/>', "b.kml", "DOCTYPE"),
        (b"{not json", "c.geojson", "not valid JSON"),
        (b'{"type": "Point"}', "d.geojson", "not a FeatureCollection"),
        (b"%PDF-1.4 hello", "e.xlsx", "PDF"),
    ]:
        with pytest.raises(importing.ImportFileError) as exc:
            plan_for(world, data, name)
        assert fragment in str(exc.value), name


def test_geojson_features(world):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [108.22, 16.06]},
                "properties": {"name": "Tượng đài", "Loại": "Tượng đài"},
            },
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": {"name": "Vùng"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": ["x", 1]}, "properties": {"name": "Sai"}},
        ],
    }
    plan = plan_for(world, json.dumps(doc).encode(), "x.geojson")
    assert [(e.row, e.message) for e in plan.errors] == [
        (2, "The feature is a Polygon, not a point."),
        (3, "The point's coordinates are not [longitude, latitude]."),
    ]
    assert plan.rows[0].values["kind"] == "memorial"


@pytest.fixture
def run_import(client, login, world, django_capture_on_commit_callbacks):
    def run(data, name, mode):
        login(client, world.manager_C1)
        upload = SimpleUploadedFile(name, data)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("sites:import_start"), {"file": upload, "unit": "C1", "mode": mode})
        assert response.status_code == 302
        return TaskRun.objects.get(pk=response.url.rstrip("/").split("/")[-1])

    return run


def test_dry_run_writes_nothing_and_all_or_nothing_refuses_a_file_with_errors(run_import):
    rows = [*GOOD, [4, "Ngoài", "", "", "", "", "48.8", "2.3", ""]]
    run = run_import(xlsx(rows), "f.xlsx", "check")
    assert (run.status, run.result, run.error_count) == ("succeeded", {"rows": 4, "errors": 1, "created": 0}, 1)
    assert "Nothing was written" in run.message
    report = run.error_report.read().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(report)))[1][:3] == ["7", "Vĩ độ", "48.8"]
    run = run_import(xlsx(rows), "f.xlsx", "all")
    assert run.message.startswith("Nothing was imported: 1 rows have problems")
    assert Site.objects.count() == 0
    run = run_import(xlsx(rows), "f.xlsx", "valid")
    assert run.result == {"rows": 4, "errors": 1, "created": 3}
    assert sorted(Site.objects.values_list("name", "status")) == [
        ("Cọc dấu 680/1", SiteStatus.DRAFT),
        ("Cột mốc 680", SiteStatus.DRAFT),
        ("Địa đạo Kỳ Anh", SiteStatus.DRAFT),
    ]
    assert list(BorderMarker.objects.values_list("number", "sub_number")) == [(680, 0), (680, 1)]


def test_export_reads_back_as_import(client, world, run_import):
    run_import(xlsx(GOOD), "f.xlsx", "all")
    for fmt in ("xlsx", "csv", "kml", "geojson"):
        response = client.get(reverse("sites:export", args=[fmt]))
        assert response.status_code == 200
        plan = importing.build_plan(importing.read_rows(response.content, f"x.{fmt}"), world.C1)
        # Everything is there again; the markers now exist, so importing them twice is refused.
        assert sorted(r.values["name"] for r in plan.rows) == ["Cọc dấu 680/1", "Cột mốc 680", "Địa đạo Kỳ Anh"], fmt
        assert sorted(e.message for e in plan.errors) == ["Marker 680 already exists.", "Marker 680/1 already exists."]


def test_text_longer_than_its_column_is_a_row_error_not_a_database_error(world):
    rows = [[1, "Địa điểm " + "rất dài " * 40, "Di tích", "", "", "Xã Bến Giằng", "15.52", "107.75", ""], GOOD[1]]
    plan = plan_for(world, xlsx(rows, title=False), "f.xlsx")
    assert [(e.row, e.column, e.message[:20]) for e in plan.errors] == [(2, "Tên địa điểm", "At most 255 characte")]
    assert [r.number for r in plan.valid] == [3]


def test_a_marker_taken_between_the_check_and_the_import_refuses_the_whole_import(world):
    plan = plan_for(world, xlsx(GOOD, title=False), "f.xlsx")
    make_marker(world, 680, publish=False)  # someone else, meanwhile
    with pytest.raises(importing.ImportRefused) as exc:
        importing.commit_plan(plan, actor=world.admin, unit=world.C1, only_valid=False)
    assert str(exc.value).startswith("Row 3: Marker 680 already exists.")
    assert Site.objects.count() == 1  # the marker made meanwhile only
