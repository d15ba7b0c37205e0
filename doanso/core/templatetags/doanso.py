from django import template

from doanso.accounts.phones import display_phone
from doanso.core.text import duration_text

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    """+84905123456 → 0905 123 456, the way Vietnamese people write and read numbers."""
    return display_phone(value) or ""


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template, or None."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def duration(ms: int | None) -> str:
    """125456 (milliseconds) → 2:05.456."""
    return duration_text(ms)
