import time
import unicodedata
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from doanso.core.text import fold
from doanso.org.divisions import (
    ConversionStatus,
    convert_legacy_address,
    convert_legacy_province,
    load_divisions,
    search_divisions,
)
from doanso.org.models import AdministrativeDivision, DivisionLevel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in their English source form, which stays stable when Vietnamese is added.
    with translation.override("en"):
        yield


def codes(result):
    return [c.division.code for c in result.candidates]


def table_state():
    return list(
        AdministrativeDivision.objects.order_by("code").values_list(
            "code", "level", "name", "division_type", "province__code", "search_name"
        )
    )


# --- The table, as the migration leaves it ---------------------------------------------------------------------


def test_migration_loads_34_provinces_and_3321_communes():
    assert AdministrativeDivision.objects.filter(level=DivisionLevel.PROVINCE).count() == 34
    assert AdministrativeDivision.objects.filter(level=DivisionLevel.COMMUNE).count() == 3321
    assert not AdministrativeDivision.objects.filter(level=DivisionLevel.PROVINCE, province__isnull=False).exists()
    assert not AdministrativeDivision.objects.filter(level=DivisionLevel.COMMUNE, province__isnull=True).exists()


def test_codes_names_and_types():
    da_nang = AdministrativeDivision.objects.get(code="48")
    assert (da_nang.name, da_nang.level, da_nang.division_type) == (
        "Thành phố Đà Nẵng",
        "province",
        "thành phố trung ương",
    )
    assert da_nang.communes.count() == 94
    ba_dinh = AdministrativeDivision.objects.select_related("province").get(code="00004")
    assert (ba_dinh.name, ba_dinh.division_type, ba_dinh.province.code) == ("Phường Ba Đình", "phường", "01")
    assert str(ba_dinh) == "Phường Ba Đình, Thành phố Hà Nội"
    assert AdministrativeDivision.objects.get(code="20333").division_type == "đặc khu"  # Hoàng Sa


def test_package_name_in_lower_case_is_capitalised():
    # The package spells this one "xã Bắc Sơn"; every other name starts with a capital.
    assert AdministrativeDivision.objects.get(code="06325").name == "Xã Bắc Sơn"


def test_search_name_is_the_folded_name_everywhere():
    rows = AdministrativeDivision.objects.values_list("name", "search_name")
    assert all(search_name == fold(name) for name, search_name in rows)
    assert AdministrativeDivision.objects.get(code="20710").search_name == "xa ben giang"


# --- Reloading ---------------------------------------------------------------------------------------------------


def test_reload_is_idempotent():
    before = table_state()
    result = load_divisions()
    assert (result.provinces, result.communes) == (34, 3321)
    assert (result.created, result.updated, result.unchanged, result.stale, result.deleted) == (0, 0, 3355, (), 0)
    assert table_state() == before


def test_reload_repairs_changed_and_missing_rows_in_place():
    before = table_state()
    hai_chau = AdministrativeDivision.objects.get(code="20242")
    AdministrativeDivision.objects.filter(pk=hai_chau.pk).update(name="Sai", search_name="sai")
    AdministrativeDivision.objects.filter(code="20710").delete()
    result = load_divisions()
    assert (result.created, result.updated, result.unchanged) == (1, 1, 3353)
    assert table_state() == before
    # Updated in place: whatever points at the row keeps pointing at it.
    assert AdministrativeDivision.objects.get(code="20242").pk == hai_chau.pk


def test_stale_codes_are_kept_unless_pruned():
    da_nang = AdministrativeDivision.objects.get(code="48")
    AdministrativeDivision.objects.create(
        code="99999", level="commune", name="Xã Cũ", division_type="xã", province=da_nang, search_name="xa cu"
    )
    result = load_divisions()
    assert result.stale == ("99999",)
    assert AdministrativeDivision.objects.filter(code="99999").exists()
    result = load_divisions(prune=True)
    assert (result.stale, result.deleted) == (("99999",), 1)
    assert not AdministrativeDivision.objects.filter(code="99999").exists()
    assert AdministrativeDivision.objects.count() == 3355


def test_full_load_into_an_empty_table_is_fast():
    AdministrativeDivision.objects.all().delete()
    started = time.perf_counter()
    result = load_divisions()
    elapsed = time.perf_counter() - started
    assert (result.created, result.updated) == (3355, 0)
    assert AdministrativeDivision.objects.count() == 3355
    assert elapsed < 5  # bulk inserts: about 0.1 s on SQLite; one INSERT per row would take far longer


def test_sync_divisions_command_prints_counts():
    out = StringIO()
    call_command("sync_divisions", stdout=out)
    assert "34 provinces, 3321 communes." in out.getvalue()
    assert "Created 0, updated 0, unchanged 3355, deleted 0." in out.getvalue()


# --- Searching the current divisions ----------------------------------------------------------------------------


def test_search_ignores_diacritics_and_ranks_the_exact_name_first():
    assert [d.code for d in search_divisions("hai chau")][:1] == ["20242"]
    assert [d.code for d in search_divisions("HẢI CHÂU")][:1] == ["20242"]
    assert [d.code for d in search_divisions(unicodedata.normalize("NFD", "Hải Châu"))][:1] == ["20242"]


def test_search_puts_the_province_before_its_communes_and_matches_province_words():
    results = list(search_divisions("da nang"))
    assert results[0].code == "48"
    assert len(results) == 15
    # "ben giang da nang": commune words plus province words.
    assert [d.code for d in search_divisions("ben giang da nang")] == ["20710"]


def test_search_by_code_and_nothing_for_blank():
    assert [d.code for d in search_divisions("20710")] == ["20710"]
    assert list(search_divisions("   ")) == []
    assert list(search_divisions("khong co ten nay")) == []


# --- Converting former addresses ---------------------------------------------------------------------------------


def test_former_quang_nam_commune_by_name():
    result = convert_legacy_address("Tỉnh Quảng Nam", "Huyện Nam Giang", "Xã Tà Bhinh")
    assert result.status == ConversionStatus.FOUND
    assert (result.commune.code, result.commune.name) == ("20710", "Xã Bến Giằng")
    assert (result.province.code, result.province.name) == ("48", "Thành phố Đà Nẵng")
    assert result.commune.picker_value == "Xã Bến Giằng, Thành phố Đà Nẵng — 20710"
    assert result.sources == ("Xã Tà Bhinh, Huyện Nam Giang, Tỉnh Quảng Nam",)
    assert result.message == "Xã Tà Bhinh, Huyện Nam Giang, Tỉnh Quảng Nam is now Xã Bến Giằng, Thành phố Đà Nẵng."


def test_former_quang_nam_commune_without_diacritics_or_prefixes_and_by_code():
    for args in (("quang nam", "nam giang", "ta bhinh"), (49, 510, 20710), ("49", "510", "20710")):
        result = convert_legacy_address(*args)
        assert (result.status, result.commune.code) == (ConversionStatus.FOUND, "20710"), args


def test_former_town_becomes_a_commune():
    result = convert_legacy_address("Quảng Nam", "Nam Giang", "Thị trấn Thạnh Mỹ")
    assert (result.commune.code, result.commune.name) == ("20695", "Xã Thạnh Mỹ")


def test_former_da_nang_district_commune():
    result = convert_legacy_address("TP. Đà Nẵng", "Quận Hải Châu", "Phường Thạch Thang")
    assert (result.status, result.commune.code, result.commune.name) == (
        ConversionStatus.FOUND,
        "20242",
        "Phường Hải Châu",
    )


def test_nfd_input():
    nfd = [unicodedata.normalize("NFD", s) for s in ("Tỉnh Quảng Nam", "Huyện Nam Giang", "Xã Chơ Chun")]
    assert nfd[2] != "Xã Chơ Chun"
    result = convert_legacy_address(*nfd)
    assert (result.commune.code, result.commune.name) == ("20698", "Xã La Êê")


def test_spacing_of_names_does_not_matter():
    # The former list writes "Xã Laêê"; the new one "Xã La Êê".
    assert convert_legacy_address("Quảng Nam", "Nam Giang", "La Êê").commune.code == "20698"


def test_numbered_wards_of_ho_chi_minh_city():
    for args in (("TP. Hồ Chí Minh", "Quận 3", "Phường 1"), ("tp.hcm", "Q3", "P.01"), ("HCM", "quan 3", "p1")):
        result = convert_legacy_address(*args)
        assert (result.status, result.commune.code, result.commune.name) == (
            ConversionStatus.FOUND,
            "27154",
            "Phường Bàn Cờ",
        ), args


def test_divided_commune_lists_its_new_communes():
    result = convert_legacy_address("Đà Nẵng", "Hòa Vang", "Hòa Liên")
    assert result.status == ConversionStatus.AMBIGUOUS
    assert result.commune is None
    assert result.province.code == "48"
    assert codes(result) == ["20194", "20197"]
    assert [c.division.name for c in result.candidates] == ["Phường Hải Vân", "Phường Liên Chiểu"]
    assert result.message == (
        "Xã Hòa Liên, Huyện Hòa Vang, Thành phố Đà Nẵng was divided between 2 new communes; "
        "choose the one where the address lies."
    )


def test_type_word_tells_homonyms_apart():
    assert convert_legacy_address("Lai Châu", "Mường Tè", "Thị trấn Mường Tè").commune.code == "03433"
    assert convert_legacy_address("Lai Châu", "Mường Tè", "xa muong te").commune.code == "03445"
    result = convert_legacy_address("Lai Châu", "Mường Tè", "Mường Tè")
    assert result.status == ConversionStatus.AMBIGUOUS
    assert codes(result) == ["03433", "03445"]
    assert [c.source for c in result.candidates] == [
        "Thị trấn Mường Tè, Huyện Mường Tè, Tỉnh Lai Châu",
        "Xã Mường Tè, Huyện Mường Tè, Tỉnh Lai Châu",
    ]


def test_diacritics_tell_homonyms_apart():
    assert convert_legacy_address("Quảng Nam", "Nam Trà My", "Xã Trà Dơn").commune.code == "20938"
    assert convert_legacy_address("Quảng Nam", "Nam Trà My", "Trà Don").commune.code == "20944"
    result = convert_legacy_address("Quảng Nam", "Nam Trà My", "tra don")
    assert (result.status, codes(result)) == (ConversionStatus.AMBIGUOUS, ["20938", "20944"])


def test_a_common_name_without_district_is_ambiguous():
    result = convert_legacy_address(None, None, "Tân Hòa")
    assert result.status == ConversionStatus.AMBIGUOUS
    assert result.province is None
    assert len(result.sources) == 20
    assert result.message == "20 former communes match; choose one, or give the former district or province."
    # The type word narrows it to the communes (xã), leaving out the wards (phường) and towns (thị trấn).
    result = convert_legacy_address(None, None, "Xã Tân Hòa")
    assert len(result.sources) == 15
    assert all(source.startswith("Xã ") for source in result.sources)
    # The province is enough when the name is unique there.
    assert convert_legacy_address("Thái Nguyên", None, "Xã Tân Hòa").commune.name == "Xã Tân Thành"


def test_unknown_names_say_which_part_was_not_found():
    result = convert_legacy_address("Tỉnh Quảng Nam", "Huyện Nam Giang", "Xã Không Có")
    assert result.status == ConversionStatus.NOT_FOUND
    assert (result.commune, result.province, result.candidates) == (None, None, ())
    assert result.message == "No former commune “Xã Không Có” in Huyện Nam Giang, Tỉnh Quảng Nam."
    assert convert_legacy_address("Quảng Xyz", None, "Tà Bhinh").message == "No former province matches “Quảng Xyz”."
    assert (
        convert_legacy_address("Quảng Nam", "Hải Châu", "Thạch Thang").message
        == "No former district “Hải Châu” in Tỉnh Quảng Nam."
    )
    assert convert_legacy_address(None, None, 99999999).status == ConversionStatus.NOT_FOUND
    assert convert_legacy_address("", " ", None).message == "Enter the former commune, district or province."


def test_codes_must_agree_with_the_names_around_them():
    # 20710 (Xã Tà Bhinh) is in Nam Giang, not in Quận Hải Châu of Đà Nẵng.
    result = convert_legacy_address("Đà Nẵng", "Hải Châu", 20710)
    assert result.status == ConversionStatus.NOT_FOUND


def test_a_district_alone_lists_the_communes_now_covering_it():
    result = convert_legacy_address("Đà Nẵng", "Huyện Hòa Vang", None)
    assert result.status == ConversionStatus.AMBIGUOUS
    assert result.province.code == "48"
    assert codes(result) == ["20194", "20197", "20200", "20308", "20314", "20320", "20332"]
    assert result.message.startswith("Districts no longer exist: the area of Huyện Hòa Vang, Thành phố Đà Nẵng")


def test_island_district_becomes_its_special_zone():
    # The package's commune table has no row for the island districts (they had no communes).
    result = convert_legacy_address("Đà Nẵng", "Huyện Hoàng Sa", None)
    assert (result.status, result.commune.code, result.commune.name) == (
        ConversionStatus.FOUND,
        "20333",
        "Đặc khu Hoàng Sa",
    )


def test_former_commune_missing_from_the_conversion_table_offers_its_district():
    result = convert_legacy_address("Thừa Thiên Huế", "Phú Lộc", "Hương Hòa")
    assert result.status == ConversionStatus.AMBIGUOUS
    assert result.sources == ("Xã Hương Hòa, Huyện Phú Lộc, Thành phố Huế",)
    assert result.province.code == "46"
    assert len(result.candidates) == 8
    assert result.message.startswith("The conversion table has no entry for Xã Hương Hòa")


def test_former_province_alone():
    result = convert_legacy_address("Tỉnh Quảng Nam", None, None)
    assert (result.status, result.commune, result.province.code) == (ConversionStatus.FOUND, None, "48")
    assert result.message == "Tỉnh Quảng Nam is now part of Thành phố Đà Nẵng."


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Quảng Nam", "48"),
        (49, "48"),
        ("Bà Rịa - Vũng Tàu", "79"),
        ("ba ria vung tau", "79"),
        ("Thừa Thiên Huế", "46"),
        ("TP.HCM", "79"),
        ("Hà Giang", "08"),
        # The package's own province table also sends Tiền Giang to Tây Ninh (one Long An commune is filed under
        # Tiền Giang there); its communes all went to Đồng Tháp.
        ("Tiền Giang", "82"),
    ],
)
def test_convert_legacy_province(old, new):
    result = convert_legacy_province(old)
    assert (result.status, result.province.code) == (ConversionStatus.FOUND, new)


def test_convert_legacy_province_unknown():
    result = convert_legacy_province("Không Có")
    assert (result.status, result.province) == (ConversionStatus.NOT_FOUND, None)
    assert result.message == "No former province matches “Không Có”."


# --- Pages -------------------------------------------------------------------------------------------------------


def test_pages_need_a_login(client):
    for name in ("division_convert", "division_lookup"):
        response = client.get(reverse(f"org:{name}"), {"q": "hai chau"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_lookup_returns_picker_values(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("org:division_lookup"), {"q": "ben giang"})
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "code": "20710",
                "name": "Xã Bến Giằng",
                "province": "Thành phố Đà Nẵng",
                "label": "Xã Bến Giằng, Thành phố Đà Nẵng — 20710",
            }
        ]
    }
    results = client.get(reverse("org:division_lookup"), {"q": "da nang"}).json()["results"]
    assert len(results) == 15
    assert results[0] == {
        "code": "48",
        "name": "Thành phố Đà Nẵng",
        "province": None,
        "label": "Thành phố Đà Nẵng — 48",
    }
    assert client.get(reverse("org:division_lookup")).json() == {"results": []}


def test_convert_page(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("org:division_convert"))
    assert response.status_code == 200
    assert "result" not in response.context
    assert not response.context["form"].is_bound

    response = client.get(
        reverse("org:division_convert"), {"province": "Quảng Nam", "district": "Nam Giang", "commune": "Tà Bhinh"}
    )
    assert response.status_code == 200
    assert response.context["result"].commune.code == "20710"
    assert 'value="Xã Bến Giằng, Thành phố Đà Nẵng — 20710"' in response.content.decode()


def test_convert_page_lists_candidates_and_refuses_an_empty_form(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("org:division_convert"), {"province": "Đà Nẵng", "commune": "Hòa Liên"})
    assert [c.division.code for c in response.context["candidates"]] == ["20194", "20197"]
    html = response.content.decode()
    assert 'value="Phường Hải Vân, Thành phố Đà Nẵng — 20194"' in html
    assert 'value="Phường Liên Chiểu, Thành phố Đà Nẵng — 20197"' in html

    response = client.get(
        reverse("org:division_convert"),
        {"province": "", "district": "", "commune": ""},
        headers={"accept-language": "en"},
    )
    assert "result" not in response.context
    assert response.context["form"].non_field_errors() == ["Enter at least the former province, district or commune."]
