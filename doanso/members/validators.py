"""Checks of the member record that forms, imports and the API share. Messages are shown at the field."""

import datetime
import re
from decimal import Decimal

from django.utils.translation import gettext as _

from .reference import CITIZEN_ID_PROVINCES

_WHOLE_WITH_DECIMALS = re.compile(r"[0-9]{9,12}\.0+")
_SCIENTIFIC = re.compile(r"([0-9])(?:[.,]([0-9]+))?[eE]\+([0-9]{1,2})")


def scientific_digits_lost(text: str) -> bool | None:
    """For a number in scientific notation as Excel shows a long one ("4.82E+10"): whether digits were lost on
    the way (the mantissa has fewer digits than the number); None when ``text`` is not such a number."""
    match = _SCIENTIFIC.fullmatch(text.strip())
    if match is None:
        return None
    return 1 + len(match.group(2) or "") < int(match.group(3)) + 1


def normalise_citizen_id(value) -> str:
    """Digits of a citizen ID as typed or as Excel kept it: 12 digits, leading zeros restored.

    Excel turns "048203001234" into the number 48203001234 (11 digits), sometimes shown as 4.8203E+10.
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        text = f"{value:.0f}"
    else:
        # A leading apostrophe is how Excel is told "text": typed into a CSV it stays.
        raw = str(value).strip().lstrip("'")
        if raw.isdigit():
            text = raw  # nearly every ID of a file: nothing more to look at
        elif _WHOLE_WITH_DECIMALS.fullmatch(raw):
            text = raw.split(".")[0]  # "48203001234.0": a number written out by a program
        elif "e" in raw or "E" in raw:
            # All the digits in the mantissa: restored; otherwise they are lost, and the checks report the ID.
            exact = scientific_digits_lost(raw) is False
            text = f"{Decimal(raw.replace(',', '.')):.0f}" if exact else raw
        else:
            text = raw.replace(" ", "").replace(".", "").replace("-", "")
    if text.isdigit() and 9 <= len(text) < 12:
        text = text.zfill(12)
    return text


def citizen_id_errors(citizen_id: str, date_of_birth: datetime.date | None, sex: str | None) -> list[str]:
    """What is wrong with a 12-digit citizen ID (căn cước công dân), checked against the birth date and sex.

    Digits 1–3: province of birth registration; digit 4: century and sex (0/1 = 1900s male/female,
    2/3 = 2000s, 4/5 = 2100s); digits 5–6: the last two digits of the year of birth.
    """
    if not citizen_id:
        return []
    if not (citizen_id.isascii() and citizen_id.isdigit()) or len(citizen_id) != 12:
        return [_("A citizen ID has exactly 12 digits.")]
    errors = []
    if int(citizen_id[:3]) not in CITIZEN_ID_PROVINCES:
        errors.append(
            _("The first three digits ({code}) are not a province code of a citizen ID.").format(code=citizen_id[:3])
        )
    digit = int(citizen_id[3])
    if digit > 5:
        errors.append(_("The fourth digit ({digit}) must be 0 to 5 (century and sex).").format(digit=digit))
        return errors
    if date_of_birth:
        century = 1900 + 100 * (digit // 2)
        if not century <= date_of_birth.year < century + 100:
            errors.append(
                _("The fourth digit ({digit}) says born in the {start}s, but the date of birth is {date}.").format(
                    digit=digit, start=century, date=date_of_birth.strftime("%d/%m/%Y")
                )
            )
        elif int(citizen_id[4:6]) != date_of_birth.year % 100:
            errors.append(
                _("Digits 5–6 ({yy}) must be the year of birth ({year}).").format(
                    yy=citizen_id[4:6], year=date_of_birth.year
                )
            )
    if sex in ("male", "female"):
        expected = "female" if digit % 2 else "male"
        if expected != sex:
            errors.append(
                _("The fourth digit ({digit}) is for a woman, but the sex is male.").format(digit=digit)
                if expected == "female"
                else _("The fourth digit ({digit}) is for a man, but the sex is female.").format(digit=digit)
            )
    return errors


def age_on(date_of_birth: datetime.date, on: datetime.date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def admission_age_errors(date_of_birth: datetime.date, on: datetime.date) -> list[str]:
    """Admission needs an age of at least 15 years and 1 day and at most 30 on the day of consideration."""
    from django.conf import settings

    minimum = settings.DOANSO_RULES["admission_min_age"]
    maximum = settings.DOANSO_RULES["admission_max_age"]
    age = age_on(date_of_birth, on)
    fifteenth = (
        date_of_birth.replace(year=date_of_birth.year + minimum)
        if not (date_of_birth.month == 2 and date_of_birth.day == 29)
        else datetime.date(date_of_birth.year + minimum, 3, 1)
    )
    if on <= fifteenth:
        return [
            _("On {date} the person is {age}: admission needs at least {min} years and one day.").format(
                date=on.strftime("%d/%m/%Y"), age=age, min=minimum
            )
        ]
    if age > maximum:
        return [
            _("On {date} the person is {age}: admission is only up to {max}.").format(
                date=on.strftime("%d/%m/%Y"), age=age, max=maximum
            )
        ]
    return []
