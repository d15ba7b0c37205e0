"""Strings of the libraries we use that their Vietnamese catalogs lack. They are listed here so that
makemessages keeps them in ours (locale/vi), which Django reads before the libraries' own catalogs."""

from django.utils.translation import gettext_noop

LIBRARY_STRINGS = [
    # Django 6.1's empty choice of a select box, shown on every optional choice without its own blank label.
    gettext_noop("- Select an option -"),
    # Django's refusal of a NUL character in a form field (ProhibitNullCharactersValidator).
    gettext_noop("Null characters are not allowed."),
]
