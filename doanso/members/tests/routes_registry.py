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
    # Lifecycle actions over the API, as JSON. A sent transfer of the world's member (B1, under C1) to B3.
    "api:send_transfer": Route(
        expect=(401, 404, 404, 201, 201),
        method="post",
        json=True,
        kwargs=lambda w: {"member_id": w.member.pk},
        data=lambda w: {"to_unit": "B3"},
    ),
    "api:transfer_inbox": Route(expect=(401, 200, 200, 200, 200)),
    # The world's open transfer goes from B2 (C1) to B3 (C2): the receiving side (the sibling manager here, and
    # the province) may receive it; the sending side may not (404, as for anything out of scope).
    "api:receive_transfer": Route(
        expect=(401, 404, 200, 200, 404),
        method="post",
        json=True,
        kwargs=lambda w: {"transfer_id": w.transfer.pk},
        data=lambda w: {},
    ),
    "api:cancel_transfer": Route(
        expect=(401, 404, 200, 200, 200),
        method="post",
        json=True,
        kwargs=lambda w: {"transfer_id": w.transfer.pk},
        data=lambda w: {"reason": "Nhầm đơn vị"},
    ),
    "api:end_membership": Route(
        expect=(401, 404, 404, 200, 200),
        method="post",
        json=True,
        kwargs=lambda w: {"member_id": w.member.pk},
        data=lambda w: {"reason_kind": "resignation", "reason": "Chuyển công tác ra nước ngoài"},
    ),
    # Imports need a file: without one the caller in scope gets a 422 (missing field), the anonymous a 401.
    "api:start_import": Route(expect=(401, 422, 422, 422, 422), method="post", data=lambda w: {"unit": "C1"}),
    # A task belongs to whoever started it: the matrix world's task was started by the manager of C1.
    "api:task_status": Route(expect=(401, 404, 404, 404, 200), kwargs=lambda w: {"task_id": w.task.pk}),
    "api:rate_branch": Route(
        expect=(401, 404, 404, 200, 200),
        method="post",
        json=True,
        kwargs=lambda w: {"code": "B1"},
        data=lambda w: {"year": 2025, "ratings": [{"member_id": w.member.pk, "level": "good"}]},
    ),
}
