"""Taking part: registration and the one-person rule, the draw, saving answers, the deadline, caps, and every
refused input leaving the attempt as it was."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from freezegun import freeze_time

from doanso.contests.models import Attempt, AttemptQuestion, AttemptStatus, Participant, QuestionVersion, UnitTally
from doanso.contests.services import setup, taking
from doanso.contests.services.taking import AttemptRefused

from .support import answer_all

pytestmark = pytest.mark.django_db


def codes(exc) -> set:
    return {e.code for errors in exc.error_dict.values() for e in errors}


def test_registration_normalises_and_the_same_person_gets_their_entry_back(contest, world):
    p = taking.register_participant(
        contest,
        full_name="  trần   thị  Hà ",
        date_of_birth=datetime.date(2004, 3, 9),
        phone="0905.123.456",
        unit=world.B2,
        citizen_id="048304001234",
        occupation="student",
    )
    assert (p.full_name, p.phone, p.citizen_id, p.unit) == ("trần thị Hà", "+84905123456", "048304001234", world.B2)
    again = taking.register_participant(
        contest,
        full_name="Tran Thi Ha",
        date_of_birth=datetime.date(2004, 3, 9),
        phone="+84 905 123 456",
        unit=world.B2,
    )
    assert again.pk == p.pk
    assert Participant.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"full_name": "Lê Văn Khác"}, "phone"),  # someone else with the same phone
        ({"phone": "0906000111", "citizen_id": "048304001234"}, "citizen_id"),  # same ID, another phone
        ({"phone": "12345"}, "phone"),
        ({"citizen_id": "04830400"}, "citizen_id"),
        ({"full_name": "Hà"}, "full_name"),
        ({"date_of_birth": datetime.date(2030, 1, 1)}, "date_of_birth"),
        ({"phone": "0906000222", "full_name": "Nguyễn " + "Văn " * 60 + "An"}, "full_name"),  # longer than the column
        ({"phone": "0906000222", "occupation": "astronaut"}, "occupation"),  # the API takes any string
    ],
)
def test_registration_refusals_are_at_their_field_and_write_nothing(contest, world, change, field):
    taking.register_participant(
        contest,
        full_name="Trần Thị Hà",
        date_of_birth=datetime.date(2004, 3, 9),
        phone="0905123456",
        unit=world.B2,
        citizen_id="048304001234",
    )
    data = {
        "full_name": "Trần Thị Hà",
        "date_of_birth": datetime.date(2004, 3, 9),
        "phone": "0905123456",
        "unit": world.B2,
        **change,
    }
    with pytest.raises(ValidationError) as exc:
        taking.register_participant(contest, **data)
    assert field in exc.value.message_dict
    assert Participant.objects.count() == 1


def test_registration_refuses_a_unit_outside_the_contest(contest, world):
    with pytest.raises(ValidationError) as exc:
        taking.register_participant(
            contest,
            full_name="Lê Văn An",
            date_of_birth=datetime.date(2001, 1, 1),
            phone="0905000001",
            unit=world.B3,
        )
    assert "unit" in exc.value.message_dict
    assert not Participant.objects.exists()


def test_start_draws_the_quota_and_shuffles_per_attempt(round_, register):
    a = taking.start_attempt(round_, register())
    rows = list(AttemptQuestion.objects.filter(attempt=a).select_related("version__question"))
    assert len(rows) == 10 == a.question_total
    assert sum(r.version.question.topic == "Lịch sử Đoàn" for r in rows) >= 4
    assert len({r.version_id for r in rows}) == 10
    assert all(sorted(r.option_order) == [1, 2, 3, 4] for r in rows)
    assert a.deadline - a.started_at == datetime.timedelta(seconds=600)
    # Twenty attempts do not all see the questions, or the options, in one order.
    orders = set()
    for _ in range(20):
        b = taking.start_attempt(round_, register())
        orders.add(repr(list(AttemptQuestion.objects.filter(attempt=b).values_list("version_id", "option_order"))))
    assert len(orders) > 1


def test_starting_again_resumes_the_same_attempt_with_the_same_clock(round_, register):
    p = register()
    with freeze_time("2026-01-05 08:00:00") as clock:
        from django.utils import timezone

        round_.opens_at = timezone.now() - datetime.timedelta(hours=1)
        round_.closes_at = timezone.now() + datetime.timedelta(days=1)
        round_.save()
        a = taking.start_attempt(round_, p)
        clock.tick(240)
        b = taking.start_attempt(round_, p)
        assert b.pk == a.pk and b.deadline == a.deadline
        assert (b.deadline - timezone.now()).total_seconds() == 360


def test_deadline_submits_what_was_saved(round_, register):
    from django.utils import timezone

    p = register()
    with freeze_time("2026-01-05 08:00:00") as clock:
        round_.opens_at = timezone.now() - datetime.timedelta(hours=1)
        round_.closes_at = timezone.now() + datetime.timedelta(days=1)
        round_.save()
        a = taking.start_attempt(round_, p)
        answer_all(a, right=3)  # all ten answered, three right
        clock.tick(595)
        # The connection drops; nothing is sent until long after the deadline.
        clock.tick(3600)
        with pytest.raises(AttemptRefused) as exc:
            taking.save_answer(a.key, 1, [1], 999)
        assert codes(exc.value) == {"time_up"}
        a.refresh_from_db()
        assert a.status == AttemptStatus.SUBMITTED
        assert a.correct == 3
        # Submitted at the deadline, not when the server noticed.
        assert a.submitted_at == a.deadline and a.duration_ms == 600_000


def test_expire_attempts_submits_abandoned_attempts(round_, register):
    from django.utils import timezone

    a = taking.start_attempt(round_, register())
    answer_all(a, right=10)
    assert taking.expire_attempts(now=timezone.now()) == 0
    assert taking.expire_attempts(now=a.deadline + datetime.timedelta(seconds=10)) == 1
    a.refresh_from_db()
    assert (a.status, a.correct) == (AttemptStatus.SUBMITTED, 10)


def test_attempt_cap_is_enforced(round_, register):
    p = register()
    for _ in range(2):
        taking.submit_attempt(taking.start_attempt(round_, p).key)
    with pytest.raises(AttemptRefused) as exc:
        taking.start_attempt(round_, p)
    assert codes(exc.value) == {"cap_reached"}
    assert Attempt.objects.filter(participant=p).count() == 2


def test_round_not_open_is_refused(round_, register):
    from django.utils import timezone

    p = register()
    with pytest.raises(AttemptRefused) as exc:
        taking.start_attempt(round_, p, now=round_.closes_at + datetime.timedelta(seconds=1))
    assert codes(exc.value) == {"closed"}
    with pytest.raises(AttemptRefused) as exc:
        taking.start_attempt(round_, p, now=round_.opens_at - datetime.timedelta(seconds=1))
    assert codes(exc.value) == {"not_open"}
    assert not Attempt.objects.exists()
    assert timezone.now()


@pytest.fixture
def attempt(round_, register):
    a = taking.start_attempt(round_, register())
    taking.save_answer(a.key, 1, [AttemptQuestion.objects.get(attempt=a, position=1).option_order[0]], 5)
    return a


def state(a):
    return list(AttemptQuestion.objects.filter(attempt=a).values_list("position", "chosen", "seq"))


@pytest.mark.parametrize(
    ("position", "chosen", "seq", "code"),
    [
        (11, [1], 6, "bad_question"),  # not in the attempt
        (1, [9], 6, "bad_option"),  # a forged option id
        (1, ["x"], 6, "bad_option"),
        (1, "1", 6, "bad_option"),
        (1, [1, 2], 6, "bad_option"),  # two answers to a single-choice question
        (1, [2], 5, "stale"),  # a replayed save
        (1, [2], 3, "stale"),  # an older save arriving late
        (1, [2], 3_000_000_000, "bad_seq"),  # beyond the column: refused, not a database error
        (1, [2], True, "bad_seq"),
        (1, [2], 0, "bad_seq"),
        ("1", [2], 6, "bad_question"),
        (10**12, [2], 6, "bad_question"),
    ],
)
def test_bad_answers_are_refused_and_the_attempt_stays_intact(attempt, position, chosen, seq, code):
    before = state(attempt)
    with pytest.raises(AttemptRefused) as exc:
        taking.save_answer(attempt.key, position, chosen, seq)
    assert codes(exc.value) == {code}
    assert state(attempt) == before


def test_someone_elses_or_a_made_up_attempt_is_not_found(attempt):
    before = state(attempt)
    with pytest.raises(AttemptRefused) as exc:
        taking.save_answer(attempt.key[:-1] + ("A" if attempt.key[-1] != "A" else "B"), 1, [1], 9)
    assert codes(exc.value) == {"not_found"}
    assert state(attempt) == before


def test_after_submit_answers_no_longer_change(attempt):
    taking.submit_attempt(attempt.key)
    before = state(attempt)
    with pytest.raises(AttemptRefused) as exc:
        taking.save_answer(attempt.key, 2, [1], 50)
    assert codes(exc.value) == {"submitted"}
    assert state(attempt) == before


def test_double_submit_counts_once(attempt):
    first = taking.submit_attempt(attempt.key)
    second = taking.submit_attempt(attempt.key)
    assert first.submitted_at == second.submitted_at
    tally = UnitTally.objects.get(round=attempt.round, unit=attempt.unit)  # one submit, one shard row
    assert (tally.participants, tally.attempts) == (1, 1)


def test_editing_a_question_never_changes_a_started_attempt(attempt, world):
    aq = AttemptQuestion.objects.select_related("version__question").get(attempt=attempt, position=1)
    old = aq.version
    question = old.question
    setup.edit_question(question, actor=world.manager_C1, text="Câu hỏi đã sửa?", options=["X", "Y", "Z"], correct=[2])
    aq.refresh_from_db()
    assert aq.version_id == old.pk
    v = QuestionVersion.objects.get(pk=old.pk)
    assert (v.text, v.correct) == (old.text, old.correct)
    question.refresh_from_db()
    assert question.current.text == "Câu hỏi đã sửa?" and question.current.correct == [3]
    with pytest.raises(ValueError, match="immutable"):
        v.save()


def test_prediction_is_saved_with_its_own_sequence(attempt):
    taking.save_prediction(attempt.key, "1.250", 1)
    with pytest.raises(AttemptRefused):
        taking.save_prediction(attempt.key, "99", 1)
    with pytest.raises(AttemptRefused) as exc:
        taking.save_prediction(attempt.key, "nhiều", 2)
    assert codes(exc.value) == {"bad_prediction"}
    with pytest.raises(AttemptRefused) as exc:
        taking.save_prediction(attempt.key, "7", 3_000_000_000)
    assert codes(exc.value) == {"bad_seq"}
    attempt.refresh_from_db()
    assert attempt.prediction == 1250


def test_tallies_count_people_once_per_round_and_contest(round_, register, world):
    p, q = register(unit=world.B1), register(unit=world.B2)
    for person in (p, p, q):
        taking.submit_attempt(taking.start_attempt(round_, person).key)
    got = {}
    for t in UnitTally.objects.all():
        p, a = got.get((t.round_id, t.unit_id), (0, 0))
        got[(t.round_id, t.unit_id)] = (p + t.participants, a + t.attempts)
    assert got == {
        (round_.pk, world.B1.pk): (1, 2),
        (round_.pk, world.B2.pk): (1, 1),
        (None, world.B1.pk): (1, 0),
        (None, world.B2.pk): (1, 0),
    }


def stored_as_returned(returned: list[Attempt]) -> list[Attempt]:
    """The attempts as stored, once checked that the submits returned them as stored, graded as the key and
    taking.fingerprint say."""
    rows = {x.pk: x for x in Attempt.objects.filter(pk__in=[a.pk for a in returned])}
    for attempt in returned:
        stored = rows[attempt.pk]
        assert [getattr(attempt, f.attname) for f in Attempt._meta.concrete_fields] == [
            getattr(stored, f.attname) for f in Attempt._meta.concrete_fields
        ]
        answers = AttemptQuestion.objects.filter(attempt=stored).values_list("version_id", "chosen", "version__correct")
        assert stored.fingerprint == taking.fingerprint(sorted((v, sorted(chosen)) for v, chosen, _c in answers))
        assert stored.correct == sum(1 for _v, chosen, right in answers if chosen and sorted(chosen) == right)
    return [rows[a.pk] for a in returned]


def tally_totals(contest) -> dict:
    """{(unit code, per round?): (participants, attempts)}: each submit bumps a shard row picked at random, so the
    shards are added up."""
    totals: dict = {}
    for t in UnitTally.objects.select_related("unit").filter(contest=contest):
        key = (t.unit.code, t.round_id is not None)
        totals[key] = tuple(x + y for x, y in zip(totals.get(key, (0, 0)), (t.participants, t.attempts), strict=True))
    return totals


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database function (PostgreSQL)")
def test_a_batch_of_submits_records_what_submits_one_by_one_record(round_, register, world):
    """contests_submit_attempts (migration contests.0004) takes the submits of the moment together: each attempt
    is graded and recorded as if submitted alone; a key given twice counts once (the earlier time); an unknown
    key and an attempt already submitted give nothing (the caller answers those with the ORM)."""
    from doanso.contests.models import AttemptFlag

    ann, binh, chi = register(), register(unit=world.B2), register(unit=world.B2)
    a = taking.start_attempt(round_, ann)
    answer_all(a, right=6)
    b = taking.start_attempt(round_, binh)
    answer_all(b, right=10)
    c = taking.start_attempt(round_, chi)
    for aq in AttemptQuestion.objects.filter(attempt=c).select_related("version")[:3]:
        taking.save_answer(c.key, aq.position, aq.version.correct, 1)
    done = taking.submit_attempt(taking.start_attempt(round_, register()).key)
    late = c.deadline + datetime.timedelta(minutes=10)
    with connection.cursor() as cursor:
        got = taking._write_submits(
            cursor,
            [
                (a.key, a.started_at + datetime.timedelta(seconds=9)),
                (b.key, b.started_at + datetime.timedelta(seconds=125.4567)),
                (c.key, late),
                (a.key, a.started_at + datetime.timedelta(milliseconds=5250)),
                ("no-such-key", late),
                (done.key, late),
            ],
        )
    assert got[4] is None and got[5] is None
    assert got[0] is got[3]
    a, b, c = stored_as_returned(got[:3])
    assert [(x.status, x.correct, x.duration_ms, x.is_first) for x in (a, b, c)] == [
        ("submitted", 6, 5250, True),
        ("submitted", 10, 125456, True),
        ("submitted", 3, 600_000, True),
    ]
    assert c.submitted_at == c.deadline
    assert Participant.objects.get(pk=binh.pk).first_submitted_at == b.submitted_at
    assert tally_totals(round_.contest) == {
        ("B1", True): (2, 2),
        ("B1", False): (2, 0),
        ("B2", True): (2, 2),
        ("B2", False): (2, 0),
    }
    flags = AttemptFlag.objects.filter(attempt__in=[a, b, c])
    assert list(flags.values_list("attempt_id", "kind", "detail")) == [(a.pk, "too_fast", "10 câu trong 5.2 giây")]


@pytest.mark.parametrize("path", ["submit_attempt", "finalise_attempt"])
def test_both_ways_of_submitting_record_the_same(path, round_, register, world):
    """On PostgreSQL submit_attempt grades and records in one call of a database function (migration
    contests.0004); finalise_attempt is the ORM version (other databases, expiry). Both must leave the same rows."""
    from doanso.contests.models import AttemptFlag

    def submit(attempt, now):
        if path == "submit_attempt":
            return taking.submit_attempt(attempt.key, now=now)
        return taking.finalise_attempt(attempt, now=now)

    ann, binh = register(), register(unit=world.B2)
    # Ann's first attempt: 6 right, then one of them turned wrong by an extra option (a superset of the key is
    # not the key); submitted after 5.25 s, too fast for 10 questions.
    a = taking.start_attempt(round_, ann)
    answer_all(a, right=6)
    first = AttemptQuestion.objects.filter(attempt=a).order_by("position").first()
    wrong = next(o for o in first.option_order if o not in first.version.correct)
    AttemptQuestion.objects.filter(pk=first.pk).update(chosen=sorted([*first.version.correct, wrong]))
    a = submit(a, a.started_at + datetime.timedelta(milliseconds=5250))
    # Ann's second attempt: all right, 125.4567 s.
    b = taking.start_attempt(round_, ann)
    answer_all(b, right=10)
    b = submit(b, b.started_at + datetime.timedelta(seconds=125.4567))
    # Bình answers three questions and leaves: submitted at the deadline, whenever it is noticed.
    c = taking.start_attempt(round_, binh)
    for aq in AttemptQuestion.objects.filter(attempt=c).select_related("version")[:3]:
        taking.save_answer(c.key, aq.position, aq.version.correct, 1)
    c = submit(c, c.deadline + datetime.timedelta(minutes=10))

    a, b, c = stored_as_returned([a, b, c])
    assert [(x.status, x.correct, x.duration_ms, x.is_first) for x in (a, b, c)] == [
        ("submitted", 5, 5250, True),
        ("submitted", 10, 125456, False),
        ("submitted", 3, 600_000, True),
    ]
    assert c.submitted_at == c.deadline
    assert Participant.objects.get(pk=ann.pk).first_submitted_at == a.submitted_at
    assert tally_totals(round_.contest) == {
        ("B1", True): (1, 2),
        ("B1", False): (1, 0),
        ("B2", True): (1, 1),
        ("B2", False): (1, 0),
    }
    flags = list(AttemptFlag.objects.values_list("attempt_id", "kind", "detail", "status"))
    assert flags == [(a.pk, "too_fast", "10 câu trong 5.2 giây", "open")]
