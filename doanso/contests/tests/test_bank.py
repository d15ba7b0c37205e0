"""The question bank: the organisers' Excel layout, validation at the row and column, all or nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from doanso.contests.bank import plan_import
from doanso.contests.models import Question
from doanso.contests.services import setup
from doanso.members.importing import ImportFileError

from .support import xlsx

pytestmark = pytest.mark.django_db

HEADER = ["STT", "Câu hỏi", "A", "B", "C", "D", "Đáp án", "Chủ đề", "Mức độ", "Giải thích"]


def test_reads_the_layout_below_a_title_block_with_single_and_multiple_answers():
    data = xlsx(
        [
            ["BỘ CÂU HỎI CUỘC THI TÌM HIỂU 95 NĂM NGÀY THÀNH LẬP ĐOÀN"],
            [],
            HEADER,
            [
                1,
                "Đoàn TNCS Hồ Chí Minh được thành lập năm nào?",
                "1930",
                "1931",
                "1941",
                "1945",
                "B",
                "Lịch sử",
                "Dễ",
                "26/3/1931",
            ],
            [
                2,
                "Những tổ chức nào do Đoàn phụ trách?",
                "Hội LHTN Việt Nam",
                "Đội TNTP Hồ Chí Minh",
                "Công đoàn",
                None,
                "A, B",
                "Tổ chức",
                "Khó",
                "",
            ],
            [],
            [3, "Câu có ba phương án?", "Một", "Hai", "Ba", None, "c", "", "", ""],
        ]
    )
    plan = plan_import(data, "cau-hoi.xlsx")
    assert plan.errors == []
    assert [
        (r["text"][:20], r["options"], r["correct"], r["kind"], r["topic"], r["difficulty"]) for r in plan.rows
    ] == [
        ("Đoàn TNCS Hồ Chí Min", ["1930", "1931", "1941", "1945"], [1], "single", "Lịch sử", "easy"),
        (
            "Những tổ chức nào do",
            ["Hội LHTN Việt Nam", "Đội TNTP Hồ Chí Minh", "Công đoàn"],
            [0, 1],
            "multiple",
            "Tổ chức",
            "hard",
        ),
        ("Câu có ba phương án?", ["Một", "Hai", "Ba"], [2], "single", "", "medium"),
    ]


def test_errors_name_the_row_and_column():
    data = xlsx(
        [
            HEADER,
            [1, "Câu một?", "x", "y", "", "", "E", "", "", ""],
            [2, "Câu hai?", "x", "y", "", "", "C", "", "", ""],
            [3, "", "x", "y", "", "", "A", "", "", ""],
            [4, "Câu bốn?", "x", "x", "", "", "A", "", "", ""],
            [5, "Câu năm?", "x", "y", "", "", "", "", "", ""],
            [6, "Câu sáu?", "x", "y", "", "", "A", "", "Siêu khó", ""],
            [7, "Câu một?", "x", "y", "", "", "A", "", "", ""],
            [8, "Câu một?", "x", "y", "", "", "B", "", "", ""],
        ]
    )
    plan = plan_import(data)
    assert [(e["row"], e["column"]) for e in plan.errors] == [
        (2, "G"),
        (3, "G"),
        (4, "B"),
        (5, "D"),  # the second of the two options with the same text
        (6, "G"),
        (7, "I"),
        (9, "B"),
    ]
    assert plan.errors[0]["message"].startswith("“E”")
    assert plan.errors[3]["value"] == "x"
    assert [r["text"] for r in plan.rows] == ["Câu một?"] and not plan.ok


def test_unreadable_files_and_missing_headers():
    with pytest.raises(ImportFileError):
        plan_import(b"%PDF-1.4 ...", "x.pdf")
    with pytest.raises(ImportFileError):
        plan_import(xlsx([["Họ và tên", "Ngày sinh"], ["An", "1/1/2000"]]))


def test_import_is_all_or_nothing_and_audited(contest, world):
    from doanso.core.models import AuditRecord

    before = Question.objects.count()
    plan = plan_import(xlsx([HEADER, [1, "Câu mới?", "x", "y", "z", "", "C", "Mới", "", ""]]))
    setup.import_questions(contest, plan.rows, actor=world.manager_C1, filename="a.xlsx")
    assert Question.objects.count() == before + 1
    assert AuditRecord.objects.filter(action="contests.import_questions").count() == 1
    bad = [*plan.rows, {**plan.rows[0], "text": "Khác?", "options": ["a"]}]
    with pytest.raises(ValidationError):
        setup.import_questions(contest, bad, actor=world.manager_C1)
    assert Question.objects.count() == before + 1


def test_the_organisers_of_another_unit_cannot_write(contest, world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        setup.create_question(contest, actor=world.manager_C2, text="?", options=["a", "b"], correct=[0])
    with pytest.raises(PermissionDenied):
        setup.create_contest(actor=world.manager_C2, organiser=world.C1, title="X")


def test_a_question_already_in_the_bank_or_a_near_copy_is_a_duplicate(contest, world):
    # Found by a test pass: importing the same file twice doubled the bank, and a copy differing in case,
    # spacing or punctuation passed even within one file.
    data = xlsx(
        [
            HEADER,
            [1, "  câu HỎI số 1 ? ", "x", "y", "", "", "A", "", "", ""],  # in the bank as "Câu hỏi số 1?"
            [2, "Câu mới về Đoàn?", "x", "y", "", "", "A", "", "", ""],
            [3, "Câu mới  về đoàn", "x", "y", "", "", "B", "", "", ""],
            [4, "Câu có chủ đề dài?", "x", "y", "", "", "A", "d" * 101, "", ""],
        ]
    )
    with translation.override("en"):
        plan = plan_import(data, contest=contest)
    assert [(e["row"], e["column"], e["message"]) for e in plan.errors] == [
        (2, "B", "The same question is already in the bank."),
        (4, "B", "The same question as row 3."),
        (5, "H", "At most 100 characters (101 given)."),
    ]
    with pytest.raises(ValidationError) as info:
        setup.create_question(contest, actor=world.manager_C1, text="CÂU HỎI SỐ 1", options=["a", "b"], correct=[0])
    assert "text" in info.value.message_dict
