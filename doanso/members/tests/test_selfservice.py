"""Self-service: a member's account by invitation, their own page, and correction requests that a cadre
reviews. Refused paths assert that nothing changed."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from doanso.accounts.models import Invitation, User
from doanso.accounts.services import accept_invitation
from doanso.accounts.tests.factories import UserFactory
from doanso.core.models import AccessRecord, AuditRecord
from doanso.members.models import CorrectionRequest, Member, MemberEvent, MemberStatus
from doanso.members.services.selfservice import (
    activate_member_account,
    approve_correction,
    invite_member,
    reject_correction,
    request_correction,
)

from .factories import MemberFactory

pytestmark = pytest.mark.django_db
PASSWORD = "mot-mat-khau-kha-dai-2026"


@pytest.fixture(autouse=True)
def english():
    # Messages are compared in English, the source language, whatever the catalogue holds.
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    # Pages in English too: LocaleMiddleware picks the language per request.
    from django.test import Client

    return Client(headers={"accept-language": "en"})


@pytest.fixture
def member(world):
    return MemberFactory(
        unit=world.B1,
        family_name="Trần",
        middle_name="Văn",
        given_name="Bình",
        phone="+84905123456",
        email="",
        citizen_id="048203001234",
        sex="male",
        date_of_birth=datetime.date(2003, 5, 17),
    )


@pytest.fixture
def with_account(member):
    member.user = UserFactory(full_name=member.full_name)
    member.save(update_fields=["user"])
    return member


def snapshot(member: Member) -> dict:
    fresh = Member.objects.get(pk=member.pk)
    return {
        "record": {f.attname: getattr(fresh, f.attname) for f in Member._meta.concrete_fields},
        "events": MemberEvent.objects.filter(member=member).count(),
        "requests": list(CorrectionRequest.objects.filter(member=member).values_list("status", flat=True)),
        "audit": AuditRecord.objects.count(),
    }


# --- Invitation and activation --------------------------------------------------------------------------------


def test_invite_member_then_activation_links_the_new_account_to_the_record(world, member):
    invitation, raw = invite_member(member, actor=world.manager_C1, email="Binh.Tran@Example.vn")
    assert (invitation.role, invitation.unit, invitation.full_name) == ("", world.B1, "Trần Văn Bình")
    assert (invitation.email, invitation.phone) == ("binh.tran@example.vn", "+84905123456")
    member.refresh_from_db()
    # The blank e-mail of the record takes the contact the invitation went to; the phone was already there.
    assert member.email == "binh.tran@example.vn"
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.actor, event.data) == (MemberEvent.Kind.UPDATED, world.manager_C1, {"fields": ["e-mail"]})
    audit = AuditRecord.objects.get(action="members.member.invite")
    assert (audit.object_id, audit.unit, audit.after) == (
        str(member.pk),
        world.B1,
        {"invitation": invitation.pk, "filled": ["email"]},
    )

    user = accept_invitation(raw, password=PASSWORD)
    assert activate_member_account(user) == member
    member.refresh_from_db()
    assert member.user == user
    assert AuditRecord.objects.get(action="members.member.activate").after == {
        "user": user.pk,
        "invitation": invitation.pk,
    }
    # Safe to call again: nothing more is written.
    count = AuditRecord.objects.count()
    assert activate_member_account(user) == member
    assert AuditRecord.objects.count() == count


def test_activation_leaves_accounts_of_cadres_and_ambiguous_contacts_unlinked(world, member):
    assert activate_member_account(world.manager_C1) is None
    _inv, raw = invite_member(member, actor=world.manager_C1)
    # A second member of the unit gets the same phone after the invitation: the account cannot be placed.
    twin = MemberFactory(unit=world.B1, phone="0905123456")
    user = accept_invitation(raw, password=PASSWORD)
    assert activate_member_account(user) is None
    assert Member.objects.filter(user=user).count() == 0
    twin.delete()
    assert activate_member_account(user) == member


@pytest.mark.parametrize(
    ("change", "kwargs", "error"),
    [
        (
            {"email": "mine@example.vn"},
            {"email": "other@example.vn"},
            {"email": ["The record has another e-mail address; correct the record first."]},
        ),
        ({}, {"phone": "0912 345 678"}, {"phone": ["The record has another phone number; correct the record first."]}),
        ({}, {"phone": "12345"}, {"phone": ["“12345” is not a valid phone number."]}),
        ({"status": MemberStatus.GRADUATED}, {}, ["Only a current member can have a self-service account."]),
    ],
)
def test_invite_member_refuses_and_writes_nothing(world, member, change, kwargs, error):
    Member.objects.filter(pk=member.pk).update(**change)
    before = snapshot(member)
    with pytest.raises(ValidationError) as exc:
        invite_member(member, actor=world.manager_C1, **kwargs)
    assert (exc.value.message_dict if isinstance(error, dict) else exc.value.messages) == error
    assert snapshot(member) == before
    assert Invitation.objects.count() == 0


def test_invite_member_needs_the_right_to_manage_members_at_the_unit(world, member, with_account):
    other = MemberFactory(unit=world.B1, phone="+84912345678")
    for actor in (world.manager_C2, world.nobody):
        with pytest.raises(PermissionDenied):
            invite_member(other, actor=actor)
    with pytest.raises(ValidationError) as exc:
        invite_member(member, actor=world.manager_C1)
    assert exc.value.messages == ["Trần Văn Bình already has an account."]
    assert Invitation.objects.count() == 0


def test_invite_page_shows_the_link_and_mails_it(client, login, world, member, mailoutbox):
    login(client, world.manager_C1)
    url = reverse("members:member_invite", args=[member.pk])
    page = client.get(url).content.decode()
    assert 'value="0905 123 456"' in page
    response = client.post(url, {"email": "binh@example.vn", "phone": "0905 123 456"})
    assert response.status_code == 200
    link = re.search(r'<code id="invitation-link">([^<]+)</code>', response.content.decode()).group(1)
    assert link.startswith("http://testserver/tai-khoan/loi-moi/")
    assert [m.to for m in mailoutbox] == [["binh@example.vn"]]
    assert link in mailoutbox[0].body
    # Staff who manage members may invite them too; a cadre of another commune may not.
    login(client, world.staff_C1)
    assert client.get(url).status_code == 200
    login(client, world.manager_C2)
    assert client.get(url).status_code == 404


def test_a_member_activates_the_account_and_lands_on_their_own_page(client, world, member):
    _inv, raw = invite_member(member, actor=world.manager_C1, email="binh@example.vn")
    response = client.post(
        reverse("accounts:invitation_accept", args=[raw]), {"new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert response.status_code == 302
    page = client.get(reverse("members:my_home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert Member.objects.get(pk=member.pk).user.username == "binh@example.vn"
    assert "<h2>Trần Văn Bình</h2>" in html
    # Their own data, unmasked: it is theirs.
    assert "<td>048203001234</td>" in html and "<td>0905 123 456</td>" in html and "<td>17/05/2003</td>" in html
    assert reverse("members:card", args=[member.pk]) in html


def test_my_page_of_a_cadre_without_member_record(client, login, world):
    login(client, world.manager_C1)
    html = client.get(reverse("members:my_home")).content.decode()
    assert "Your account is not linked to a member record." in html
    assert client.get(reverse("members:correction_request")).status_code == 404


# --- Correction requests ----------------------------------------------------------------------------------------


def test_request_correction_keeps_only_what_differs_and_audits_without_the_protected_values(world, with_account):
    member = with_account
    correction = request_correction(
        member,
        actor=member.user,
        values={"given_name": " Bình  An ", "middle_name": "Văn", "phone": "0912 345 678", "ethnicity": "kinh"},
        message="Tên khai sinh có chữ An",
    )
    assert correction.status == CorrectionRequest.Status.PENDING
    assert correction.changes == {
        "given_name": {"old": "Bình", "new": "Bình An"},
        "phone": {"old": "+84905123456", "new": "+84912345678"},
    }
    audit = AuditRecord.objects.get(action="members.correction.request")
    assert audit.after == {
        "member": member.pk,
        "changes": {"given_name": {"old": "Bình", "new": "Bình An"}, "phone": {"old": "•••", "new": "•••"}},
    }
    # The record itself waits for the review.
    assert Member.objects.get(pk=member.pk).given_name == "Bình"


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"phone": "12345"}, {"phone": ["“12345” is not a valid phone number."]}),
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        ({"ethnicity": "Elf"}, {"ethnicity": ["“Elf” is not one of the 54 ethnic groups."]}),
        ({"given_name": ""}, {"given_name": ["This field cannot be blank."]}),
        ({"occupation": "pilot"}, {"occupation": ["Value 'pilot' is not a valid choice."]}),
        (
            {"date_of_birth": datetime.date(2004, 5, 17)},
            {"date_of_birth": ["Digits 5–6 (03) must be the year of birth (2004)."]},
        ),
        (
            {"date_of_birth": datetime.date(2099, 1, 1)},
            {
                "date_of_birth": [
                    "Digits 5–6 (03) must be the year of birth (2099).",
                    "The date of birth is in the future.",
                ]
            },
        ),
        ({"citizen_id": "048203009999"}, ["These fields cannot be changed by a request: ['citizen_id']."]),
        ({"given_name": "Bình"}, ["Nothing differs from your record."]),
    ],
)
def test_request_correction_refuses_bad_values_and_writes_nothing(world, with_account, values, error):
    before = snapshot(with_account)
    with pytest.raises(ValidationError) as exc:
        request_correction(with_account, actor=with_account.user, values=values)
    assert (exc.value.message_dict if isinstance(error, dict) else exc.value.messages) == error
    assert snapshot(with_account) == before


def test_only_the_member_asks_and_one_request_at_a_time(world, with_account):
    before = snapshot(with_account)
    for actor in (world.manager_C1, UserFactory()):
        with pytest.raises(PermissionDenied):
            request_correction(with_account, actor=actor, values={"other_names": "Bi"})
    assert snapshot(with_account) == before
    request_correction(with_account, actor=with_account.user, values={"other_names": "Bi"})
    with pytest.raises(ValidationError) as exc:
        request_correction(with_account, actor=with_account.user, values={"other_names": "Bo"})
    assert exc.value.messages == ["You already have a request waiting for review. Wait for the answer first."]
    assert CorrectionRequest.objects.count() == 1


def test_approve_correction_applies_the_change_refreshes_search_and_records_it(world, with_account):
    member = with_account
    correction = request_correction(member, actor=member.user, values={"given_name": "Bình An", "phone": "0912345678"})
    approve_correction(correction, actor=world.manager_C1, note="Đã đối chiếu giấy khai sinh")
    member.refresh_from_db()
    correction.refresh_from_db()
    assert (member.given_name, member.phone) == ("Bình An", "+84912345678")
    assert member.search_name == "binh an van tran"
    assert "0912345678" in member.search_ids
    assert (correction.status, correction.reviewed_by, correction.review_note) == (
        CorrectionRequest.Status.APPROVED,
        world.manager_C1,
        "Đã đối chiếu giấy khai sinh",
    )
    assert correction.reviewed_at is not None
    event = MemberEvent.objects.get(member=member)
    assert (event.kind, event.actor, event.status_after, event.data) == (
        MemberEvent.Kind.CORRECTED,
        world.manager_C1,
        MemberStatus.ACTIVE,
        {"request": correction.pk, "fields": ["given name", "phone"]},
    )
    audit = AuditRecord.objects.get(action="members.correction.approve")
    assert (audit.object_id, audit.unit) == (str(member.pk), world.B1)
    assert audit.before == {"request": correction.pk, "given_name": "Bình", "phone": "•••"}
    assert audit.after == {"request": correction.pk, "given_name": "Bình An", "phone": "•••"}


def test_approval_is_refused_outside_scope_twice_or_on_a_stale_request(world, with_account):
    member = with_account
    correction = request_correction(member, actor=member.user, values={"given_name": "Bình An"})
    before = snapshot(member)
    for actor in (world.manager_C2, world.nobody):
        with pytest.raises(PermissionDenied):
            approve_correction(correction, actor=actor)
        with pytest.raises(PermissionDenied):
            reject_correction(correction, actor=actor, note="Không")
    assert snapshot(member) == before

    # A cadre edited the name in the meantime: the request no longer says what the member saw.
    Member.objects.filter(pk=member.pk).update(given_name="Bính")
    before = snapshot(member)
    with pytest.raises(ValidationError) as exc:
        approve_correction(correction, actor=world.manager_C1)
    assert exc.value.messages == [
        "The record has changed since the request (given name); reject it and ask for a new one."
    ]
    assert snapshot(member) == before

    reject_correction(correction, actor=world.manager_C1, note="Hồ sơ đã sửa")
    before = snapshot(member)
    with pytest.raises(ValidationError) as exc:
        approve_correction(correction, actor=world.manager_C1)
    assert exc.value.messages == ["This request has already been reviewed."]
    assert snapshot(member) == before


def test_a_cadre_does_not_review_a_request_about_their_own_record(world):
    own = MemberFactory(unit=world.B1, user=world.staff_C1)
    correction = request_correction(own, actor=world.staff_C1, values={"other_names": "Bi"})
    with pytest.raises(ValidationError) as exc:
        approve_correction(correction, actor=world.staff_C1)
    assert exc.value.messages == ["You cannot review a request about your own record."]
    approve_correction(correction, actor=world.manager_C1)
    assert Member.objects.get(pk=own.pk).other_names == "Bi"


def test_reject_needs_a_reason_and_leaves_the_record(world, with_account):
    correction = request_correction(with_account, actor=with_account.user, values={"other_names": "Bi"})
    before = snapshot(with_account)
    with pytest.raises(ValidationError) as exc:
        reject_correction(correction, actor=world.manager_C1, note="  ")
    assert exc.value.message_dict == {"note": ["Tell the member why the request is rejected."]}
    assert snapshot(with_account) == before
    reject_correction(correction, actor=world.manager_C1, note="Cần bản sao giấy khai sinh")
    correction.refresh_from_db()
    assert (correction.status, correction.review_note) == ("rejected", "Cần bản sao giấy khai sinh")
    assert Member.objects.get(pk=with_account.pk).other_names == ""
    assert AuditRecord.objects.get(action="members.correction.reject").after == {
        "member": with_account.pk,
        "note": "Cần bản sao giấy khai sinh",
    }


def test_correction_round_trip_through_the_pages(client, login, world, with_account):
    member = with_account
    client.force_login(member.user)
    form = client.get(reverse("members:correction_request")).content.decode()
    assert 'name="date_of_birth" value="17/05/2003"' in form
    data = {
        "family_name": "Trần",
        "middle_name": "Văn",
        "given_name": "Bình An",
        "other_names": "",
        "date_of_birth": "17/05/2003",
        "ethnicity": "Kinh",
        "religion": "",
        "phone": "0905 123 456",
        "email": "",
        "hometown_address": "",
        "residence_address": "Thôn 1, xã Hòa Vang",
        "occupation": "",
        "schooling": "",
        "qualification": "",
        "foreign_language": "",
        "it_skill": "",
        "message": "Thêm tên đệm",
    }
    response = client.post(reverse("members:correction_request"), data)
    assert response.status_code == 302 and response.url == reverse("members:my_home")
    correction = CorrectionRequest.objects.get()
    assert correction.changes == {
        "given_name": {"old": "Bình", "new": "Bình An"},
        "residence_address": {"old": "", "new": "Thôn 1, xã Hòa Vang"},
    }

    # The sibling commune's manager neither lists nor opens it.
    login(client, world.manager_C2)
    assert "Trần Văn Bình" not in client.get(reverse("members:correction_inbox")).content.decode()
    assert client.get(reverse("members:correction_detail", args=[correction.pk])).status_code == 404

    # Staff without the right to see protected fields see them masked, and no access is logged.
    login(client, world.staff_C1)
    html = client.get(reverse("members:correction_detail", args=[correction.pk])).content.decode()
    assert "Thôn 1, xã Hòa Vang" not in html and "<strong>•••</strong>" in html
    assert AccessRecord.objects.count() == 0

    login(client, world.manager_C1)
    inbox = client.get(reverse("members:correction_inbox")).content.decode()
    assert "Trần Văn Bình" in inbox and "given name, street address" in inbox
    html = client.get(reverse("members:correction_detail", args=[correction.pk])).content.decode()
    assert "<strong>Thôn 1, xã Hòa Vang</strong>" in html
    access = AccessRecord.objects.get()
    assert (access.actor, access.fields, access.reason) == (
        world.manager_C1,
        ["residence_address"],
        f"Review of correction request #{correction.pk}",
    )
    response = client.post(reverse("members:correction_approve", args=[correction.pk]), {"note": ""})
    assert response.status_code == 302 and response.url == reverse("members:correction_inbox")
    assert Member.objects.get(pk=member.pk).given_name == "Bình An"

    client.force_login(member.user)
    home = client.get(reverse("members:my_home")).content.decode()
    assert '<span class="badge">Approved</span>' in home


def test_rejecting_from_the_page_without_a_reason_shows_the_error(client, login, world, with_account):
    correction = request_correction(with_account, actor=with_account.user, values={"other_names": "Bi"})
    login(client, world.manager_C1)
    response = client.post(reverse("members:correction_reject", args=[correction.pk]), {"note": ""})
    assert response.status_code == 400
    assert "Tell the member why the request is rejected." in response.content.decode()
    assert CorrectionRequest.objects.get().status == "pending"


def test_users_are_not_created_by_activation(world):
    users = User.objects.count()
    assert activate_member_account(world.nobody) is None
    assert User.objects.count() == users


def test_staff_without_the_right_to_unmask_review_a_phone_change_masked(client, login, world, with_account):
    correction = request_correction(with_account, actor=with_account.user, values={"phone": "0912 345 678"})
    login(client, world.staff_C1)
    html = client.get(reverse("members:correction_detail", args=[correction.pk])).content.decode()
    assert "<td>0905***456</td><td><strong>0912***678</strong></td>" in html
    assert "0912 345 678" not in html and "+84912345678" not in html
    assert AccessRecord.objects.count() == 0
