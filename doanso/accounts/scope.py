"""The one place where a user's rights become a queryset filter (NetBox's ``restrict``; pretix's scopes).

Every unit-owned model's queryset has ``restrict(user, action)``; out-of-scope objects simply do not exist for
the caller, so views answer 404 for "missing" and "not allowed" alike.
"""

from django.db.models import Q

from .roles import ROLES

NOTHING = Q(pk__in=[])


def allowed_paths(user, action: str) -> list[str] | None:
    """Paths of the subtrees where ``user`` may do ``action``; None means everywhere."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    paths = sorted({path for role, path, _unit in user.assignments() if action in ROLES[role].actions})
    # Drop paths already covered by an ancestor path, keeping the filter short.
    minimal: list[str] = []
    for path in paths:
        if not any(path.startswith(p) for p in minimal):
            minimal.append(path)
    return minimal


def scope_q(user, action: str, unit_lookup: str = "") -> Q:
    """A filter on the unit reached by ``unit_lookup`` ("" for Unit itself, "unit" for a unit FK)."""
    paths = allowed_paths(user, action)
    if paths is None:
        return Q()
    if not paths:
        return NOTHING
    field = f"{unit_lookup}__path__startswith" if unit_lookup else "path__startswith"
    q = Q()
    for path in paths:
        q |= Q(**{field: path})
    return q


def can(user, action: str, unit) -> bool:
    """Whether ``user`` may do ``action`` at ``unit`` (which covers all descendants of an assigned unit)."""
    paths = allowed_paths(user, action)
    if paths is None:
        return True
    return unit is not None and any(unit.path.startswith(p) for p in paths)


def can_anywhere(user, action: str) -> bool:
    paths = allowed_paths(user, action)
    return paths is None or bool(paths)
