"""The demo province (``manage.py seed_demo``): the union of the new Thành phố Đà Nẵng with sample members.

What is real and what is sample (Dữ liệu mẫu):

* Real: the 94 communes of Đà Nẵng since 1 July 2025, their names, types and codes, the old communes and
  districts they were formed from (all from the ``vietnam-provinces`` package), and the names of the schools
  and universities used as examples.
* Sample: everything else. Branch names ("Chi đoàn thôn 1"), faculties and classes, the block unions'
  grassroots units, which communes count as mountain ones (derived from the former districts below, not from
  the official list of mountain communes), the 2010 start of the history, the ethnic mix of each area, and
  every member and demo user. Members carry ``is_sample=True``; no member is a real person.

Every unit is written through :mod:`doanso.org.services` (so the demo has the same history and audit trail
as a real province) and every member through :func:`doanso.members.services.bulk_add_members`.
"""

import datetime
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from doanso.accounts import services as account_services
from doanso.accounts.models import User
from doanso.accounts.phones import normalise_phone
from doanso.core import audit
from doanso.members.models import Member, MemberStatus, Sex
from doanso.members.services import bulk_add_members

from . import services
from .models import AdministrativeDivision, AreaType, Organisation, Unit, UnitKind
from .services import UnitData

ROOT_CODE = "TD-DN"
PROVINCE_CODE = 48  # Thành phố Đà Nẵng in the 2025 codes
FORMER_QUANG_NAM = 49  # Tỉnh Quảng Nam in the pre-2025 codes
# The demo's history starts here; what the unions looked like before is out of its scope.
HISTORY_START = datetime.date(2010, 1, 1)
# Two-level local government (NQ 202/2025/QH15): districts end, new communes begin.
REFORM = datetime.date(2025, 7, 1)
RANDOM_SEED = 20250701
DEFAULT_MEMBERS = 20_000

# One shared password for every demo user, printed by the command: public on purpose.
PASSWORD = "DoanSo@2025"  # noqa: S105
EMAIL_DOMAIN = "demo.doanso.vn"
# The RFC 6238 test key ("12345678901234567890"): public on purpose, so that anyone running the demo can log
# in as the administrator. Base32: GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
ADMIN_TOTP_KEY = "3132333435363738393031323334353637383930"

SAMPLE_NOTE = "dữ liệu mẫu"
MERGE_NOTE = f"Sắp xếp tổ chức Đoàn theo đơn vị hành chính cấp xã mới từ 01/07/2025 ({SAMPLE_NOTE})"
PROVINCE_MERGE_NOTE = f"Hợp nhất Tỉnh đoàn Quảng Nam vào Thành đoàn Đà Nẵng từ 01/07/2025 ({SAMPLE_NOTE})"
DISSOLVE_REASON = f"Kết thúc tổ chức Đoàn cấp huyện khi bỏ cấp huyện từ 01/07/2025 ({SAMPLE_NOTE})"


# --- areas --------------------------------------------------------------------------------------------------

# Former districts counted as mountain districts, by their name in the package's legacy data.
MOUNTAIN_DISTRICTS = {
    "Huyện Tây Giang",
    "Huyện Đông Giang",
    "Huyện Nam Giang",
    "Huyện Phước Sơn",
    "Huyện Bắc Trà My",
    "Huyện Nam Trà My",
    "Huyện Hiệp Đức",
    "Huyện Tiên Phước",
}
# Nông Sơn district was merged into Quế Sơn before July 2025, so the package files its communes under Quế Sơn;
# these old communes are the former Nông Sơn district (they form today's Xã Nông Sơn and Xã Quế Phước).
FORMER_NONG_SON = {"Thị trấn Trung Phước", "Xã Quế Lộc", "Xã Ninh Phước", "Xã Phước Ninh", "Xã Quế Lâm"}
# The communes of Hòa Vang usually described as its mountain communes.
HOA_VANG_MOUNTAIN = {"Xã Hòa Bắc", "Xã Hòa Ninh", "Xã Hòa Phú"}
# Xã Tân Hiệp is the Cù Lao Chàm islands off Hội An.
ISLAND_COMMUNES = {"Xã Tân Hiệp"}

# Ethnic mix of members by area: sample weights chosen to look plausible, not census figures. "Xơ Đăng"
# includes the Ca Dong, a local group of the Xơ Đăng; names are the official names of the 54 groups.
ETHNIC_MIX: dict[str, dict[str, float]] = {
    "Kinh": {"Kinh": 1.0},
    "Huyện Tây Giang": {"Cơ Tu": 0.88, "Kinh": 0.12},
    "Huyện Đông Giang": {"Cơ Tu": 0.80, "Kinh": 0.20},
    "Huyện Nam Giang": {"Cơ Tu": 0.50, "Giẻ Triêng": 0.25, "Xơ Đăng": 0.05, "Kinh": 0.20},
    "Huyện Phước Sơn": {"Giẻ Triêng": 0.35, "Xơ Đăng": 0.30, "Kinh": 0.35},
    "Huyện Bắc Trà My": {"Xơ Đăng": 0.40, "Co": 0.25, "Kinh": 0.35},
    "Huyện Nam Trà My": {"Xơ Đăng": 0.75, "Co": 0.10, "Kinh": 0.15},
    "Huyện Hiệp Đức": {"Kinh": 0.80, "Xơ Đăng": 0.12, "Co": 0.08},
    "Huyện Tiên Phước": {"Kinh": 0.92, "Co": 0.08},
    "Nông Sơn": {"Kinh": 0.92, "Cơ Tu": 0.08},
    "Hòa Vang (miền núi)": {"Kinh": 0.85, "Cơ Tu": 0.15},
    # Schools, universities and agencies draw from the whole city.
    "city": {"Kinh": 0.97, "Cơ Tu": 0.015, "Xơ Đăng": 0.01, "Co": 0.005},
}
# Relative number of members per branch, by area: busier towns, smaller mountain villages.
BRANCH_WEIGHT = {AreaType.URBAN: 1.3, AreaType.LOWLAND: 1.0, AreaType.MOUNTAIN: 0.6, AreaType.ISLAND: 0.5}


# --- names --------------------------------------------------------------------------------------------------


def _weighted(pairs: dict[str, float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Names and cumulative weights, the form ``random.choices(..., cum_weights=...)`` takes."""
    return tuple(pairs), tuple(accumulate(pairs.values()))


def _table(text: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """``"Văn 28, Minh 9, - 1"`` → weighted names; "-" stands for no name (no middle name)."""
    pairs = {}
    for item in text.split(","):
        name, weight = item.split()
        pairs["" if name == "-" else name] = float(weight)
    return _weighted(pairs)


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Family names with shares roughly as published for Vietnam, with Huỳnh and Võ raised (and Hoàng, Vũ lowered)
# as in central Vietnam. Sample weights.
KINH_FAMILY = _table(
    "Nguyễn 31, Trần 10, Lê 10, Phạm 6, Huỳnh 6, Võ 6, Phan 5, Trương 2, Hồ 2, Hoàng 1.5, Đặng 2, Bùi 2, Đỗ 1.5,"
    "Ngô 1.5, Dương 1, Đoàn 1, Đinh 0.8, Lương 0.6, Mai 0.6, Cao 0.6, Châu 0.5, Thái 0.5, Lâm 0.4, Tô 0.3,"
    "Vũ 0.4, Lý 0.4"
)
# Cơ Tu clan names as they are written in Vietnamese.
CO_TU_FAMILY = _table(
    "Alăng 14, Bhling 12, Briu 10, Zơrâm 10, Clâu 8, Pơloong 8, Hôih 7, Ating 7, Coor 6, Riah 6, Arất 6, Blúp 6"
)
# Xơ Đăng, Co and Giẻ Triêng families in Quảng Nam mostly use Vietnamese family names.
HIGHLAND_FAMILY = _table("Hồ 45, Đinh 20, Nguyễn 10, Trần 8, Lê 7, Phạm 5, Võ 5")

MALE_MIDDLE = _table(
    "Văn 28, Minh 9, Đức 7, Quốc 6, Hữu 6, Tấn 6, Công 5, Quang 5, Thanh 4, Xuân 3, Ngọc 3, Anh 3, Trọng 3,"
    "Thành 3, Duy 3, Gia 3, Bá 2, - 1"
)
FEMALE_MIDDLE = _table(
    "Thị 38, Ngọc 9, Thu 5, Thanh 5, Minh 4, Bảo 4, Phương 4, Kim 4, Mỹ 4, Hoài 3, Khánh 3, Hồng 3, Như 3,"
    "Diệu 2, Quỳnh 2, Bích 2, Thùy 3, - 1"
)
MINORITY_MALE_MIDDLE = _table("Văn 6, - 4")
MINORITY_FEMALE_MIDDLE = _table("Thị 7, - 3")
MALE_GIVEN = _names(
    """An Bảo Bình Cường Dũng Duy Đạt Đức Hải Hiếu Hoàng Huy Hùng Khang Khánh Khoa Kiên Long Lộc Luân Minh Nam
    Nghĩa Nhân Phát Phong Phúc Quân Quang Sơn Tài Tâm Thắng Thành Thiện Thịnh Tiến Toàn Trí Trung Tú Tuấn Việt
    Vinh Vũ Hậu Lâm Nhật Tín Vương"""
)
FEMALE_GIVEN = _names(
    """An Anh Châu Chi Diễm Dung Duyên Giang Hà Hạnh Hằng Hiền Hoa Hồng Huyền Hương Lan Liên Linh Loan Mai My
    Nga Ngân Ngọc Nhi Nhung Oanh Phương Quyên Quỳnh Tâm Thảo Thu Thủy Trang Trâm Trinh Uyên Vân Vy Yến Hân
    Ly"""
)
FAMILY_BY_ETHNICITY = {
    "Cơ Tu": CO_TU_FAMILY,
    "Xơ Đăng": HIGHLAND_FAMILY,
    "Co": HIGHLAND_FAMILY,
    "Giẻ Triêng": HIGHLAND_FAMILY,
}


# --- other units --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class School:
    code: str
    name: str
    province: int  # where the school stood before July 2025: 48 Đà Nẵng, 49 Quảng Nam
    faculties: tuple[tuple[str, str], ...] = ()  # universities: (faculty, class prefix); sample


UNIVERSITIES = (
    School(
        "DH-BK",
        "Đoàn trường Đại học Bách khoa - ĐHĐN",
        PROVINCE_CODE,
        (
            ("Công nghệ Thông tin", "T"),
            ("Cơ khí", "C"),
            ("Điện", "D"),
            ("Xây dựng Dân dụng và Công nghiệp", "X"),
            ("Hóa", "H"),
        ),
    ),
    School(
        "DH-KT",
        "Đoàn trường Đại học Kinh tế - ĐHĐN",
        PROVINCE_CODE,
        (
            ("Quản trị kinh doanh", "QT"),
            ("Kế toán", "KT"),
            ("Tài chính", "TC"),
            ("Marketing", "MK"),
            ("Thương mại điện tử", "TMĐT"),
        ),
    ),
    School(
        "DH-SP",
        "Đoàn trường Đại học Sư phạm - ĐHĐN",
        PROVINCE_CODE,
        (
            ("Toán", "ST"),
            ("Ngữ văn", "SV"),
            ("Sinh - Môi trường", "SH"),
            ("Tâm lý - Giáo dục", "TL"),
        ),
    ),
    School(
        "DH-QNU",
        "Đoàn trường Đại học Quảng Nam",
        FORMER_QUANG_NAM,
        (
            ("Sư phạm", "SP"),
            ("Công nghệ thông tin", "CNTT"),
            ("Kinh tế", "KT"),
        ),
    ),
)
HIGH_SCHOOLS = (
    School("THPT-PCT", "Đoàn trường THPT Phan Châu Trinh", PROVINCE_CODE),
    School("THPT-LQD", "Đoàn trường THPT chuyên Lê Quý Đôn", PROVINCE_CODE),
    School("THPT-TCV", "Đoàn trường THPT Trần Cao Vân (Tam Kỳ)", FORMER_QUANG_NAM),
)
# Block unions and their grassroots units ((name, kind, number of branches)); the units are sample examples.
BLOCKS = (
    (
        "K-DANG",
        "Đoàn Khối các cơ quan Đảng thành phố",
        (
            ("Chi đoàn cơ sở Văn phòng Thành ủy", UnitKind.GRASSROOTS_BRANCH, 0),
            ("Chi đoàn cơ sở Ban Tổ chức Thành ủy", UnitKind.GRASSROOTS_BRANCH, 0),
            ("Chi đoàn cơ sở Ban Tuyên giáo và Dân vận Thành ủy", UnitKind.GRASSROOTS_BRANCH, 0),
            ("Chi đoàn cơ sở Ủy ban Kiểm tra Thành ủy", UnitKind.GRASSROOTS_BRANCH, 0),
        ),
    ),
    (
        "K-UBND",
        "Đoàn Khối Ủy ban nhân dân thành phố",
        (
            ("Đoàn cơ sở Sở Y tế", UnitKind.GRASSROOTS, 4),
            ("Đoàn cơ sở Sở Giáo dục và Đào tạo", UnitKind.GRASSROOTS, 3),
            ("Đoàn cơ sở Sở Tài chính", UnitKind.GRASSROOTS, 3),
            ("Đoàn cơ sở Sở Xây dựng", UnitKind.GRASSROOTS, 3),
            ("Chi đoàn cơ sở Văn phòng Ủy ban nhân dân thành phố", UnitKind.GRASSROOTS_BRANCH, 0),
        ),
    ),
)


# --- demo users ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    label: str  # the role, as the login table shows it
    username: str
    full_name: str
    phone: str
    role: str = ""  # "" for the platform administrator
    unit_code: str = ""

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


# The commune of the commune cadres: Đoàn xã Nam Giang, in the former Nam Giang district (mountain).
DEMO_COMMUNE = "X-20707"
DEMO_USERS = (
    DemoUser("Quản trị nền tảng", "admin", "Quản trị viên (demo)", "0905 000 001"),
    DemoUser(
        "Quản lý Thành đoàn", "thanhdoan.quanly", "Quản lý Thành đoàn (demo)", "0905 000 002", "unit_manager", ROOT_CODE
    ),
    DemoUser(
        "Cán bộ Thành đoàn", "thanhdoan.canbo", "Cán bộ Thành đoàn (demo)", "0905 000 003", "unit_staff", ROOT_CODE
    ),
    DemoUser(
        "Quản lý Đoàn xã Nam Giang",
        "namgiang.quanly",
        "Quản lý Đoàn xã Nam Giang (demo)",
        "0905 000 004",
        "unit_manager",
        DEMO_COMMUNE,
    ),
    DemoUser(
        "Cán bộ Đoàn xã Nam Giang",
        "namgiang.canbo",
        "Cán bộ Đoàn xã Nam Giang (demo)",
        "0905 000 005",
        "unit_staff",
        DEMO_COMMUNE,
    ),
    DemoUser(
        "Quản lý Đoàn trường ĐH Bách khoa",
        "bachkhoa.quanly",
        "Quản lý Đoàn trường ĐH Bách khoa (demo)",
        "0905 000 006",
        "unit_manager",
        "DH-BK",
    ),
)


def demo_exists() -> bool:
    return Unit.objects.filter(code=ROOT_CODE).exists()


def conflicts() -> list[str]:
    """Why the demo cannot be built in this database (empty when it can)."""
    problems = []
    if Unit.objects.exists():
        problems.append(f"the database already holds {Unit.objects.count()} units")
    logins = [u.username for u in DEMO_USERS]
    taken = (
        User.objects.filter(username__in=logins)
        | User.objects.filter(email__in=[u.email for u in DEMO_USERS])
        | User.objects.filter(phone__in=[normalise_phone(u.phone) for u in DEMO_USERS])
    )
    for user in taken.distinct():
        problems.append(f"a user {user.username!r} already uses a demo login")
    return problems


# --- the builder --------------------------------------------------------------------------------------------


@dataclass
class Leaf:
    """A branch that receives members, with what its members look like."""

    unit_id: int
    weight: float
    ages: tuple[int, int]
    mix: str  # key of ETHNIC_MIX


@dataclass
class OldCommune:
    code: int
    name: str
    division_type: str
    district: str
    district_code: int
    province_code: int


@dataclass
class Summary:
    units_by_kind: dict[str, int]
    members: int
    seconds_units: float
    seconds_members: float
    seconds_total: float


def union_name(name: str, division_type: str) -> str:
    """The union of a division: "Phường Hải Vân" → "Đoàn phường Hải Vân", "Xã Zuôich" → "Đoàn xã Zuôich"."""
    prefix = division_type.lower()
    base = name[len(prefix) + 1 :] if name.lower().startswith(prefix + " ") else name
    return f"Đoàn {prefix} {base}"


def district_union_name(name: str) -> str:
    for prefix, union in (
        ("Quận ", "Quận đoàn "),
        ("Huyện ", "Huyện đoàn "),
        ("Thành phố ", "Thành đoàn "),
        ("Thị xã ", "Thị đoàn "),
    ):
        if name.startswith(prefix):
            return union + name[len(prefix) :]
    return f"Đoàn {name}"


def old_area(old: OldCommune) -> tuple[str, str]:
    """(area type, ethnic-mix key) of a pre-2025 commune."""
    if old.district in MOUNTAIN_DISTRICTS:
        return AreaType.MOUNTAIN, old.district
    if old.name in FORMER_NONG_SON:
        return AreaType.MOUNTAIN, "Nông Sơn"
    if old.name in HOA_VANG_MOUNTAIN:
        return AreaType.MOUNTAIN, "Hòa Vang (miền núi)"
    if old.name in ISLAND_COMMUNES:
        return AreaType.ISLAND, "Kinh"
    if old.division_type in ("phường", "thị trấn"):
        return AreaType.URBAN, "Kinh"
    return AreaType.LOWLAND, "Kinh"


def new_area(name: str, division_type: str, olds: list[OldCommune]) -> str:
    if division_type == "đặc khu" or name in ISLAND_COMMUNES:
        return AreaType.ISLAND
    if division_type == "phường":
        return AreaType.URBAN
    if any(old_area(o)[0] == AreaType.MOUNTAIN for o in olds):
        return AreaType.MOUNTAIN
    return AreaType.LOWLAND


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def sample_century_digit(born: datetime.date, male: bool) -> int:
    """The fourth digit of a citizen ID: 0/1 for a man/woman born in the 1900s, 2/3 in the 2000s."""
    return (0 if born.year < 2000 else 2) + (0 if male else 1)


class DemoBuilder:
    """Builds the demo in one transaction: all of it or nothing. Deterministic for a given seed and day."""

    def __init__(self, members: int = DEFAULT_MEMBERS, seed: int = RANDOM_SEED, log=None):
        self.members = members
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.log = log or (lambda message: None)
        self.leaves: list[Leaf] = []
        self.units: dict[str, Unit] = {}  # by code, as the services returned them
        self.admin: User  # the actor of every write; created first by build()

    # -- helpers

    def create(
        self,
        code: str,
        name: str,
        kind: str,
        parent: Unit | None,
        active_from: datetime.date,
        *,
        org: str = Organisation.UNION,
        area_type: str = "",
        division=None,
    ) -> Unit:
        unit = services.create_unit(
            UnitData(code=code, name=name, kind=kind, org=org, area_type=area_type, division=division),
            actor=self.admin,
            parent=parent,
            active_from=active_from,
        )
        self.units[unit.code] = unit
        return unit

    def leaf(self, unit: Unit, weight: float, ages: tuple[int, int], mix: str = "city") -> None:
        self.leaves.append(Leaf(unit.pk, weight, ages, mix))

    # -- the whole build

    def build(self) -> Summary:
        started = time.monotonic()
        with transaction.atomic():
            self.admin = self.create_users()
            self.build_tree()
            units_done = time.monotonic()
            self.assign_roles()
            self.log(f"Units: {Unit.objects.count()} in {units_done - started:.1f} s")
            written = bulk_add_members(self.generate_members(), actor=self.admin, unit=self.units[ROOT_CODE])
            # The modules' sample data, built on the tree and the members above.
            from doanso.contests.demo import build_contest_demo
            from doanso.sites.demo import build_sites

            self.log(f"Sites and border markers: {build_sites(self.admin, self.today)} (sample data)")
            build_contest_demo(self.admin, self.units[ROOT_CODE])
        finished = time.monotonic()
        by_kind = Counter(Unit.objects.filter(active_to__isnull=True).values_list("kind", flat=True))
        return Summary(
            dict(sorted(by_kind.items())), written, units_done - started, finished - units_done, finished - started
        )

    def build_tree(self) -> None:
        # Imported here: loading the package's data takes about a second, which the repeat run that only
        # prints the logins (scripts/demo, on every start) should not pay.
        from vietnam_provinces import ProvinceCode, Ward

        divisions = {d.code: d for d in AdministrativeDivision.objects.all()}
        dn = self.create(
            ROOT_CODE,
            "Thành đoàn Đà Nẵng",
            UnitKind.PROVINCE,
            None,
            HISTORY_START,
            division=divisions.get(str(PROVINCE_CODE)),
        )
        qn = self.create("TD-QN", "Tỉnh đoàn Quảng Nam", UnitKind.PROVINCE, None, HISTORY_START)
        self.create(
            "HOI-DN",
            "Hội Liên hiệp Thanh niên Việt Nam thành phố Đà Nẵng",
            UnitKind.OTHER,
            dn,
            HISTORY_START,
            org=Organisation.ASSOCIATION,
        )
        self.create(
            "DOI-DN", "Hội đồng Đội thành phố Đà Nẵng", UnitKind.OTHER, dn, HISTORY_START, org=Organisation.PIONEERS
        )
        roots = {PROVINCE_CODE: dn, FORMER_QUANG_NAM: qn}

        wards = sorted(Ward.iter_by_province(ProvinceCode(PROVINCE_CODE)), key=lambda w: int(w.code))
        plan = self.old_communes(wards)
        districts = self.build_districts(plan, roots)
        olds = self.build_old_communes(wards, plan, districts)
        self.build_schools(roots)
        self.log(f"Tree of 2024: {Unit.objects.count()} units")

        # 1 July 2025: the old communes become the new ones, directly under the province.
        for ward in wards:
            self.reform_commune(ward, plan[int(ward.code)], olds, dn, divisions)
        for district in districts.values():
            services.dissolve_unit(district, actor=self.admin, effective=REFORM, reason=DISSOLVE_REASON)
        # The two provincial unions become one; what Quảng Nam still has (its schools) follows into Đà Nẵng.
        services.merge_units([qn], actor=self.admin, effective=REFORM, into=dn, note=PROVINCE_MERGE_NOTE)
        self.build_blocks(dn)
        self.build_association_and_pioneers()

    def old_communes(self, wards) -> dict[int, list[OldCommune]]:
        """The pre-2025 communes each new commune was formed from. An old commune split between several new
        ones is counted once, in the first of them: a union can be merged only once."""
        from vietnam_provinces.legacy import District

        seen: set[int] = set()
        plan: dict[int, list[OldCommune]] = {}
        for ward in wards:
            plan[int(ward.code)] = olds = []
            for old in ward.get_legacy_sources():
                if int(old.code) in seen:
                    continue
                seen.add(int(old.code))
                district = District.from_code(old.district_code)
                olds.append(
                    OldCommune(
                        int(old.code),
                        old.name,
                        str(old.division_type),
                        district.name,
                        int(district.code),
                        int(district.province_code),
                    )
                )
        return plan

    def build_districts(self, plan, roots) -> dict[int, Unit]:
        districts: dict[int, Unit] = {}
        for olds in plan.values():
            for old in olds:
                if old.district_code in districts:
                    continue
                if old.district in MOUNTAIN_DISTRICTS:
                    area = AreaType.MOUNTAIN
                elif old.district.startswith(("Quận ", "Thành phố ")):
                    area = AreaType.URBAN
                else:
                    area = AreaType.LOWLAND
                districts[old.district_code] = self.create(
                    f"H-{old.district_code:03d}",
                    district_union_name(old.district),
                    UnitKind.DISTRICT,
                    roots[old.province_code],
                    HISTORY_START,
                    area_type=area,
                )
        return districts

    def build_old_communes(self, wards, plan, districts) -> dict[int, Unit]:
        """The commune unions of 2024 under their districts, each with its village branches. The branches
        are numbered across the new commune they will end up in, so that after the merge a commune has
        "Chi đoàn thôn 1" to "Chi đoàn thôn n" (3 to 8 of them) without two of the same name."""
        units: dict[int, Unit] = {}
        for ward in wards:
            olds = plan[int(ward.code)]
            if not olds:
                continue
            new_code = f"X-{int(ward.code):05d}"
            village = "tổ dân phố" if str(ward.division_type) == "phường" else "thôn"
            # How many branches each old commune brings: at least one each, 3 to 8 in all.
            counts = [1] * len(olds)
            for _ in range(max(self.rng.randint(3, 8), len(olds)) - len(olds)):
                counts[self.rng.randrange(len(olds))] += 1
            number = 0
            for old, count in zip(olds, counts, strict=True):
                area, mix = old_area(old)
                unit = self.create(
                    f"XC-{old.code:05d}",
                    union_name(old.name, old.division_type),
                    UnitKind.COMMUNE,
                    districts[old.district_code],
                    HISTORY_START,
                    area_type=area,
                )
                units[old.code] = unit
                for _ in range(count):
                    number += 1
                    branch = self.create(
                        f"{new_code}-{number:02d}", f"Chi đoàn {village} {number}", UnitKind.BRANCH, unit, HISTORY_START
                    )
                    self.leaf(branch, BRANCH_WEIGHT[area], (16, 30), mix)
        return units

    def reform_commune(self, ward, olds: list[OldCommune], units: dict[int, Unit], dn: Unit, divisions) -> None:
        code = f"X-{int(ward.code):05d}"
        name = union_name(ward.name, str(ward.division_type))
        area = new_area(ward.name, str(ward.division_type), olds)
        division = divisions.get(f"{int(ward.code):05d}")
        sources = [units[o.code] for o in olds]
        if not sources:
            # Đặc khu Hoàng Sa: no pre-2025 commune, and no resident members to show, so no branches either.
            self.create(code, name, UnitKind.COMMUNE, dn, REFORM, area_type=area, division=division)
        elif len(sources) == 1:
            # One old commune carries on as the new one: renamed and moved up, history kept.
            unit = services.update_unit(
                sources[0],
                actor=self.admin,
                effective=REFORM,
                note=MERGE_NOTE,
                code=code,
                name=name,
                area_type=area,
                division=division,
            )
            services.move_unit(unit, actor=self.admin, new_parent=dn, effective=REFORM, note=MERGE_NOTE)
            self.units[code] = unit
        else:
            self.units[code] = services.merge_units(
                sources,
                actor=self.admin,
                effective=REFORM,
                note=MERGE_NOTE,
                new_parent=dn,
                new_unit=UnitData(code=code, name=name, kind=UnitKind.COMMUNE, area_type=area, division=division),
            )

    def build_schools(self, roots) -> None:
        """Universities (faculty sub-unions with class branches) and high schools (class branches). Faculties,
        classes and cohorts are sample; the schools sit directly under their province's union."""
        for school in UNIVERSITIES:
            union = self.create(school.code, school.name, UnitKind.GRASSROOTS, roots[school.province], HISTORY_START)
            for number, (faculty, prefix) in enumerate(school.faculties, start=1):
                sub = self.create(
                    f"{school.code}-K{number:02d}",
                    f"Liên chi đoàn khoa {faculty}",
                    UnitKind.SUB_UNION,
                    union,
                    HISTORY_START,
                )
                for cohort in (22, 23, 24, 25):
                    for group in range(1, self.rng.randint(1, 2) + 1):
                        branch = self.create(
                            f"{sub.code}-{cohort}{group}",
                            f"Chi đoàn {cohort}{prefix}{group}",
                            UnitKind.BRANCH,
                            sub,
                            HISTORY_START,
                        )
                        self.leaf(branch, 1.0, (18, 24))
        for school in HIGH_SCHOOLS:
            union = self.create(school.code, school.name, UnitKind.GRASSROOTS, roots[school.province], HISTORY_START)
            for grade, ages in ((10, (16, 16)), (11, (16, 17)), (12, (17, 18))):
                for group in range(1, self.rng.randint(4, 7) + 1):
                    branch = self.create(
                        f"{school.code}-{grade}-{group:02d}",
                        f"Chi đoàn {grade}/{group}",
                        UnitKind.BRANCH,
                        union,
                        HISTORY_START,
                    )
                    # Most pupils are admitted in grades 11 and 12, so grade 10 classes have fewer members.
                    self.leaf(branch, 0.4 if grade == 10 else 0.8, ages)

    def build_blocks(self, dn: Unit) -> None:
        for code, name, members in BLOCKS:
            block = self.create(code, name, UnitKind.BLOCK, dn, REFORM)
            for number, (unit_name, kind, branches) in enumerate(members, start=1):
                unit = self.create(f"{code}-{number:02d}", unit_name, kind, block, REFORM)
                if not branches:
                    self.leaf(unit, 0.6, (22, 30))
                for branch_no in range(1, branches + 1):
                    branch = self.create(
                        f"{unit.code}-{branch_no:02d}", f"Chi đoàn số {branch_no}", UnitKind.BRANCH, unit, REFORM
                    )
                    self.leaf(branch, 0.4, (22, 30))

    def build_association_and_pioneers(self) -> None:
        """A Hội and a Hội đồng Đội in a few communes (no members: this registry holds Đoàn members only)."""
        for code in ("X-20242", DEMO_COMMUNE, "X-20791"):
            commune = self.units[code]
            place = commune.name.removeprefix("Đoàn ")
            self.create(
                f"HOI-{code}",
                f"Hội Liên hiệp Thanh niên Việt Nam {place}",
                UnitKind.OTHER,
                commune,
                REFORM,
                org=Organisation.ASSOCIATION,
            )
            self.create(
                f"DOI-{code}", f"Hội đồng Đội {place}", UnitKind.OTHER, commune, REFORM, org=Organisation.PIONEERS
            )

    # -- users

    def create_users(self) -> User:
        """The demo users, the administrator first (the actor of every write that follows). One password hash
        serves them all: they share the password, and hashing it six times would cost seconds."""
        encoded = make_password(PASSWORD)
        admin = None
        for demo in DEMO_USERS:
            user = User(
                username=demo.username,
                full_name=demo.full_name,
                email=demo.email,
                phone=normalise_phone(demo.phone),
                password=encoded,
            )
            if not demo.role:
                user.is_superuser = user.is_staff = True
            user.save()
            admin = admin or user
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=admin, name="Demo", key=ADMIN_TOTP_KEY, confirmed=True)
        audit.record(actor=admin, action="accounts.totp.enable", obj=admin, after={"device": device.pk})
        return admin

    def assign_roles(self) -> None:
        users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])}
        for demo in DEMO_USERS:
            if demo.role:
                unit = Unit.objects.get(code=demo.unit_code)
                account_services.assign_role(users[demo.username], demo.role, unit, actor=self.admin)

    # -- members

    def generate_members(self) -> Iterator[Member]:
        """``self.members`` sample members spread over the branches by weight, produced lazily so that a
        million of them never sit in memory at once."""
        rng, today = self.rng, self.today
        leaves = self.leaves
        cumulative = list(accumulate(leaf.weight for leaf in leaves))
        mixes = {key: _weighted(mix) for key, mix in ETHNIC_MIX.items()}
        # Birth dates allowed for each age range: (oldest, span in days).
        births = {}
        for ages in {leaf.ages for leaf in leaves}:
            youngest = add_years(today, -ages[0])
            oldest = add_years(today, -ages[1] - 1) + datetime.timedelta(days=1)
            births[ages] = (oldest, (youngest - oldest).days + 1)
        remaining = self.members
        serial = 0
        while remaining > 0:
            chunk = min(remaining, 10_000)
            remaining -= chunk
            for leaf in rng.choices(leaves, cum_weights=cumulative, k=chunk):
                names, weights = mixes[leaf.mix]
                ethnicity = names[0] if len(names) == 1 else rng.choices(names, cum_weights=weights)[0]
                male = rng.random() < 0.5
                family, middle, given = self.name(ethnicity, male)
                oldest, span = births[leaf.ages]
                born = oldest + datetime.timedelta(days=rng.randrange(span))
                # Admitted at 15 years and one day at the earliest, mostly within the next three years.
                earliest = add_years(born, 15) + datetime.timedelta(days=1)
                latest = min(today, add_years(born, 18))
                joined = earliest + datetime.timedelta(days=rng.randrange((latest - earliest).days + 1))
                serial += 1
                yield Member(
                    # A sample citizen ID that passes the checks (048 Đà Nẵng or 049 Quảng Nam, century and sex
                    # digit, year of birth) and a sample card number, so that search by ID can be tried.
                    citizen_id=f"{rng.choice((48, 49)):03d}{sample_century_digit(born, male)}"
                    f"{born.year % 100:02d}{serial:06d}",
                    card_number=f"MAU-{serial:07d}",
                    family_name=family,
                    middle_name=middle,
                    given_name=given,
                    date_of_birth=born,
                    sex=Sex.MALE if male else Sex.FEMALE,
                    ethnicity=ethnicity,
                    unit_id=leaf.unit_id,
                    joined_on=joined,
                    status=MemberStatus.ACTIVE,
                    is_sample=True,
                )

    def name(self, ethnicity: str, male: bool) -> tuple[str, str, str]:
        rng = self.rng
        families = FAMILY_BY_ETHNICITY.get(ethnicity, KINH_FAMILY)
        if ethnicity == "Kinh":
            middles = MALE_MIDDLE if male else FEMALE_MIDDLE
        else:
            middles = MINORITY_MALE_MIDDLE if male else MINORITY_FEMALE_MIDDLE
        family = rng.choices(families[0], cum_weights=families[1])[0]
        middle = rng.choices(middles[0], cum_weights=middles[1])[0]
        # Most young people of the highland groups also carry Vietnamese given names.
        given = rng.choice(MALE_GIVEN if male else FEMALE_GIVEN)
        return family, middle, given


@dataclass
class LoginRow:
    label: str
    name: str
    login: str
    password: str = PASSWORD


def login_rows() -> list[LoginRow]:
    """What to print for each demo user that exists."""
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_USERS])}
    rows = []
    for demo in DEMO_USERS:
        user = users.get(demo.username)
        if user is None:
            continue
        rows.append(LoginRow(demo.label, user.full_name, f"{user.email} | {demo.phone} | {user.username}"))
    return rows


def admin_totp_secret() -> str:
    import base64

    return base64.b32encode(bytes.fromhex(ADMIN_TOTP_KEY)).decode()
