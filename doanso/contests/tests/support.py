"""Shared fixtures of the contests tests: a published public contest of commune C1 with a bank of 30 questions
in three topics and an open round of 10 questions, 10 minutes, 2 attempts."""

import datetime
import io

import pytest
from django.utils import timezone

from doanso.contests.models import Audience, PredictionKind
from doanso.contests.services import setup


def make_bank(contest, actor, n=30, topics=("Lịch sử Đoàn", "Pháp luật", "Đà Nẵng")):
    questions = []
    for i in range(n):
        questions.append(
            setup.create_question(
                contest,
                actor=actor,
                text=f"Câu hỏi số {i + 1}?",
                options=[f"Phương án {c} của câu {i + 1}" for c in "ABCD"],
                correct=[i % 4],
                topic=topics[i % len(topics)],
            )
        )
    return questions


@pytest.fixture
def contest(world):
    c = setup.create_contest(
        actor=world.manager_C1,
        organiser=world.C1,
        title="Tìm hiểu lịch sử Đoàn TNCS Hồ Chí Minh",
        rules="Mỗi tuần một đợt.",
        audience=Audience.PUBLIC,
        is_published=True,
    )
    make_bank(c, world.manager_C1)
    return c


@pytest.fixture
def round_(contest, world):
    now = timezone.now()
    return setup.create_round(
        contest,
        actor=world.manager_C1,
        opens_at=now - datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=6),
        question_count=10,
        topic_quotas={"Lịch sử Đoàn": 4},
        time_limit=600,
        attempt_cap=2,
        prediction_kind=PredictionKind.PARTICIPANTS,
        prediction_text="Có bao nhiêu người tham gia tuần này?",
        prizes={"first": 1, "second": 1, "third": 2, "consolation": 3},
    )


@pytest.fixture
def register(contest, world):
    from doanso.contests.services.taking import register_participant

    counter = iter(range(10_000))

    def make(name=None, phone=None, unit=None, **extra):
        n = next(counter)
        return register_participant(
            contest,
            full_name=name or f"Nguyễn Văn Số{n}",
            date_of_birth=datetime.date(2000, 1, 1 + n % 28),
            phone=phone or f"0905{n:06d}",
            unit=unit or world.B1,
            **extra,
        )

    return make


def answer_all(attempt, right: int, *, seq_start=1):
    """Answer the attempt's questions: the first ``right`` correctly, the rest wrongly."""
    from doanso.contests.models import AttemptQuestion
    from doanso.contests.services.taking import save_answer

    for i, aq in enumerate(AttemptQuestion.objects.filter(attempt=attempt).select_related("version")):
        correct = aq.version.correct
        pick = correct if i < right else [next(o for o in aq.option_order if o not in correct)]
        save_answer(attempt.key, aq.position, pick, seq_start + i)


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
