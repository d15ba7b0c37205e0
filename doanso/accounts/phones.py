import phonenumbers


def normalise_phone(value: str | None) -> str | None:
    """E.164 form of a Vietnamese (or international) phone number, or None when it is not a valid number.

    Accepts "0905 123 456", "0905.123.456", "+84 905 123 456" and "84905123456".
    """
    if not value:
        return None
    raw = value.strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not raw.startswith("+") and digits.startswith("84") and len(digits) == 11:
        raw = "+" + digits
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    if not e164:
        return ""
    number = phonenumbers.parse(e164, "VN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
