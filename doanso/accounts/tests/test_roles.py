import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from doanso.accounts import services
from doanso.accounts.models import Invitation, RoleAssignment, User
from doanso.core.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_manager_grants_a_role_inside_the_subtree(world):
    assignment = services.assign_role(world.nobody, "unit_staff", world.B1, actor=world.manager_C1)
    assert (assignment.user, assignment.role, assignment.unit, assignment.granted_by) == (
        world.nobody,
        "unit_staff",
        world.B1,
        world.manager_C1,
    )
    assert AuditRecord.objects.filter(action="accounts.role.assign", unit=world.B1).count() == 1


def test_manager_cannot_grant_outside_the_subtree(world):
    before = RoleAssignment.objects.count()
    with pytest.raises(PermissionDenied):
        services.assign_role(world.nobody, "unit_staff", world.B3, actor=world.manager_C1)
    with pytest.raises(PermissionDenied):
        services.assign_role(world.nobody, "unit_staff", world.P, actor=world.manager_C1)
    assert RoleAssignment.objects.count() == before


def test_staff_cannot_grant_roles(world):
    with pytest.raises(PermissionDenied):
        services.assign_role(world.nobody, "unit_staff", world.B1, actor=world.staff_C1)


def test_duplicate_role_is_a_clear_error(world):
    with pytest.raises(ValidationError) as exc:
        services.assign_role(world.manager_C1, "unit_manager", world.C1, actor=world.manager_P)
    assert "role" in exc.value.message_dict


def test_revoke_own_role_is_refused(world):
    own = RoleAssignment.objects.get(user=world.manager_C1)
    with pytest.raises(ValidationError):
        services.revoke_role(own, actor=world.manager_C1)
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_invitation_creates_the_account_with_its_role(client, world):
    invitation, raw = services.invite_user(
        actor=world.manager_C1, full_name="Lê Thị Hoa", unit=world.B2, role="unit_staff", phone="0935 111 222"
    )
    assert invitation.phone == "+84935111222"
    assert Invitation.objects.get().token_hash != raw  # only the hash is stored
    page = client.get(reverse("accounts:invitation_accept", args=[raw]))
    assert page.status_code == 200
    response = client.post(
        reverse("accounts:invitation_accept", args=[raw]),
        {"new_password1": "Hoa-2025-doanvien", "new_password2": "Hoa-2025-doanvien"},
    )
    assert response.status_code == 302
    user = User.objects.get(phone="+84935111222")
    assert user.full_name == "Lê Thị Hoa"
    assert list(user.role_assignments.values_list("role", "unit__code")) == [("unit_staff", "B2")]
    # The link works once.
    assert client.get(reverse("accounts:invitation_accept", args=[raw])).status_code == 404


def test_invitation_with_bad_phone_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        services.invite_user(actor=world.manager_C1, full_name="X", unit=world.B2, phone="12345")
    assert "phone" in exc.value.message_dict
    assert Invitation.objects.count() == 0


def test_role_page_lists_only_the_subtree(client, world):
    client.force_login(world.manager_C1)
    html = client.get(reverse("accounts:role_list")).content.decode()
    assert "mgr_c1" not in html  # usernames are not shown; names are
    assert str(world.staff_C1) in html
    assert str(world.manager_C2) not in html


def test_role_assign_form_rejects_a_forged_unit_code(client, world):
    client.force_login(world.manager_C1)
    response = client.post(
        reverse("accounts:role_assign"), {"contact": world.nobody.email, "role": "unit_staff", "unit": "B3"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["unit"]
    assert not RoleAssignment.objects.filter(user=world.nobody).exists()


def test_api_token_command_prints_a_working_token(world, client):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_token", world.manager_C1.email, stdout=out)
    token = out.getvalue().strip()
    response = client.get("/api/v1/units/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert sorted(u["code"] for u in response.json()["items"]) == ["B1", "B2", "C1"]
