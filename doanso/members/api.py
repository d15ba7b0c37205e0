"""Members over the API: list and search with the filters of the web list, and one record. Protected fields
are masked exactly as in the web list; there is no unmasking over the API."""

import datetime

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from doanso.accounts.roles import VIEW_MEMBERS
from doanso.org.models import Unit

from . import selectors
from .models import Member
from .privacy import mask_citizen_id, mask_phone

router = Router(tags=["members"])


class MemberOut(Schema):
    id: int
    kind: str
    full_name: str
    family_name: str
    middle_name: str
    given_name: str
    date_of_birth: datetime.date
    sex: str
    ethnicity: str
    citizen_id_masked: str
    phone_masked: str
    unit_code: str
    status: str
    joined_on: datetime.date | None
    card_number: str | None
    is_sample: bool

    @staticmethod
    def resolve_citizen_id_masked(obj):
        return mask_citizen_id(obj.citizen_id)

    @staticmethod
    def resolve_phone_masked(obj):
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_unit_code(obj):
        return obj.unit.code


class MemberFilters(Schema):
    q: str = ""
    unit: str | None = None
    status: str = ""
    sex: str = ""
    kind: str = ""
    ethnicity: str = ""
    party: str = ""
    occupation: str = ""
    age_min: int | None = None
    age_max: int | None = None
    rating: str = ""
    rating_year: int | None = None


@router.get("/", response=list[MemberOut], summary="List and search members")
@paginate(LimitOffsetPagination)
def list_members(request, filters: Query[MemberFilters]):
    """Members in the caller's scope, sorted by given name the Vietnamese way. ``q`` matches names (accents
    ignored), citizen IDs, phones and card numbers; ``unit`` is a unit code (its whole subtree);
    ``status=all`` includes graduated, struck-off and other former members."""
    criteria = filters.dict()
    if criteria["unit"]:
        criteria["unit"] = get_object_or_404(
            Unit.objects.restrict(request.user, VIEW_MEMBERS), code__iexact=criteria["unit"]
        )
    criteria = {k: v for k, v in criteria.items() if v not in (None, "")}
    return selectors.search(request.user, **criteria).select_related("unit").order_by("sort_name", "id")


@router.get("/{int:member_id}", response=MemberOut, summary="One member")
def member_detail(request, member_id: int):
    return get_object_or_404(Member.objects.restrict(request.user, VIEW_MEMBERS).select_related("unit"), pk=member_id)
