"""Administrative divisions: loading the 2025 provinces and communes, and converting pre-2025 addresses.

Everything comes from the ``vietnam-provinces`` package: the current (post-1 July 2025) provinces and communes,
the legacy three-level lists (province / district / commune) and the official old-to-new commune table. Only its
public API is used (``Province``, ``Ward``, ``vietnam_provinces.legacy``, ``Ward.search_from_legacy(code=)``).

Names are matched here rather than through the package's own fuzzy ``search`` helpers: those take the first
partial match (``Ward.search_from_legacy_district(name=)`` silently picks one of the many "Châu Thành"
districts), whereas an address conversion must either be sure or say that it is not.

Codes in our table: a province is its official code on two digits ("48"), a commune its official code on five
("00004"). Conversion results carry those codes so that callers can resolve many rows with one query.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from doanso.core.text import fold, nfc

PROVINCE = "province"
COMMUNE = "commune"
DISTRICT = "district"  # pre-2025 only: the level the 2025 reform abolished


def province_code(code: int) -> str:
    return f"{int(code):02d}"


def commune_code(code: int) -> str:
    return f"{int(code):05d}"


def _clean_name(name: str) -> str:
    # The package has a few names whose type word is in lower case ("xã Bắc Sơn"); every other name starts
    # with a capital, and the picker sorts and displays them side by side.
    name = nfc(name)
    return name[:1].upper() + name[1:]


# --- Loading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    provinces: int
    communes: int
    created: int
    updated: int
    unchanged: int
    # Codes in the table that the package no longer has; kept unless ``prune`` (units may point at them).
    stale: tuple[str, ...]
    deleted: int


def _package_rows() -> list[dict]:
    """The rows the table should hold, provinces first (communes refer to them)."""
    from vietnam_provinces import Province, Ward

    rows = [
        {
            "code": province_code(p.code.value),
            "level": PROVINCE,
            "name": _clean_name(p.name),
            "division_type": str(p.division_type.value),
            "province": None,
        }
        for p in sorted(Province.iter_all(), key=lambda p: p.code.value)
    ]
    rows += [
        {
            "code": commune_code(w.code.value),
            "level": COMMUNE,
            "name": _clean_name(w.name),
            "division_type": str(w.division_type.value),
            "province": province_code(w.province_code.value),
        }
        for w in sorted(Ward.iter_all(), key=lambda w: w.code.value)
    ]
    for row in rows:
        row["search_name"] = fold(row["name"])
    return rows


def load_divisions(apps_or_none=None, *, using: str = DEFAULT_DB_ALIAS, prune: bool = False) -> LoadResult:
    """(Re)fill ``AdministrativeDivision`` from the installed package; running it twice changes nothing.

    ``apps_or_none`` is the migration's app registry (historical model) or None for the current model. Rows are
    matched by code: new codes are created, changed names/types/provinces updated in bulk. Codes the package
    dropped are only reported, because units and members may point at them; ``prune=True`` deletes them and
    fails as a whole (``ProtectedError``) if something still refers to one.
    """
    from django.apps import apps as current_apps

    Division = (apps_or_none or current_apps).get_model("org", "AdministrativeDivision")

    rows = _package_rows()
    fields = ["level", "name", "division_type", "search_name"]
    created = updated = unchanged = 0
    with transaction.atomic(using=using):
        manager = Division.objects.using(using)
        existing = {d.code: d for d in manager.all()}
        # Two passes: communes need the primary keys of their provinces, which may only exist after pass one.
        province_pks: dict[str, int] = {}
        for level in (PROVINCE, COMMUNE):
            if level == COMMUNE:
                province_pks = dict(manager.filter(level=PROVINCE).values_list("code", "pk"))
            to_create, to_update = [], []
            for row in (r for r in rows if r["level"] == level):
                province_id = province_pks[row["province"]] if row["province"] else None
                current = existing.get(row["code"])
                if current is None:
                    to_create.append(Division(code=row["code"], province_id=province_id, **{f: row[f] for f in fields}))
                elif any(getattr(current, f) != row[f] for f in fields) or current.province_id != province_id:
                    for f in fields:
                        setattr(current, f, row[f])
                    current.province_id = province_id
                    to_update.append(current)
                else:
                    unchanged += 1
            manager.bulk_create(to_create, batch_size=500)
            manager.bulk_update(to_update, [*fields, "province"], batch_size=500)
            created += len(to_create)
            updated += len(to_update)

        wanted = {r["code"] for r in rows}
        stale = tuple(sorted(code for code in existing if code not in wanted))
        deleted = 0
        if prune and stale:
            deleted, _by_model = manager.filter(code__in=stale).delete()
    return LoadResult(
        provinces=sum(1 for r in rows if r["level"] == PROVINCE),
        communes=sum(1 for r in rows if r["level"] == COMMUNE),
        created=created,
        updated=updated,
        unchanged=unchanged,
        stale=stale,
        deleted=deleted,
    )


# --- Searching the current divisions (the picker) -------------------------------------------------------------


def search_divisions(query: str, limit: int = 15):
    """Current provinces and communes for the picker: every typed word must appear, diacritics ignored.

    A word may match the commune's own name or its province's ("hai chau da nang"); communes whose own name
    holds every word rank first, an exact name (with or without its type word) before anything else. Digits
    search the official code.
    """
    from .models import AdministrativeDivision

    q = fold(query)
    words = q.split()[:6]
    if not words:
        return AdministrativeDivision.objects.none()
    qs = AdministrativeDivision.objects.select_related("province")
    if q.isdigit():
        return qs.filter(code__startswith=q).order_by("code")[:limit]
    own_name = Q()
    for word in words:
        own_name &= Q(search_name__contains=word)
        qs = qs.filter(Q(search_name__contains=word) | Q(province__search_name__contains=word))
    rank = Case(
        When(Q(search_name=q) | Q(search_name__endswith=f" {q}"), then=Value(0)),
        When(own_name, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    # "province" sorts after "commune": descending puts a province before its own communes at equal rank.
    return qs.annotate(rank=rank).order_by("rank", "-level", "search_name", "code")[:limit]


def picker_value(division) -> str:
    """The text the division picker fields accept ("Name, Province — CODE"), for a model row or NewDivision."""
    return f"{division} — {division.code}"


# --- Converting pre-2025 addresses ----------------------------------------------------------------------------


class ConversionStatus(StrEnum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class NewDivision:
    """A current province or commune, as the package and our table have it (codes in our format)."""

    code: str
    name: str
    division_type: str
    province_code: str | None = None
    province_name: str | None = None

    def __str__(self) -> str:
        # Same text as AdministrativeDivision.__str__, so picker values match whichever produced them.
        return f"{self.name}, {self.province_name}" if self.province_name else self.name

    @property
    def level(self) -> str:
        return COMMUNE if self.province_code else PROVINCE

    @property
    def picker_value(self) -> str:
        return picker_value(self)


@dataclass(frozen=True)
class Candidate:
    """One possible new commune (a province, when a former province is converted alone), with the former
    division it comes from, so that a person can choose."""

    division: NewDivision
    source: str


@dataclass(frozen=True)
class ConversionResult:
    status: ConversionStatus
    message: str
    commune: NewDivision | None = None
    province: NewDivision | None = None
    candidates: tuple[Candidate, ...] = ()
    # The former divisions the input was read as, e.g. ("Xã Hòa Liên, Huyện Hòa Vang, Thành phố Đà Nẵng",).
    sources: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return self.status == ConversionStatus.FOUND


# Type words in front of names, as people write them. Matched on the lower-cased text *with* diacritics first:
# without diacritics "quan" may be "Quận" or the first word of "Quan Hóa", so the unprefixed reading is always
# tried as well (see _readings).
_PREFIXES = {
    PROVINCE: {"thành phố trung ương": ("thành phố", "thanh pho", "tp.", "tp"), "tỉnh": ("tỉnh", "tinh", "t.")},
    DISTRICT: {
        "thành phố": ("thành phố", "thanh pho", "tp.", "tp"),
        "thị xã": ("thị xã", "thi xa", "tx.", "tx"),
        "huyện": ("huyện", "huyen", "h."),
        "quận": ("quận", "quan", "q."),
    },
    COMMUNE: {
        "thị trấn": ("thị trấn", "thi tran", "tt.", "tt"),
        "phường": ("phường", "phuong", "p."),
        "xã": ("xã", "xa", "x."),
    },
}
# "Q1", "P12": numbered districts and wards of the big cities, written the short way.
_NUMBERED = {DISTRICT: re.compile(r"^q\.?\s*(\d+)$"), COMMUNE: re.compile(r"^p\.?\s*(\d+)$")}
# Names the official lists do not use but old addresses do (keys as _key makes them).
_PROVINCE_ALIASES = {
    "hcm": 79,
    "tphcm": 79,
    "saigon": 79,
    "brvt": 77,
    # Thừa Thiên Huế became Thành phố Huế on 1 January 2025; most old addresses still say the former.
    "thuathienhue": 46,
}
_STORED_PREFIX = re.compile(r"^(tỉnh|thành phố|huyện|quận|thị xã|thị trấn|xã|phường|đặc khu)\s+")


def _key(text: str) -> str:
    """Compare names by letters and numbers only: no case, diacritics, spaces, hyphens or apostrophes, so
    "La Êê" finds "Laêê" and "Phường 01" finds "Phường 1"."""
    tokens = re.split(r"[^a-z0-9]+", fold(text).replace("'", "").replace("’", ""))
    return "".join(str(int(t)) if t.isdigit() else t for t in tokens if t)


def _marks(text: str) -> str:
    """The diacritics of a name as a sorted multiset: "Hòa" and "Hoà" (old tone placement) agree, "Hoa" not."""
    decomposed = unicodedata.normalize("NFD", nfc(text).lower())
    return "".join(sorted(ch for ch in decomposed if unicodedata.combining(ch))) + "đ" * decomposed.count("đ")


@dataclass(frozen=True)
class _Old:
    code: int
    name: str
    division_type: str
    key: str
    marks: str
    parent: int  # the district of a commune, the province of a district (0 for a province)


def _bare(name: str) -> str:
    return _STORED_PREFIX.sub("", nfc(name).lower(), count=1)


def _old(code: int, name: str, division_type, parent: int) -> _Old:
    return _Old(code, nfc(name), str(division_type.value), _key(_bare(name)), _marks(_bare(name)), parent)


class _Reading(NamedTuple):
    key: str
    division_type: str | None  # implied by a type word in front
    marks: str


def _readings(text: str, level: str) -> list[_Reading]:
    """The ways to read a typed name: with a recognised type word removed, and as typed."""
    lowered = nfc(text).lower().strip()
    readings: list[_Reading] = []
    numbered = _NUMBERED.get(level)
    if numbered and (m := numbered.match(fold(lowered))):
        readings.append(_Reading(str(int(m.group(1))), "quận" if level == DISTRICT else "phường", ""))
    spellings = sorted(((p, t) for t, ps in _PREFIXES[level].items() for p in ps), key=lambda pt: -len(pt[0]))
    for prefix, division_type in spellings:
        if lowered.startswith(prefix):
            rest = lowered[len(prefix) :]
            # A word prefix must end at a word boundary ("tinh" is not the start of "tinhhoa"); "tp." needn't.
            if prefix.endswith(".") or not rest or rest[0] in " .,":
                if rest_key := _key(rest):
                    readings.append(_Reading(rest_key, division_type, _marks(rest)))
                break
    readings.append(_Reading(_key(lowered), None, _marks(lowered)))
    return readings


def _as_code(value: str | int | None) -> int | None:
    if isinstance(value, int):
        return value
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


class _LegacyIndex:
    """The pre-2025 lists, keyed for matching; built once per process (about 10,000 communes)."""

    def __init__(self):
        from vietnam_provinces import legacy

        self.provinces = {
            p.code.value: _old(p.code.value, p.name, p.division_type, 0) for p in legacy.Province.iter_all()
        }
        self.districts = {
            d.code.value: _old(d.code.value, d.name, d.division_type, d.province_code.value)
            for d in legacy.District.iter_all()
        }
        self.communes = {
            w.code.value: _old(w.code.value, w.name, w.division_type, w.district_code.value)
            for w in legacy.Ward.iter_all()
        }
        self.by_key: dict[str, dict[str, list[int]]] = {
            PROVINCE: defaultdict(list),
            DISTRICT: defaultdict(list),
            COMMUNE: defaultdict(list),
        }
        self.communes_of_district: dict[int, list[int]] = defaultdict(list)
        for level, table in ((PROVINCE, self.provinces), (DISTRICT, self.districts), (COMMUNE, self.communes)):
            for item in table.values():
                self.by_key[level][item.key].append(item.code)
        for item in self.communes.values():
            self.communes_of_district[item.parent].append(item.code)
        for alias, code in _PROVINCE_ALIASES.items():
            self.by_key[PROVINCE].setdefault(alias, [code])

    def table(self, level: str) -> dict[int, _Old]:
        return {PROVINCE: self.provinces, DISTRICT: self.districts, COMMUNE: self.communes}[level]

    def label(self, item: _Old, level: str) -> str:
        """ "Xã Hòa Liên, Huyện Hòa Vang, Thành phố Đà Nẵng": the former address as it was written."""
        parts = [item.name]
        if level == COMMUNE:
            district = self.districts[item.parent]
            parts += [district.name, self.provinces[district.parent].name]
        elif level == DISTRICT:
            parts.append(self.provinces[item.parent].name)
        return ", ".join(parts)


@functools.cache
def _legacy() -> _LegacyIndex:
    return _LegacyIndex()


def warm_up() -> None:
    """Load the pre-2025 lists and the conversion table now (~0.8 s the first time in a process), e.g. in a thread
    while something else waits, rather than at the first old address an import meets."""
    _legacy()
    convert_legacy_address("Tỉnh Quảng Nam", "Huyện Nam Giang", "Xã Cà Dy")


@functools.cache
def _current_province(code: int) -> NewDivision:
    from vietnam_provinces import Province, ProvinceCode

    p = Province.from_code(ProvinceCode(code))
    return NewDivision(province_code(code), _clean_name(p.name), str(p.division_type.value))


def _current_commune(ward) -> NewDivision:
    province = _current_province(ward.province_code.value)
    return NewDivision(
        commune_code(ward.code.value),
        _clean_name(ward.name),
        str(ward.division_type.value),
        province.code,
        province.name,
    )


def _new_communes(old_code: int) -> list[NewDivision]:
    """The official table: the new commune(s) a former commune went into (several when it was divided)."""
    from vietnam_provinces import Ward

    return [_current_commune(r.ward) for r in Ward.search_from_legacy(code=old_code)]


@functools.cache
def _island_communes() -> dict[str, NewDivision]:
    """Special zones (đặc khu) by name key. The island districts of 2025 (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý
    Sơn, Côn Đảo) had no communes, so the official commune table has no row for them; each became the special
    zone of the same name. Keyed by name; the caller checks the province too."""
    from vietnam_provinces import Ward

    return {
        _key(_bare(w.name)): _current_commune(w) for w in Ward.iter_all() if str(w.division_type.value) == "đặc khu"
    }


def _match(level: str, value: str | int | None, within: set[int] | None) -> list[_Old]:
    """Former divisions of ``level`` that ``value`` (a code or a name) designates, inside ``within``
    (codes of the parent level; None: anywhere)."""
    index = _legacy()
    table = index.table(level)

    def inside(item: _Old) -> bool:
        if within is None:
            return True
        return (item.code if level == PROVINCE else item.parent) in within

    code = _as_code(value)
    if code is not None:
        return [table[code]] if code in table and inside(table[code]) else []
    found: dict[int, list[_Reading]] = {}  # matched code -> the readings that matched it
    for reading in _readings(str(value), level):
        for c in index.by_key[level].get(reading.key, ()):
            if inside(table[c]):
                found.setdefault(c, []).append(reading)
    # Names are matched without diacritics or type words, so homonyms come along: "Tân Hoa" with "Tân Hòa",
    # "Xã Thạnh Mỹ" with "Thị trấn Thạnh Mỹ". What the user did type (diacritics, a type word) then picks among
    # them — but only as a preference: a wrong type word ("Thành phố Điện Bàn" for the former "Thị xã Điện
    # Bàn") or a missing accent must not hide the only match.
    items = [table[c] for c in found]
    for agrees in (
        lambda item, r: bool(r.marks) and r.marks == item.marks,
        lambda item, r: r.division_type == item.division_type,
    ):
        preferred = [item for item in items if any(agrees(item, r) for r in found[item.code])]
        if preferred:
            items = preferred
    return items


def _common_province(divisions) -> NewDivision | None:
    codes = {d.province_code for d in divisions}
    if len(codes) == 1 and (code := codes.pop()):
        return _current_province(int(code))
    return None


@functools.cache
def _new_provinces(old_province: int) -> tuple[NewDivision, ...]:
    """New province(s) of a former one, read from where its communes went.

    Not ``Province.search_from_legacy(code=)``: its table (derived from the commune table's province column)
    sends Tiền Giang to Tây Ninh as well, because one Long An commune (27691) is filed under Tiền Giang there.
    The legacy lists know each commune's real province.
    """
    index = _legacy()
    codes: set[str] = set()
    for district in (d for d in index.districts.values() if d.parent == old_province):
        for commune in index.communes_of_district[district.code]:
            codes.update(d.province_code for d in _new_communes(commune) if d.province_code)
    if not codes:
        from vietnam_provinces import Province

        codes = {province_code(r.province.code.value) for r in Province.search_from_legacy(code=old_province)}
    return tuple(_current_province(int(c)) for c in sorted(codes))


def convert_legacy_province(province: str | int | None) -> ConversionResult:
    """The new province of a former one (of the 63), given by name or code."""
    if province in (None, ""):
        return ConversionResult(ConversionStatus.NOT_FOUND, _("Enter the former province."))
    matches = _match(PROVINCE, province, None)
    if not matches:
        return ConversionResult(
            ConversionStatus.NOT_FOUND, _("No former province matches “{name}”.").format(name=province)
        )
    index = _legacy()
    new: list[NewDivision] = []
    for old in matches:
        new += [p for p in _new_provinces(old.code) if p not in new]
    sources = tuple(index.label(old, PROVINCE) for old in matches)
    if len(new) == 1:
        return ConversionResult(
            ConversionStatus.FOUND,
            _("{old} is now part of {new}.").format(old=" / ".join(sources), new=new[0].name),
            province=new[0],
            sources=sources,
        )
    return ConversionResult(
        ConversionStatus.AMBIGUOUS,
        ngettext("“{name}” now lies in {count} province.", "“{name}” now lies in {count} provinces.", len(new)).format(
            name=province, count=len(new)
        ),
        candidates=tuple(Candidate(p, " / ".join(sources)) for p in new),
        sources=sources,
    )


def convert_legacy_address(
    province: str | int | None = None,
    district: str | int | None = None,
    commune: str | int | None = None,
) -> ConversionResult:
    """The new commune (and province) of a pre-2025 address; each part by name or official code, any may be
    missing. Names are read without regard to case, diacritics, spacing or type words ("Xã", "Huyện", "TP.").

    FOUND: one new commune (or, for a province alone, one new province).
    AMBIGUOUS: ``candidates`` lists the new communes to choose from — the former commune was divided, several
    former communes bear the name, or only a district was given (districts no longer exist).
    NOT_FOUND: ``message`` names the part that matched nothing.
    """
    province, district, commune = (v.strip() if isinstance(v, str) else v for v in (province, district, commune))
    if commune in (None, "") and district in (None, ""):
        if province in (None, ""):
            return ConversionResult(ConversionStatus.NOT_FOUND, _("Enter the former commune, district or province."))
        return convert_legacy_province(province)

    index = _legacy()
    provinces = None
    province_label = ""
    if province not in (None, ""):
        matched = _match(PROVINCE, province, None)
        if not matched:
            return ConversionResult(
                ConversionStatus.NOT_FOUND, _("No former province matches “{name}”.").format(name=province)
            )
        provinces = {p.code for p in matched}
        province_label = " / ".join(p.name for p in matched)

    districts = None
    district_label = province_label
    if district not in (None, ""):
        matched = _match(DISTRICT, district, provinces)
        if not matched:
            if province_label:
                message = _("No former district “{name}” in {province}.").format(name=district, province=province_label)
            else:
                message = _("No former district matches “{name}”.").format(name=district)
            return ConversionResult(ConversionStatus.NOT_FOUND, message)
        districts = {d.code for d in matched}
        district_label = " / ".join(index.label(d, DISTRICT) for d in matched)
        if commune in (None, ""):
            return _convert_districts(matched)

    # Here a commune was given: every other combination returned above.
    if districts is not None:
        matched = _match(COMMUNE, commune, districts)
    else:
        within = None
        if provinces is not None:
            within = {d.code for d in index.districts.values() if d.parent in provinces}
        matched = _match(COMMUNE, commune, within)
    if not matched:
        code = _as_code(commune)
        if code is not None and (new := _new_communes(code)) and districts is None and provinces is None:
            # A few codes of the official table are missing from the package's legacy lists (communes merged in
            # late 2024, e.g. 3980): the code alone still converts.
            return _from_communes([(None, _("Former commune {code}").format(code=code), new)])
        if district_label:
            message = _("No former commune “{name}” in {place}.").format(name=commune, place=district_label)
        else:
            message = _("No former commune matches “{name}”.").format(name=commune)
        return ConversionResult(ConversionStatus.NOT_FOUND, message)
    return _from_communes([(old, index.label(old, COMMUNE), _new_communes(old.code)) for old in matched])


def _from_communes(matches: list[tuple[_Old | None, str, list[NewDivision]]]) -> ConversionResult:
    sources = tuple(label for _old, label, _new in matches)
    mapped = [(old, label, new) for old, label, new in matches if new]
    if not mapped:
        # Known former commune(s) that the official table leaves out: offer what now covers their district(s).
        index = _legacy()
        districts = {old.parent: index.districts[old.parent] for old, _label, _new in matches if old}
        cover = _convert_districts(list(districts.values()))
        old = " / ".join(sources)
        if not cover.candidates:
            return ConversionResult(
                ConversionStatus.NOT_FOUND,
                _("The conversion table has no entry for {old}.").format(old=old),
                sources=sources,
            )
        return ConversionResult(
            ConversionStatus.AMBIGUOUS,
            _("The conversion table has no entry for {old}; these communes now cover its former district.").format(
                old=old
            ),
            province=cover.province,
            candidates=cover.candidates,
            sources=sources,
        )
    candidates = tuple(Candidate(new, label) for _old, label, news in mapped for new in news)
    distinct = list({c.division.code: c.division for c in candidates}.values())
    province = _common_province(distinct)
    if len(distinct) == 1:
        return ConversionResult(
            ConversionStatus.FOUND,
            _("{old} is now {new}.").format(old=" / ".join(label for _o, label, _n in mapped), new=distinct[0]),
            commune=distinct[0],
            province=province,
            candidates=candidates,
            sources=sources,
        )
    if len(mapped) == 1:
        message = ngettext(
            "{old} was divided between {count} new commune; choose the one where the address lies.",
            "{old} was divided between {count} new communes; choose the one where the address lies.",
            len(distinct),
        ).format(old=mapped[0][1], count=len(distinct))
    elif len({old.parent for old, _label, _news in mapped if old}) == 1:
        # Homonyms in one district differ only by type or diacritics ("Thị trấn Mường Tè", "Xã Mường Tè").
        message = _(
            "{count} former communes of that district match; choose one, or write the name with its type "
            "(Xã, Phường, Thị trấn) and diacritics."
        ).format(count=len(mapped))
    else:
        message = _("{count} former communes match; choose one, or give the former district or province.").format(
            count=len(mapped)
        )
    return ConversionResult(
        ConversionStatus.AMBIGUOUS, message, province=province, candidates=candidates, sources=sources
    )


def _convert_districts(districts: list[_Old]) -> ConversionResult:
    """Districts were abolished on 1 July 2025: a former district converts to the communes now covering it."""
    index = _legacy()
    sources = tuple(index.label(d, DISTRICT) for d in districts)
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for district in districts:
        label = index.label(district, DISTRICT)
        news = [n for c in index.communes_of_district[district.code] for n in _new_communes(c)]
        if not news and (island := _island_communes().get(district.key)):
            old_provinces = {p.code for p in _new_provinces(district.parent)}
            news = [island] if island.province_code in old_provinces else []
        for new in sorted(news, key=lambda n: n.code):
            if new.code not in seen:
                seen.add(new.code)
                candidates.append(Candidate(new, label))
    province = _common_province([c.division for c in candidates])
    if not candidates:
        return ConversionResult(
            ConversionStatus.NOT_FOUND,
            _("The conversion table has no commune for {old}.").format(old=" / ".join(sources)),
            sources=sources,
        )
    if len(candidates) == 1:
        return ConversionResult(
            ConversionStatus.FOUND,
            _("{old} is now {new}.").format(old=" / ".join(sources), new=candidates[0].division),
            commune=candidates[0].division,
            province=province,
            candidates=tuple(candidates),
            sources=sources,
        )
    return ConversionResult(
        ConversionStatus.AMBIGUOUS,
        ngettext(
            "Districts no longer exist: the area of {old} now lies in {count} commune. Give the former commune "
            "to get one.",
            "Districts no longer exist: the area of {old} now lies in {count} communes. Give the former commune "
            "to get one.",
            len(candidates),
        ).format(old=" / ".join(sources), count=len(candidates)),
        province=province,
        candidates=tuple(candidates),
        sources=sources,
    )
