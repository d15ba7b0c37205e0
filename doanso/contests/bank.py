"""Reading a question bank from the spreadsheet layout organisers already use:

    | STT | Câu hỏi | A | B | C | D | Đáp án | (Chủ đề) | (Mức độ) | (Giải thích) |

The file is read by the member import's reader (XLSX, XLS, ODS, CSV; damaged or protected files get a clear
message); the header row may sit below a title block. "Đáp án" holds the letter of the correct option, or
several letters ("A, C" or "AC") for a multiple-choice question. Every problem is reported at its row and
column, and nothing is written unless every row is valid.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from doanso.core.text import fold
from doanso.members.importing import ImportFileError, column_letter, read_sheet, shown

from .models import Difficulty
from .services.setup import MAX_OPTIONS, banked_question_keys, clean_question, question_key

LETTERS = "ABCDEFGH"[:MAX_OPTIONS]
HEADER_SCAN_ROWS = 20

_QUESTION = {"cau hoi", "noi dung cau hoi", "noi dung", "question", "cau"}
_ANSWER = {"dap an", "dap an dung", "answer", "correct", "dap an chon", "ket qua"}
_TOPIC = {"chu de", "linh vuc", "topic", "nhom cau hoi", "phan"}
_DIFFICULTY = {"muc do", "do kho", "difficulty", "cap do"}
_EXPLANATION = {"giai thich", "explanation", "huong dan", "can cu", "nguon"}
_DIFFICULTY_VALUES = {
    "de": Difficulty.EASY,
    "easy": Difficulty.EASY,
    "nhan biet": Difficulty.EASY,
    "1": Difficulty.EASY,
    "trung binh": Difficulty.MEDIUM,
    "medium": Difficulty.MEDIUM,
    "thong hieu": Difficulty.MEDIUM,
    "2": Difficulty.MEDIUM,
    "kho": Difficulty.HARD,
    "hard": Difficulty.HARD,
    "van dung": Difficulty.HARD,
    "3": Difficulty.HARD,
}


def _key(text) -> str:
    return re.sub(r"[^a-z0-9 ]+", " ", fold(shown(text))).strip()


def _option_letter(key: str) -> str | None:
    """ "A", "Phương án A", "Đáp án A", "PA A", "Lựa chọn A", "A." → "A"."""
    key = re.sub(r"\s+", " ", key)
    match = re.fullmatch(r"(?:phuong an|dap an|pa|lua chon|option|y)?\s*([a-h])", key)
    return match.group(1).upper() if match else None


@dataclass
class Layout:
    header_row: int
    question: int
    answer: int
    options: dict[str, int]  # letter → column index
    topic: int | None = None
    difficulty: int | None = None
    explanation: int | None = None
    data_from: int = 0


def detect_layout(rows) -> Layout:
    for i, (number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = [_key(c) for c in cells]
        found: dict = {"options": {}}
        for index, k in enumerate(keys):
            if not k:
                continue
            letter = _option_letter(k)
            if letter and letter not in found["options"]:
                found["options"][letter] = index
            elif k in _QUESTION and "question" not in found:
                found["question"] = index
            elif k in _ANSWER and "answer" not in found:
                found["answer"] = index
            elif k in _TOPIC:
                found.setdefault("topic", index)
            elif k in _DIFFICULTY:
                found.setdefault("difficulty", index)
            elif k in _EXPLANATION:
                found.setdefault("explanation", index)
        if "question" in found and "answer" in found and {"A", "B"} <= found["options"].keys():
            return Layout(header_row=number, data_from=i + 1, **found)
    raise ImportFileError(
        _("No header row found: the first rows need the columns “Câu hỏi”, “A”, “B” (and more options) and “Đáp án”.")
    )


@dataclass
class BankPlan:
    rows: list[dict] = field(default_factory=list)  # checked rows, ready for services.setup.import_questions
    errors: list[dict] = field(default_factory=list)  # {"row", "column", "value", "message"}
    read: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _option_cell(layout, letters: list[str], options: list[str]) -> tuple[int | None, str]:
    """The cell an options error is about: the second of two options with the same text, or else the first."""
    seen: set[str] = set()
    for letter, text in zip(letters, options, strict=False):
        folded = text.casefold()
        if folded and folded in seen:
            return layout.options[letter], text
        seen.add(folded)
    return (layout.options[letters[0]], "") if letters else (None, "")


def _cell(cells, index):
    return cells[index] if index is not None and index < len(cells) else None


def plan_import(data: bytes, filename: str = "", contest=None) -> BankPlan:
    """Read and check every row; raises ImportFileError for a file that cannot be read at all. With ``contest``,
    a question already in its bank (active) is a duplicate too."""
    sheet = read_sheet(data, filename)
    layout = detect_layout(sheet.rows)
    plan = BankPlan()
    letters = [letter for letter in LETTERS if letter in layout.options]
    seen: dict[str, int] = {}
    banked = banked_question_keys(contest) if contest is not None else set()
    for number, cells in sheet.rows[layout.data_from :]:
        values = {
            name: shown(_cell(cells, index))
            for name, index in (
                ("question", layout.question),
                ("answer", layout.answer),
                ("topic", layout.topic),
                ("difficulty", layout.difficulty),
                ("explanation", layout.explanation),
            )
        }
        options = [shown(_cell(cells, layout.options[letter])) for letter in letters]
        if not values["question"] and not values["answer"] and not any(options):
            continue  # blank line
        plan.read += 1

        def error(column_index, value, message, row=number):
            plan.errors.append(
                {
                    "row": row,
                    "column": column_letter(column_index) if column_index is not None else "",
                    "value": value,
                    "message": message,
                }
            )

        answer = re.sub(r"[\s,;.+/&]|va|and", "", fold(values["answer"])).upper()
        if not answer:
            error(layout.answer, values["answer"], _("The correct answer is missing (a letter such as A)."))
            continue
        if any(ch not in letters for ch in answer) or len(set(answer)) != len(answer):
            error(
                layout.answer,
                values["answer"],
                _("“{value}” is not an option letter; write one of {letters}, or several such as “A, C”.").format(
                    value=values["answer"], letters=", ".join(letters)
                ),
            )
            continue
        correct = [letters.index(ch) for ch in answer]
        if any(not options[i] for i in correct):
            error(layout.answer, values["answer"], _("The correct answer points at an empty option."))
            continue
        # Options used are those up to the last non-empty one (a question may have only A–C).
        difficulty = Difficulty.MEDIUM
        if values["difficulty"]:
            difficulty = _DIFFICULTY_VALUES.get(_key(values["difficulty"]))
            if difficulty is None:
                error(layout.difficulty, values["difficulty"], _("The difficulty is “Dễ”, “Trung bình” or “Khó”."))
                continue
        try:
            content = clean_question(values["question"], options, correct)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                column, value = {"text": (layout.question, values["question"]), "correct": (layout.answer, "")}.get(
                    key, _option_cell(layout, letters, options)
                )
                for message in messages:
                    error(column, value, message)
            continue
        dupe = question_key(content["text"])
        if dupe in seen:
            error(
                layout.question,
                values["question"],
                _("The same question as row {row}.").format(row=seen[dupe]),
            )
            continue
        if dupe in banked:
            error(layout.question, values["question"], _("The same question is already in the bank."))
            continue
        seen[dupe] = number
        topic = values["topic"]
        if len(topic) > 100:
            error(
                layout.topic,
                topic,
                _("At most {limit} characters ({count} given).").format(limit=100, count=len(topic)),
            )
            continue
        plan.by_topic[topic] = plan.by_topic.get(topic, 0) + 1
        plan.rows.append(
            {
                "text": content["text"],
                "options": [o["text"] for o in content["options"]],
                "correct": [i - 1 for i in content["correct"]],
                "kind": content["kind"],
                "topic": topic,
                "difficulty": difficulty,
                "explanation": values["explanation"],
            }
        )
    if not plan.read:
        plan.errors.append({"row": "", "column": "", "value": "", "message": _("The file has no questions.")})
    return plan
