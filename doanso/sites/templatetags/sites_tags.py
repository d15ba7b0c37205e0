from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("sites/partials/unit_adoptions.html")
def unit_adoptions(unit):
    """The sites and markers a unit adopts, with its latest activities: a panel of the unit page (shown only when
    there is something to show, so units without adoptions see no empty section)."""
    return {"adoptions": selectors.unit_adoptions(unit), "unit": unit}
