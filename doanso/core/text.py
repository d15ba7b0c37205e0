"""Search folding: one function that every write path uses to fill search columns.

``fold("Nguyễn Đức") == "nguyen duc"`` whether the input arrives in NFC (typed) or NFD (pasted from some
Excel exports and macOS), so that a search typed without diacritics finds every spelling.
"""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own, not d plus a combining mark, so NFD leaves them alone.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def fold(value: str | None) -> str:
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFD", value.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def nfc(value: str | None) -> str:
    """Normalise user text to NFC with single spaces, the form every stored name takes."""
    if not value:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


# Vietnamese alphabetical order: a ă â b c d đ e ê … o ô ơ … u ư …; tones order ngang, huyền, hỏi, ngã, sắc, nặng.
_ALPHABET = [
    *("a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n"),
    *("o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z"),
]
_LETTER_CODE = {letter: chr(0x41 + i // 26) + chr(0x41 + i % 26) for i, letter in enumerate(_ALPHABET)}
_TONES = {"\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0301": "5", "\u0323": "6"}
_SHAPES = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: they make new letters (ă, â, ơ, ư…)


def vn_sort_key(value: str | None) -> str:
    """A key that sorts Vietnamese text in dictionary order: Dũng before Đức, An before Ánh before Âu.

    Built only of upper-case ASCII letters and digits, so any database collation (C, or a glibc locale that
    ignores spaces and punctuation) orders the keys the same way. Words are separated by "0"; the tones of
    every letter follow after "00" as the secondary level.
    """
    if not value:
        return ""
    words, tones = [], []
    for word in nfc(value).lower().split():
        letters = []
        for ch in word:
            decomposed = unicodedata.normalize("NFD", ch)
            base, marks = decomposed[0], decomposed[1:]
            shaped = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _SHAPES))
            code = _LETTER_CODE.get(shaped) or _LETTER_CODE.get(base)
            if code is None:
                if not ch.isalnum():
                    continue
                code = "9" + ch.upper() if ch.isdigit() else "ZZ"
            letters.append(code)
            tones.append(next((_TONES[m] for m in marks if m in _TONES), "1"))
        words.append("".join(letters))
    return "0".join(words) + "00" + "".join(tones)


def duration_text(ms: int | None) -> str:
    """Milliseconds as minutes:seconds.milliseconds (125456 → "2:05.456"), how contest results show a duration."""
    if ms is None:
        return ""
    return f"{ms // 60000}:{ms % 60000 // 1000:02d}.{ms % 1000:03d}"
