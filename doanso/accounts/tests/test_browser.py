"""Logging in and out through a real Chromium, as a cadre and as a platform administrator with a second factor."""

import re

import pytest
from django.contrib.sessions.models import Session
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from doanso.core.models import AuditRecord

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "mat-khau-demo-2025"


@pytest.fixture
def login_page(page: Page, live_server):
    page.set_default_timeout(10000)
    page.goto(live_server.url + "/tai-khoan/dang-nhap/")
    return page


def signed_in_user_ids() -> list[int]:
    sessions = (s.get_decoded() for s in Session.objects.all())
    return sorted(int(d["_auth_user_id"]) for d in sessions if "_auth_user_id" in d)


def test_login_by_phone_then_logout(login_page, live_server, world, make_user):
    cadre = make_user("unit_manager", world.C1, full_name="Trần Thị Bích", phone="+84905123456")
    page = login_page
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập")

    page.get_by_label("Số điện thoại hoặc email").fill("0905 123 456")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Số điện thoại, email hoặc mật khẩu không đúng. Bạn hãy kiểm tra lại và thử lại."
    )
    expect(page).to_have_url(live_server.url + "/tai-khoan/dang-nhap/")
    assert signed_in_user_ids() == []

    page.get_by_label("Số điện thoại hoặc email").fill("0905 123 456")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(live_server.url + "/tong-quan/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Xin chào, Trần Thị Bích")
    expect(page.get_by_role("main").get_by_role("link", name="Đoàn xã Hòa Vang")).to_be_visible()
    assert signed_in_user_ids() == [cadre.pk]

    page.get_by_role("navigation", name="Điều hướng chính").get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("main").get_by_role("button", name="Đăng nhập")).to_be_visible()
    assert signed_in_user_ids() == []
    page.goto(live_server.url + "/tong-quan/")
    expect(page).to_have_url(re.compile(r"/tai-khoan/dang-nhap/\?next=/tong-quan/$"))


def test_platform_admin_gives_the_totp_code_after_the_password(login_page, live_server, world):
    device = TOTPDevice.objects.create(user=world.admin, name="app", confirmed=True)
    page = login_page
    page.get_by_label("Số điện thoại hoặc email").fill("admin@example.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    expect(page).to_have_url(live_server.url + "/tai-khoan/dang-nhap/ma-xac-thuc/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nhập mã xác thực")
    assert signed_in_user_ids() == []  # the password alone opens no session

    code = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    page.get_by_label("Mã 6 chữ số trên ứng dụng xác thực").fill(f"{code:06d}")
    page.get_by_role("button", name="Xác nhận").click()
    expect(page).to_have_url(live_server.url + "/tong-quan/")
    expect(page.get_by_text("Bạn là quản trị hệ thống: mọi đơn vị đều thuộc phạm vi của bạn.")).to_be_visible()
    assert signed_in_user_ids() == [world.admin.pk]

    # The second factor holds for the session: admin-only pages open without being sent back to set it up.
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Nhật ký thao tác").click()
    expect(page).to_have_url(live_server.url + "/nhat-ky/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nhật ký thao tác")
    expect(page.locator("#audit-rows tbody tr")).to_have_count(AuditRecord.objects.count())
