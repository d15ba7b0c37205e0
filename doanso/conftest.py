"""Shared fixtures: a small province with users at every level, and Playwright pointed at Debian's Chromium."""

import datetime
import os
import shutil

import pytest
from django.utils import timezone

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls there unless told.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PAST = datetime.date(2020, 1, 1)


@pytest.fixture
def make_unit():
    from doanso.org import services
    from doanso.org.models import UnitKind

    def make(code, name=None, parent=None, kind=UnitKind.BRANCH, actor=None, active_from=PAST, **extra):
        from doanso.accounts.models import User

        actor = (
            actor
            or User.objects.filter(is_superuser=True).first()
            or User.objects.create_superuser("system-test", password="x")  # noqa: S106
        )
        data = services.UnitData(code=code, name=name or code, kind=kind, **extra)
        return services.create_unit(data, actor=actor, parent=parent, active_from=active_from)

    return make


@pytest.fixture
def make_user(db):
    """A user (password ``accounts.tests.factories.PASSWORD``), with a role at a unit when asked."""
    from doanso.accounts.tests.factories import RoleAssignmentFactory, UserFactory

    def make(role=None, unit=None, superuser=False, **fields):
        user = UserFactory(is_superuser=superuser, is_staff=superuser, **fields)
        if role:
            RoleAssignmentFactory(user=user, role=role, unit=unit)
        return user

    return make


class World:
    """Province P ─┬─ commune C1 ─┬─ branch B1
                   │              └─ branch B2
                   └─ commune C2 ─── branch B3
    with a platform admin, a manager at P, C1 and C2, staff at C1 and a user without roles."""


@pytest.fixture
def world(db, make_unit, make_user):
    from doanso.org.models import UnitKind

    w = World()
    w.admin = make_user(superuser=True, username="admin", email="admin@example.vn")
    w.P = make_unit("P", "Thành đoàn Thử nghiệm", kind=UnitKind.PROVINCE, actor=w.admin)
    w.C1 = make_unit("C1", "Đoàn xã Hòa Vang", w.P, kind=UnitKind.COMMUNE, actor=w.admin)
    w.C2 = make_unit("C2", "Đoàn phường Hải Châu", w.P, kind=UnitKind.COMMUNE, actor=w.admin)
    w.B1 = make_unit("B1", "Chi đoàn thôn 1", w.C1, actor=w.admin)
    w.B2 = make_unit("B2", "Chi đoàn thôn 2", w.C1, actor=w.admin)
    w.B3 = make_unit("B3", "Chi đoàn tổ 5", w.C2, actor=w.admin)
    w.manager_P = make_user("unit_manager", w.P, username="mgr_p")
    w.manager_C1 = make_user("unit_manager", w.C1, username="mgr_c1")
    w.manager_C2 = make_user("unit_manager", w.C2, username="mgr_c2")
    w.staff_C1 = make_user("unit_staff", w.C1, username="staff_c1")
    w.nobody = make_user(username="nobody")
    return w


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Uploaded and generated files of a test go to its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private"},
        },
    }


@pytest.fixture
def today():
    return timezone.localdate()


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    if path is None:
        pytest.fail("Chromium is not installed: run scripts/test, which installs it (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}


@pytest.fixture
def login():
    """Log a test client in; platform admins also pass two-factor authentication, as they must."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def do(client, user):
        client.force_login(user)
        if user.is_superuser:
            device, _ = TOTPDevice.objects.get_or_create(user=user, defaults={"name": "test", "confirmed": True})
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return do


@pytest.fixture
def browse(page, live_server):
    """``browse(user, path)`` opens a page of the live server in Chromium as ``user``, whose session is made
    without the login form (the form itself is tested in accounts/tests/test_browser.py)."""
    from django.conf import settings
    from django.test import Client

    page.set_default_timeout(10000)

    def open_as(user, path: str):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page.goto(live_server.url + path)
        return page

    return open_as


@pytest.fixture(autouse=True)
def _close_batch_connections():
    """Batched writes (core.batching) run on connections of their own, opened in transactional tests: close them
    after each test, or the test database could not be dropped (nothing to do where no batch ran)."""
    yield
    from doanso.core import batching

    batching.close_all()
