"""``manage.py seed_demo``: the demo province is built once for the module (it takes a few seconds) and every
test reads it inside its own transaction."""

import datetime
import io

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from doanso.accounts.models import RoleAssignment, User
from doanso.core.models import AuditRecord
from doanso.members.models import Member
from doanso.org import demo, selectors
from doanso.org.models import AdministrativeDivision, AreaType, Unit, UnitKind, UnitVersion

pytestmark = pytest.mark.django_db
MEMBERS = 300


@pytest.fixture(scope="module", autouse=True)
def seeded(django_db_setup, django_db_blocker):
    """Seed once; roll everything back when the module is done so other modules start from an empty DB."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", members=MEMBERS, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def province():
    return Unit.objects.get(code=demo.ROOT_CODE)


@pytest.fixture
def admin():
    return User.objects.get(username="admin")


def communes(province):
    return Unit.objects.filter(parent=province, kind=UnitKind.COMMUNE, active_to__isnull=True)


def test_the_province_has_the_94_communes_of_da_nang(province):
    assert province.parent is None and province.kind == UnitKind.PROVINCE
    assert communes(province).count() == 94
    names = set(communes(province).values_list("name", flat=True))
    assert {"Đoàn phường Hải Châu", "Đoàn xã Nam Giang", "Đoàn đặc khu Hoàng Sa"} <= names
    assert sum(n.startswith("Đoàn phường ") for n in names) == 23
    assert sum(n.startswith("Đoàn xã ") for n in names) == 70
    assert Unit.objects.get(code="X-20707").area_type == AreaType.MOUNTAIN  # Nam Giang
    assert Unit.objects.get(code="X-20242").area_type == AreaType.URBAN  # Hải Châu
    assert Unit.objects.get(code="X-20434").area_type == AreaType.ISLAND  # Tân Hiệp, Cù Lao Chàm
    assert Unit.objects.get(code="X-20791").area_type == AreaType.LOWLAND  # Thăng Bình


def test_each_commune_is_linked_to_its_division_in_province_48(province):
    # The divisions come with a data migration: an empty table is a failure, not a reason to skip.
    assert AdministrativeDivision.objects.filter(code="48").exists()
    for unit in communes(province).select_related("division__province"):
        assert unit.division is not None, unit.name
        assert unit.division.province.code == "48", unit.name
        assert unit.code == f"X-{unit.division.code}"


def test_communes_have_3_to_8_village_branches(province):
    for unit in communes(province).exclude(code="X-20333"):  # Hoàng Sa has no resident members
        branches = unit.children.filter(kind=UnitKind.BRANCH, active_to__isnull=True).count()
        assert 3 <= branches <= 8, unit.name


def test_block_unions_schools_association_and_pioneers_exist(province):
    blocks = set(Unit.objects.filter(parent=province, kind=UnitKind.BLOCK).values_list("name", flat=True))
    assert blocks == {"Đoàn Khối các cơ quan Đảng thành phố", "Đoàn Khối Ủy ban nhân dân thành phố"}
    for block in Unit.objects.filter(parent=province, kind=UnitKind.BLOCK):
        assert block.children.filter(kind__in=[UnitKind.GRASSROOTS, UnitKind.GRASSROOTS_BRANCH]).count() >= 3
    bach_khoa = Unit.objects.get(name="Đoàn trường Đại học Bách khoa - ĐHĐN", parent=province)
    assert bach_khoa.children.filter(kind=UnitKind.SUB_UNION).count() >= 3
    assert Unit.objects.get(name="Đoàn trường Đại học Quảng Nam").parent == province
    assert Unit.objects.get(name="Đoàn trường THPT Trần Cao Vân (Tam Kỳ)").parent == province
    assert Unit.objects.filter(org="hoi").exists() and Unit.objects.filter(org="doi").exists()
    assert Unit.objects.filter(active_to__isnull=True).count() > 700


def test_members_are_sample_and_sit_in_leaf_branches():
    assert Member.objects.count() == MEMBERS
    assert not Member.objects.filter(is_sample=False).exists()
    assert not Member.objects.filter(unit__children__isnull=False).exists()
    assert set(Member.objects.values_list("unit__kind", flat=True)) <= {UnitKind.BRANCH, UnitKind.GRASSROOTS_BRANCH}
    assert not Member.objects.filter(unit__active_to__isnull=False).exists()
    assert not Member.objects.filter(search_name="").exists()
    today = timezone.localdate()
    for born, joined in Member.objects.values_list("date_of_birth", "joined_on"):
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        assert 16 <= age <= 30
        assert demo.add_years(born, 15) < joined <= today
    # One audit record for the whole batch, not one per member.
    record = AuditRecord.objects.get(action="members.bulk_add")
    assert record.after == {"count": MEMBERS}


def test_mountain_communes_have_ethnic_minority_members():
    mountain = Member.objects.filter(unit__parent__area_type=AreaType.MOUNTAIN)
    urban = Member.objects.filter(unit__parent__area_type=AreaType.URBAN)
    assert mountain.exclude(ethnicity="Kinh").exists()
    # Towns are Kinh but for a few (Phường Hải Vân took in Hòa Bắc, a Cơ Tu mountain commune).
    assert urban.filter(ethnicity="Kinh").count() >= 0.9 * urban.count() > 0


@pytest.mark.parametrize("demo_user", demo.DEMO_USERS, ids=lambda u: u.username)
def test_every_demo_user_logs_in_by_email_phone_and_username(demo_user):
    user = User.objects.get(username=demo_user.username)
    for login in (demo_user.email, demo_user.phone, demo_user.username):
        client = Client()
        response = client.post(reverse("accounts:login"), {"username": login, "password": demo.PASSWORD})
        assert response.status_code == 302, login
        if demo_user.role:
            assert client.session["_auth_user_id"] == str(user.pk)
        else:
            # The administrator's password leads to the second factor.
            assert response.url == reverse("accounts:otp_verify")
    if not demo_user.role:
        # A code computed from the printed secret completes the login (once: a code cannot be used twice).
        response = client.post(reverse("accounts:otp_verify"), {"token": pyotp.TOTP(demo.admin_totp_secret()).now()})
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(user.pk)


def test_roles_sit_where_the_login_table_says():
    rows = set(RoleAssignment.objects.values_list("user__username", "role", "unit__code"))
    expected = {(u.username, u.role, u.unit_code) for u in demo.DEMO_USERS if u.role}
    assert rows == expected
    assert Unit.objects.get(code=demo.DEMO_COMMUNE).area_type == AreaType.MOUNTAIN
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()


def test_the_tree_of_1_january_2025_shows_the_former_districts(admin):
    roots = {node.name: node for node in selectors.tree_as_of(admin, datetime.date(2025, 1, 1))}
    assert set(roots) == {"Thành đoàn Đà Nẵng", "Tỉnh đoàn Quảng Nam"}
    da_nang = {c.name: c for c in roots["Thành đoàn Đà Nẵng"].children}
    quang_nam = {c.name: c for c in roots["Tỉnh đoàn Quảng Nam"].children}
    assert {"Quận đoàn Hải Châu", "Huyện đoàn Hòa Vang"} <= set(da_nang)
    assert {"Huyện đoàn Nam Giang", "Thành đoàn Tam Kỳ", "Thị đoàn Điện Bàn"} <= set(quang_nam)
    nam_giang = {c.name for c in quang_nam["Huyện đoàn Nam Giang"].children}
    assert {"Đoàn xã Zuôich", "Đoàn xã Chà Vàl"} <= nam_giang
    # Today's tree: one root, no district.
    today = selectors.tree_as_of(admin, timezone.localdate())
    assert [root.name for root in today] == ["Thành đoàn Đà Nẵng"]
    assert not [c for c in today[0].children if c.kind == UnitKind.DISTRICT]
    assert not Unit.objects.filter(kind=UnitKind.DISTRICT, active_to__isnull=True).exists()


def test_the_reform_kept_history_in_the_new_commune(province):
    nam_giang = Unit.objects.get(code=demo.DEMO_COMMUNE)
    merged = Unit.objects.filter(successor=nam_giang)
    assert set(merged.values_list("name", flat=True)) == {"Đoàn xã Zuôich", "Đoàn xã Chà Vàl"}
    assert all(u.active_to == demo.REFORM for u in merged)
    assert Unit.objects.get(code="TD-QN").successor == province
    # A commune made from a single old one carries on, renamed and moved up.
    lien_chieu = Unit.objects.get(code="X-20197")
    assert list(lien_chieu.versions.values_list("change", "name", "code", "valid_to")) == [
        ("created", "Đoàn phường Hòa Khánh Bắc", "XC-20197", demo.REFORM),
        ("renamed", "Đoàn phường Liên Chiểu", "X-20197", demo.REFORM),
        ("moved", "Đoàn phường Liên Chiểu", "X-20197", None),
    ]


def state():
    return (
        Unit.objects.count(),
        UnitVersion.objects.count(),
        Member.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditRecord.objects.count(),
    )


def test_running_it_again_changes_nothing_and_prints_the_logins(seeded):
    before = state()
    out = io.StringIO()
    call_command("seed_demo", members=50, stdout=out)
    assert state() == before
    assert "already exists" in out.getvalue()
    for text in ("Dữ liệu mẫu", demo.PASSWORD, "admin@demo.doanso.vn", demo.admin_totp_secret(), "otp_code admin"):
        assert text in out.getvalue()
        assert text in seeded


def test_reset_refuses_on_a_database_with_audit_records():
    before = state()
    with pytest.raises(CommandError, match="append-only"):
        call_command("seed_demo", reset=True, stdout=io.StringIO())
    assert state() == before


def test_demo_sites_and_the_60_border_markers_are_published_sample_data():
    from doanso.sites.models import Adoption, BorderMarker, Site

    assert list(BorderMarker.objects.values_list("number", flat=True)) == list(range(676, 736))
    assert Site.objects.filter(is_sample=False).count() == 0
    assert Site.objects.exclude(status="published").count() == 0
    assert Site.objects.count() == 65
    adoption = Adoption.objects.select_related("site__marker", "unit").get()
    assert (adoption.site.marker.number, adoption.unit.code, adoption.activities.count()) == (678, "X-20455", 3)
