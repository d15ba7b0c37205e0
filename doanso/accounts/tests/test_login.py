import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from doanso.accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "mat-khau-demo-2025"


@pytest.fixture
def cadre(make_user):
    return make_user(username="cadre", email="canbo@example.vn", phone="+84905123456")


def post_login(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


@pytest.mark.parametrize(
    "identifier", ["0905 123 456", "0905.123.456", "+84 905 123 456", "84905123456", "CanBo@Example.vn", "cadre"]
)
def test_login_by_phone_in_any_spelling_or_email(client, cadre, identifier):
    response = post_login(client, identifier)
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.session["_auth_user_id"] == str(cadre.pk)


def test_wrong_password_gives_a_message_and_no_session(client, cadre):
    response = post_login(client, "0905123456", "sai-mat-khau")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].non_field_errors()


def test_failed_logins_are_throttled(client, cadre, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "0905123456", "sai-mat-khau")
    response = post_login(client, "0905123456")  # even the right password is refused now
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def totp_code(device):
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def test_a_cadre_with_totp_must_give_the_code(client, cadre):
    device = TOTPDevice.objects.create(user=cadre, name="app", confirmed=True)
    response = post_login(client, "canbo@example.vn")
    assert response.url == reverse("accounts:otp_verify")
    assert "_auth_user_id" not in client.session
    wrong = client.post(
        reverse("accounts:otp_verify"), {"token": "000000" if totp_code(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    ok = client.post(reverse("accounts:otp_verify"), {"token": totp_code(device)})
    assert ok.status_code == 302
    assert client.session["_auth_user_id"] == str(cadre.pk)


def test_platform_admin_without_second_factor_is_sent_to_setup(client, make_user):
    admin = make_user(superuser=True, username="root2")
    client.force_login(admin)
    response = client.get(reverse("org:tree"))
    assert response.status_code == 302 and response.url == reverse("accounts:otp_setup")


def test_totp_setup_confirms_a_device(client, make_user):
    admin = make_user(superuser=True, username="root3")
    client.force_login(admin)
    assert client.get(reverse("accounts:otp_setup")).status_code == 200
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    response = client.post(reverse("accounts:otp_setup"), {"token": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("org:tree")).status_code == 200


def test_password_reset_sends_a_link(client, cadre, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "canbo@example.vn"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/tai-khoan/dat-lai/" in mailoutbox[0].body


def test_inactive_user_cannot_log_in(client, cadre):
    User.objects.filter(pk=cadre.pk).update(is_active=False)
    post_login(client, "canbo@example.vn")
    assert "_auth_user_id" not in client.session


def test_profile_shows_the_phone_the_vietnamese_way(client, cadre):
    client.force_login(cadre)
    assert "0905 123 456" in client.get(reverse("accounts:profile")).content.decode()
