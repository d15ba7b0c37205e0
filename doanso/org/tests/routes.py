from doanso.core.tests.matrix import LOGGED_IN, LOGIN, UNIT_PAGE, Route, same

C1 = lambda w: {"pk": w.C1.pk}  # noqa: E731
# Writes that only a manager of the unit's subtree may open; the sibling manager must not even see the form.
MANAGE = (LOGIN, 404, 404, 200, 200)

ROUTES = {
    "org:tree": LOGGED_IN,
    "org:tree_as_of": LOGGED_IN,
    "org:unit_suggest": Route(expect=(LOGIN, 200, 200, 200, 200), query={"q": "hoa"}),
    "org:division_suggest": Route(expect=(LOGIN, 200, 200, 200, 200), query={"q": "hai chau"}),
    "org:division_convert": Route(
        expect=(LOGIN, 200, 200, 200, 200), query={"province": "Quảng Nam", "district": "Nam Giang", "commune": "Cà Dy"}
    ),
    "org:division_lookup": Route(expect=(LOGIN, 200, 200, 200, 200), query={"q": "hai chau"}),
    "org:unit_detail": Route(expect=UNIT_PAGE, kwargs=C1),
    "org:tree_children": Route(expect=UNIT_PAGE, kwargs=C1),
    "org:unit_history": Route(expect=UNIT_PAGE, kwargs=C1),
    "org:unit_create": Route(expect=MANAGE, kwargs=C1),
    "org:unit_edit": Route(expect=MANAGE, kwargs=C1),
    "org:unit_move": Route(expect=MANAGE, kwargs=C1),
    "org:unit_merge": Route(expect=MANAGE, kwargs=C1),
    "org:unit_split": Route(expect=MANAGE, kwargs=C1),
    "org:unit_dissolve": Route(expect=MANAGE, kwargs=C1),
    "org:unit_twin": Route(expect=MANAGE, kwargs=C1),
    "org:unit_export": Route(expect=(LOGIN, 404, 404, 302, 302), kwargs=C1, method="post"),
    "org:twinning_end": Route(
        expect=(LOGIN, 404, 404, 302, 302), kwargs=lambda w: {"pk": w.twinning.pk}, method="post"
    ),
    # API: the same scope; no credentials is a 401.
    "api:list_units": Route(expect=(401, 200, 200, 200, 200)),
    "api:unit_tree": Route(expect=(401, 200, 200, 200, 200)),
    "api:unit_detail": Route(expect=(401, 404, 404, 200, 200), kwargs=lambda w: {"code": w.C1.code}),
    "api:unit_history": Route(expect=(401, 404, 404, 200, 200), kwargs=lambda w: {"code": w.C1.code}),
    "api:openapi-json": Route(expect=same(200)),
    "api:api-root": Route(expect=same(404)),
}
