"""Transfer (chuyển sinh hoạt): sent by the unit holding the file, received by another; out of the province, a
letter with a verification code."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from doanso.core.models import AuditRecord
from doanso.members.models import Member, MemberEvent, MemberStatus, Transfer
from doanso.members.services import lifecycle

from .factories import MemberFactory
from .lifecycle_support import TODAY, english, frozen, state, timeline  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "english")]

SENT = datetime.date(2025, 6, 1)


@pytest.fixture
def member(world):
    return MemberFactory(unit=world.B1, joined_on=datetime.date(2020, 3, 26))


def refused(call, field: str, message: str):
    before = state()
    with pytest.raises(ValidationError) as exc:
        call()
    assert exc.value.message_dict == {field: [message]}
    assert state() == before


def denied(call):
    before = state()
    with pytest.raises(PermissionDenied):
        call()
    assert state() == before


def where_is_the_file(member) -> tuple:
    """The unit holding the file and the open transfer, if any: never nothing."""
    member.refresh_from_db()
    open_transfer = Transfer.objects.filter(member=member, status=Transfer.Status.SENT).first()
    assert member.unit_id is not None
    assert (member.status == MemberStatus.TRANSFERRING) == (open_transfer is not None)
    going_to = (
        (open_transfer.to_unit.code if open_transfer.to_unit else open_transfer.destination) if open_transfer else None
    )
    return member.unit.code, member.status, going_to


def test_transfer_keeps_the_file_somewhere(world, member):
    assert where_is_the_file(member) == ("B1", "active", None)
    transfer = lifecycle.send_transfer(
        member,
        actor=world.manager_C1,
        to_unit=world.B3,
        sent_on=SENT,
        assessment="Hoàn thành tốt nhiệm vụ",
        dues_paid_until=datetime.date(2025, 6, 30),
    )
    # Sent, not yet received: the sender still holds the file, and the record says where it is going.
    assert where_is_the_file(member) == ("B1", "transferring", "B3")
    assert (transfer.from_unit, transfer.sent_by, transfer.verification_code) == (world.B1, world.manager_C1, "")

    # The sender cannot receive into a unit outside its subtree.
    denied(lambda: lifecycle.receive_transfer(transfer, actor=world.manager_C1))
    lifecycle.receive_transfer(transfer, actor=world.manager_C2, received_on=TODAY)
    assert where_is_the_file(member) == ("B3", "active", None)

    transfer.refresh_from_db()
    assert (transfer.status, transfer.received_on, transfer.received_by) == ("received", TODAY, world.manager_C2)
    events = MemberEvent.objects.filter(member=member).order_by("id")
    assert [(e.kind, e.date, e.unit.code, e.other_unit.code, e.status_after) for e in events] == [
        ("transfer_sent", SENT, "B1", "B3", "transferring"),
        ("transfer_received", TODAY, "B1", "B3", "active"),
    ]
    assert list(
        AuditRecord.objects.filter(action__startswith="members.transfer")
        .order_by("id")
        .values_list("action", "before", "after")
    ) == [
        (
            "members.transfer.send",
            {"unit": world.B1.pk, "status": "active"},
            {
                "unit": world.B1.pk,
                "status": "transferring",
                "transfer": transfer.pk,
                "to_unit": world.B3.pk,
                "destination": "",
            },
        ),
        (
            "members.transfer.receive",
            {"unit": world.B1.pk, "status": "transferring"},
            {"unit": world.B3.pk, "status": "active", "transfer": transfer.pk},
        ),
    ]


def test_the_receiving_union_places_the_member_in_a_branch_under_it(world, member):
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.C2, sent_on=SENT)
    refused(
        lambda: lifecycle.receive_transfer(transfer, actor=world.manager_P, place_in=world.B2),
        "place_in",
        "Place the member in Đoàn phường Hải Châu or in a unit under it.",
    )
    lifecycle.receive_transfer(transfer, actor=world.manager_C2, place_in=world.B3)
    assert where_is_the_file(member) == ("B3", "active", None)


def test_a_member_is_sent_only_once_at_a_time(world, member):
    lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3, sent_on=SENT)
    refused(
        lambda: lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B2),
        "member",
        f"{member.full_name} is being transferred: cancel the transfer, or let the receiving unit take the file, "
        "first.",
    )


def test_send_needs_exactly_one_destination(world, member):
    refused(
        lambda: lifecycle.send_transfer(member, actor=world.manager_C1),
        "to_unit",
        "Choose the receiving unit, or write the destination outside the province.",
    )
    refused(
        lambda: lifecycle.send_transfer(
            member, actor=world.manager_C1, to_unit=world.B3, destination="Tỉnh đoàn Quảng Ngãi"
        ),
        "destination",
        "Choose either a unit of the province or a destination outside it, not both.",
    )
    refused(
        lambda: lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B1),
        "to_unit",
        f"Chi đoàn thôn 1 already holds the file of {member.full_name}.",
    )


def test_send_refuses_an_ended_unit_and_dates_out_of_order(world, member):
    from doanso.org import services as org_services

    org_services.dissolve_unit(world.B2, actor=world.admin, effective=datetime.date(2025, 1, 1), reason="QĐ 3")
    refused(
        lambda: lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B2),
        "to_unit",
        "Chi đoàn thôn 2 is not an active unit.",
    )
    refused(
        lambda: lifecycle.send_transfer(
            member, actor=world.manager_C1, to_unit=world.B3, sent_on=datetime.date(2019, 1, 1)
        ),
        "sent_on",
        "The date cannot be before the day the member joined (26/03/2020).",
    )
    refused(
        lambda: lifecycle.send_transfer(
            member, actor=world.manager_C1, to_unit=world.B3, sent_on=datetime.date(2025, 6, 16)
        ),
        "sent_on",
        "The date cannot be in the future.",
    )


def test_only_the_unit_holding_the_file_sends(world, member):
    denied(lambda: lifecycle.send_transfer(member, actor=world.manager_C2, to_unit=world.B3))
    denied(lambda: lifecycle.send_transfer(member, actor=world.nobody, to_unit=world.B3))


def test_cancel_returns_the_member_to_the_sender(world, member):
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3, sent_on=SENT)
    lifecycle.cancel_transfer(transfer, actor=world.manager_C1, reason="Không chuyển nữa")
    assert where_is_the_file(member) == ("B1", "active", None)
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"
    assert timeline(member) == [("transfer_sent", "transferring"), ("transfer_cancelled", "active")]
    refused(
        lambda: lifecycle.receive_transfer(transfer, actor=world.manager_C2),
        "transfer",
        "This transfer is no longer waiting: Cancelled.",
    )


def test_the_receiving_unit_may_decline(world, member, make_user):
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3, sent_on=SENT)
    denied(lambda: lifecycle.cancel_transfer(transfer, actor=make_user("unit_manager", world.B2)))
    lifecycle.cancel_transfer(transfer, actor=world.manager_C2, reason="Không có ở địa phương")
    assert where_is_the_file(member) == ("B1", "active", None)


def test_out_of_province_transfer_gets_a_verification_code(world, member):
    refused(
        lambda: lifecycle.send_transfer(member, actor=world.manager_C1, destination="Tỉnh đoàn Quảng Ngãi"),
        "assessment",
        "Write the branch's assessment: the letter carries it.",
    )
    transfer = lifecycle.send_transfer(
        member, actor=world.manager_C1, destination=" Tỉnh đoàn  Quảng Ngãi ", assessment="Tốt", sent_on=SENT
    )
    assert transfer.destination == "Tỉnh đoàn Quảng Ngãi"
    assert len(transfer.verification_code) == 12
    assert set(transfer.verification_code) <= set(lifecycle.CODE_ALPHABET)
    assert lifecycle.normalise_code(f" {transfer.verification_code[:4].lower()}-{transfer.verification_code[4:]} ") == (
        transfer.verification_code
    )
    # Still the province's member until the other province confirms: nobody here can "receive" it.
    assert where_is_the_file(member) == ("B1", "transferring", "Tỉnh đoàn Quảng Ngãi")
    refused(
        lambda: lifecycle.receive_transfer(transfer, actor=world.manager_C1),
        "transfer",
        "This transfer goes outside the province: record that it was received there instead.",
    )


def test_the_file_leaves_the_province_when_the_other_province_confirms(world, member):
    from doanso.members.models import Position

    Position.objects.create(member=member, title="Phó Bí thư", unit=world.B1, start=datetime.date(2023, 1, 1))
    transfer = lifecycle.send_transfer(
        member, actor=world.manager_C1, destination="Tỉnh đoàn Quảng Ngãi", assessment="Tốt", sent_on=SENT
    )
    refused(
        lambda: lifecycle.record_transfer_out(transfer, actor=world.manager_C1, received_on=datetime.date(2025, 5, 1)),
        "received_on",
        "The date cannot be before the day it was sent (01/06/2025).",
    )
    lifecycle.record_transfer_out(transfer, actor=world.manager_C1, received_on=TODAY)
    member.refresh_from_db()
    transfer.refresh_from_db()
    assert (member.unit, member.status) == (world.B1, MemberStatus.TRANSFERRED_OUT)
    assert (transfer.status, transfer.received_on) == ("received", TODAY)
    assert timeline(member) == [("transfer_sent", "transferring"), ("transfer_received", "transferred_out")]
    assert Position.objects.get(member=member).end == TODAY


def test_a_transfer_in_the_province_is_not_closed_as_leaving_it(world, member):
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3, sent_on=SENT)
    refused(
        lambda: lifecycle.record_transfer_out(transfer, actor=world.manager_C1),
        "transfer",
        "This transfer stays in the province: the receiving unit takes the file itself.",
    )


def test_a_death_during_a_transfer_closes_it(world, member):
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3, sent_on=SENT)
    lifecycle.record_death(member, actor=world.manager_C1, on=TODAY, note="Tai nạn giao thông")
    transfer.refresh_from_db()
    member.refresh_from_db()
    assert (transfer.status, member.status, member.unit) == ("cancelled", "deceased", world.B1)
    assert timeline(member) == [("transfer_sent", "transferring"), ("deceased", "deceased")]


def test_a_receiving_cadre_cannot_take_an_ended_member(world, member):
    transfer = lifecycle.send_transfer(member, actor=world.manager_C1, to_unit=world.B3, sent_on=SENT)
    lifecycle.record_death(member, actor=world.manager_C1, on=TODAY)
    refused(
        lambda: lifecycle.receive_transfer(transfer, actor=world.manager_C2),
        "transfer",
        "This transfer is no longer waiting: Cancelled.",
    )
    assert Member.objects.get(pk=member.pk).status == "deceased"
