import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from doanso.accounts.roles import VIEW_UNITS

from . import selectors
from .models import Unit

router = Router(tags=["units"])


class UnitOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    org: str
    parent_id: int | None
    parent_code: str | None = Field(None, alias="parent.code")
    depth: int
    area_type: str
    division_code: str | None = Field(None, alias="division.code")
    active_from: datetime.date
    active_to: datetime.date | None
    successor_id: int | None


class TreeNodeOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    children: list["TreeNodeOut"] = []


class VersionOut(Schema):
    valid_from: datetime.date
    valid_to: datetime.date | None
    change: str
    code: str
    name: str
    short_name: str
    kind: str
    parent_id: int | None
    related_unit_id: int | None
    note: str


def scoped(request):
    return Unit.objects.restrict(request.user, VIEW_UNITS).select_related("parent", "division")


@router.get("/", response=list[UnitOut], summary="List units")
@paginate(LimitOffsetPagination)
def list_units(request, parent: str | None = None, q: str | None = None, include_ended: bool = False):
    """Units in the caller's scope. ``parent``: a unit code, to list only its direct children."""
    qs = scoped(request)
    if not include_ended:
        qs = qs.filter(active_to__isnull=True)
    if parent:
        qs = qs.filter(parent__code__iexact=parent)
    if q:
        qs = qs.filter(pk__in=[u.pk for u in selectors.search(request.user, q, limit=200, include_ended=include_ended)])
    return qs.order_by("path")


@router.get("/tree", response=list[TreeNodeOut], summary="The unit tree")
def unit_tree(request, on: datetime.date | None = None):
    """The whole tree in the caller's scope, as nested nodes; ``on`` gives the tree as it stood that day."""
    from django.utils import timezone

    nodes = selectors.tree_as_of(request.user, on or timezone.localdate())

    def convert(node):
        return {
            "id": node.unit_id,
            "code": node.code,
            "name": node.name,
            "kind": node.kind,
            "children": [convert(c) for c in node.children],
        }

    return [convert(n) for n in nodes]


@router.get("/{code}", response=UnitOut, summary="One unit")
def unit_detail(request, code: str):
    return get_object_or_404(scoped(request), code__iexact=code)


@router.get("/{code}/history", response=list[VersionOut], summary="History of a unit")
def unit_history(request, code: str):
    unit = get_object_or_404(scoped(request), code__iexact=code)
    return list(selectors.history(unit))
