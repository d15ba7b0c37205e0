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
