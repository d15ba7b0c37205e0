from doanso.core.tests.matrix import LOGIN, Route

# The member list needs the right to view members somewhere: the user without roles gets a 404; each sees
# only their subtree. Record pages of a member of B1 (under C1) follow the unit scope.
MEMBER = lambda w: {"pk": w.member.pk}  # noqa: E731

ROUTES = {
    "members:member_list": Route(expect=(LOGIN, 404, 200, 200, 200)),
    "members:member_create": Route(expect=(LOGIN, 404, 200, 200, 200)),
    "members:member_export": Route(expect=(LOGIN, 404, 200, 200, 200)),
    "members:filter_save": Route(
        expect=(LOGIN, 302, 302, 302, 302), method="post", data=lambda w: {"name": "Nữ", "query": "sex=female"}
    ),
    # Someone else's saved filter is a 404 for everyone; the matrix world's filter belongs to the manager of C1.
    "members:filter_delete": Route(
        expect=(LOGIN, 404, 404, 404, 302), method="post", kwargs=lambda w: {"pk": w.saved_filter.pk}
    ),
    "members:member_detail": Route(expect=(LOGIN, 404, 404, 200, 200), kwargs=MEMBER),
    "members:member_edit": Route(expect=(LOGIN, 404, 404, 200, 200), kwargs=MEMBER),
    # API: no credentials is a 401; the list is filtered to the caller's scope.
    "api:list_members": Route(expect=(401, 200, 200, 200, 200)),
    "api:member_detail": Route(expect=(401, 404, 404, 200, 200), kwargs=lambda w: {"member_id": w.member.pk}),
}
