import unicodedata

import pytest

from doanso.core.text import fold, nfc


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Nguyễn Đức", "nguyen duc"),
        ("ĐOÀN XÃ HÒA VANG", "doan xa hoa vang"),
        ("  Trần   Thị\tThu  ", "tran thi thu"),
        ("Ê-đê", "e-de"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_fold_is_the_same_for_nfc_and_nfd():
    name = "Nguyễn Thị Ánh Tuyết Đặng"
    assert (
        fold(unicodedata.normalize("NFD", name))
        == fold(unicodedata.normalize("NFC", name))
        == ("nguyen thi anh tuyet dang")
    )


def test_nfc_composes_and_collapses_spaces():
    decomposed = unicodedata.normalize("NFD", "Hòa  Vang ")
    assert nfc(decomposed) == "Hòa Vang"
    assert unicodedata.is_normalized("NFC", nfc(decomposed))


def test_vietnamese_dictionary_order():
    from doanso.core.text import vn_sort_key

    names = ["Đức", "Dũng", "Ánh", "An", "Ăn", "Âu", "Anh", "Hạ", "Hà", "Ha", "Hả", "Ơn", "Ôn", "On", "Ưng", "Uyên"]
    assert sorted(names, key=vn_sort_key) == [
        "An",
        "Anh",
        "Ánh",
        "Ăn",
        "Âu",
        "Dũng",
        "Đức",
        "Ha",
        "Hà",
        "Hả",
        "Hạ",
        "On",
        "Ôn",
        "Ơn",
        "Uyên",
        "Ưng",
    ]
    assert vn_sort_key("Nguyễn") == vn_sort_key(unicodedata.normalize("NFD", "Nguyễn"))
    assert vn_sort_key("Đức").isalnum() and vn_sort_key("Đức").upper() == vn_sort_key("Đức")
