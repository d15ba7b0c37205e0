"""The permission matrix: every URL route declares what each kind of visitor gets.

Each app lists its routes in ``<app>/tests/routes.py`` as ``ROUTES = {"namespace:name": Route(...)}``.
``test_permission_matrix`` walks every route Django knows and fails when one has no declaration, then requests
each route as five personas against the small province of ``conftest.world``. The target unit of unit-scoped
routes is commune C1:

    anonymous  not logged in
    nobody     logged in, no role anywhere
    sibling    manager of C2 (a sibling commune: C1 is outside their subtree)
    parent     manager of P (the province: C1 is inside their subtree)
    own        manager of C1 itself

Expected values: an HTTP status (200, 302, 404, 405, 401, …) or LOGIN, a redirect to the login page.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

LOGIN = "login"
PERSONAS = ("anonymous", "nobody", "sibling", "parent", "own")


@dataclass
class Route:
    expect: tuple  # one expectation per persona, in PERSONAS order
    kwargs: Callable = field(default=lambda w: {})
    method: str = "get"
    data: Callable = field(default=lambda w: {})
    query: dict = field(default_factory=dict)
    json: bool = False  # send ``data`` as a JSON body (API endpoints)

    def __post_init__(self):
        assert len(self.expect) == len(PERSONAS), "one expectation per persona"


def same(status) -> tuple:
    return (status,) * len(PERSONAS)


PUBLIC = Route(expect=same(200))
# Logged-in pages without a unit in the URL: every logged-in user gets the page (showing only their scope).
LOGGED_IN = Route(expect=(LOGIN, 200, 200, 200, 200))
# A unit-scoped page: visible to the cadres whose subtree holds C1, a 404 for everyone else.
UNIT_PAGE = (LOGIN, 404, 404, 200, 200)
