import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_cache_and_queue(client):
    response = client.get("/healthz")
    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"
    assert body["checks"]["queue"].startswith("ok")


def test_home_page_is_public_and_vietnamese(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="vi"' in html
    assert "Đăng nhập" in html


def test_language_switch_to_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Log in" in client.get("/").content.decode()


def test_404_page_is_vietnamese(client, settings):
    settings.DEBUG = False
    response = client.get("/khong-co-trang-nay/")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.content.decode()


def test_audit_page_shows_only_the_managers_subtree(client, world):
    client.force_login(world.manager_C2)
    html = client.get(reverse("core:audit_list")).content.decode()
    assert "Chi đoàn tổ 5" in html
    assert "Chi đoàn thôn 1" not in html


def test_audit_page_filters_by_action_and_rejects_reversed_dates(client, world):
    client.force_login(world.manager_P)
    html = client.get(reverse("core:audit_list"), {"action": "twinning"}).content.decode()
    assert "org.unit.create" not in html
    response = client.get(reverse("core:audit_list"), {"since": "10/10/2025", "until": "01/01/2025"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_dates_are_shown_dd_mm_yyyy(client, world, login):
    login(client, world.admin)
    html = client.get(reverse("org:unit_detail", args=[world.C1.pk])).content.decode()
    assert "01/01/2020" in html


def test_500_page_is_bilingual_and_needs_no_database(rf):
    from doanso.core.views import error_500

    response = error_500(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Đã xảy ra lỗi" in html and "Something went wrong" in html


def test_403_page_is_vietnamese(rf):
    from django.contrib.auth.models import AnonymousUser

    from doanso.core.views import error_403

    request = rf.get("/")
    request.user = AnonymousUser()
    response = error_403(request)
    assert response.status_code == 403
    assert "Không có quyền" in response.content.decode()


def test_audit_filter_takes_a_unit_code_within_scope(client, world):
    client.force_login(world.manager_C1)
    html = client.get(reverse("core:audit_list"), {"unit": "B1"}).content.decode()
    assert "Chi đoàn thôn 1" in html and "Chi đoàn thôn 2" not in html
    response = client.get(reverse("core:audit_list"), {"unit": "B3"})
    assert response.context["form"].errors["unit"]
