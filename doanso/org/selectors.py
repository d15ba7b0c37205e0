"""Reads of the unit tree, always through the caller's scope."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q

from doanso.accounts.roles import VIEW_UNITS
from doanso.accounts.scope import allowed_paths
from doanso.core.text import fold

from .models import Unit, UnitVersion


def with_child_counts(qs):
    return qs.annotate(
        active_children=Count("children", filter=Q(children__active_to__isnull=True), distinct=True),
    )


def tree_roots(user, action: str = VIEW_UNITS) -> list[Unit]:
    """The highest units the user may see: the province for an administrator, assigned units otherwise."""
    paths = allowed_paths(user, action)
    if paths is None:
        qs = Unit.objects.filter(parent__isnull=True)
    elif not paths:
        return []
    else:
        qs = Unit.objects.filter(path__in=paths)
    return list(with_child_counts(qs.select_related("division")).order_by("search_name"))


def children(unit: Unit, include_ended: bool = False) -> list[Unit]:
    qs = Unit.objects.filter(parent=unit)
    if not include_ended:
        qs = qs.filter(active_to__isnull=True)
    return list(with_child_counts(qs.select_related("division")).order_by("kind", "search_name"))


def search(user, query: str, limit: int = 30, include_ended: bool = False):
    """Units whose name, short name or code contains every word of ``query``, ignoring case and diacritics."""
    words = fold(query).split()
    qs = Unit.objects.restrict(user, VIEW_UNITS)
    if not include_ended:
        qs = qs.filter(active_to__isnull=True)
    for word in words[:6]:
        qs = qs.filter(search_name__contains=word)
    return qs.select_related("parent").order_by("depth", "search_name")[:limit]


@dataclass
class HistoricNode:
    unit_id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    children: list["HistoricNode"] = field(default_factory=list)

    def get_kind_display(self) -> str:
        from .models import UnitKind

        return UnitKind(self.kind).label


def tree_as_of(user, on: datetime.date) -> list[HistoricNode]:
    """The tree as it stood on ``on``: names and parents of that day, for the units now in the user's scope.

    Two queries whatever the size: the versions valid on that day, and the scope.
    """
    versions = UnitVersion.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=on),
        valid_from__lte=on,
        unit__in=Unit.objects.restrict(user, VIEW_UNITS).values("pk"),
    ).values_list("unit_id", "code", "name", "kind", "parent_id")
    nodes = {row[0]: HistoricNode(*row) for row in versions}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.kind, fold(n.name)))
    roots.sort(key=lambda n: fold(n.name))
    return roots


def history(unit: Unit):
    return unit.versions.select_related("parent", "related_unit").order_by("valid_from", "id")


def has_children_subquery():
    return Exists(Unit.objects.filter(parent=OuterRef("pk"), active_to__isnull=True))
