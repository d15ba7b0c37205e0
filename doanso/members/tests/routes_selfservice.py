"""Permission matrix of the self-service routes: cards, the member's own pages, corrections and campaigns.

The objects these routes need are made on first use and kept on the matrix world (a member of B1 under C1, a
campaign launched at C1, a correction request by a member of B1), so that the shared fixture needs nothing
from this module. The personas are cadres without a member record: the member-only pages answer them 404, and
the members' own access is tested in test_selfservice.py and test_card.py.
"""

import datetime

from django.utils import timezone

from doanso.core.tests.matrix import LOGGED_IN, LOGIN, Route, same

# Cadres whose subtree holds the member's unit (B1 under C1) see it; everyone else gets a 404.
IN_SCOPE = (LOGIN, 404, 404, 200, 200)
# Pages for cadres with a members right somewhere: each sees only their own subtree's entries.
CADRES = (LOGIN, 404, 200, 200, 200)
# Pages of the member's own record: no persona of the matrix has one.
OWN_MEMBER = (LOGIN, 404, 404, 404, 404)


def member(w):
    if not hasattr(w, "ss_member"):
        from .factories import MemberFactory

        w.ss_member = MemberFactory(unit=w.B1, email="doanvien@example.vn")
    return w.ss_member


def campaign(w):
    if not hasattr(w, "ss_campaign"):
        from doanso.members.services.selfservice import launch_campaign

        today = timezone.localdate()
        w.ss_campaign = launch_campaign(
            actor=w.manager_C1,
            unit=w.C1,
            title="Rà soát dữ liệu 2026",
            starts_on=today,
            deadline=today + datetime.timedelta(days=14),
        )
    return w.ss_campaign


def correction(w):
    if not hasattr(w, "ss_correction"):
        from doanso.members.models import CorrectionRequest

        w.ss_correction = CorrectionRequest.objects.create(
            member=member(w), changes={"other_names": {"old": "", "new": "Bé Na"}}
        )
    return w.ss_correction


def card_token(w):
    from doanso.members.card_views import card_token as make

    return make(member(w))


MEMBER = lambda w: {"pk": member(w).pk}  # noqa: E731
CAMPAIGN = lambda w: {"pk": campaign(w).pk}  # noqa: E731
CORRECTION = lambda w: {"pk": correction(w).pk}  # noqa: E731

ROUTES = {
    "members:card": Route(expect=IN_SCOPE, kwargs=MEMBER),
    "members:card_pdf": Route(expect=IN_SCOPE, kwargs=MEMBER),
    # Public: anyone holding a card's QR code sees the name, the unit and whether the membership is valid.
    "members:card_verify": Route(expect=same(200), kwargs=lambda w: {"token": card_token(w)}),
    "members:member_invite": Route(expect=IN_SCOPE, kwargs=MEMBER),
    # Any logged-in user gets their page; a cadre without a member record reads that they have none.
    "members:my_home": LOGGED_IN,
    "members:correction_request": Route(expect=OWN_MEMBER),
    "members:confirm_data": Route(expect=OWN_MEMBER, kwargs=CAMPAIGN, method="post"),
    "members:correction_inbox": Route(expect=CADRES),
    "members:correction_detail": Route(expect=IN_SCOPE, kwargs=CORRECTION),
    "members:correction_approve": Route(expect=(LOGIN, 404, 404, 302, 302), kwargs=CORRECTION, method="post"),
    "members:correction_reject": Route(
        expect=(LOGIN, 404, 404, 302, 302), kwargs=CORRECTION, method="post", data=lambda w: {"note": "Thiếu giấy tờ"}
    ),
    "members:campaign_list": Route(expect=CADRES),
    "members:campaign_create": Route(expect=CADRES),
    # A campaign launched at C1: the province's manager sees it too; the sibling commune's does not.
    "members:campaign_detail": Route(expect=IN_SCOPE, kwargs=CAMPAIGN),
    "members:campaign_not_confirmed": Route(expect=IN_SCOPE, kwargs=CAMPAIGN),
}
