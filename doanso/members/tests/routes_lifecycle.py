"""Permission expectations of the lifecycle routes (see core/tests/matrix.py). The target is commune C1: its
branch B1 holds the member, the admission, the transfers and the attachment the routes name."""

import datetime

from doanso.core.tests.matrix import LOGIN, PUBLIC, Route

# Pages of C1's subtree that only its managers (and the province's) may open; others get a 404.
MANAGE = (LOGIN, 404, 404, 200, 200)
# Pages for anyone who manages members somewhere; the list inside shows only their own units.
MANAGER_ANYWHERE = (LOGIN, 404, 200, 200, 200)


def lifecycle_objects(w):
    """Created on first use: the matrix world of core/tests is shared by every app and needs none of this."""
    if not hasattr(w, "lifecycle"):
        from doanso.members.services import lifecycle

        from .factories import MemberFactory

        member = MemberFactory(unit=w.B1, joined_on=datetime.date(2020, 3, 26))
        leaving = MemberFactory(unit=w.B1, joined_on=datetime.date(2020, 3, 26))
        arriving = MemberFactory(unit=w.B3, joined_on=datetime.date(2020, 3, 26))
        w.lifecycle = {
            "member": member,
            "admission": lifecycle.start_admission(
                w.B1,
                lifecycle.ApplicantData(
                    family_name="Lê", given_name="Na", date_of_birth=datetime.date(2008, 1, 1), sex="female"
                ),
                actor=w.admin,
            ),
            # Out of the province, sent by B1: the letter, its check, its cancellation, its closing.
            "letter": lifecycle.send_transfer(
                leaving, actor=w.admin, destination="Tỉnh đoàn Quảng Ngãi", assessment="Hoàn thành tốt nhiệm vụ"
            ),
            # Into B1, sent by B3: only C1's side may receive it.
            "incoming": lifecycle.send_transfer(arriving, actor=w.admin, to_unit=w.B1),
            "attachment": lifecycle.attach_temporarily(member, w.B2, actor=w.admin),
            "position": lifecycle.add_position(member, actor=w.admin, title="Bí thư Chi đoàn", unit=w.B1),
        }
    return w.lifecycle


def pk_of(name):
    return lambda w: {"pk": lifecycle_objects(w)[name].pk}


C1 = lambda w: {"pk": w.C1.pk}  # noqa: E731

ROUTES = {
    "members:admission_list": Route(expect=MANAGE, kwargs=C1),
    "members:admission_start": Route(expect=MANAGE, kwargs=C1),
    "members:admission_detail": Route(expect=MANAGE, kwargs=pk_of("admission")),
    "members:transfer_send": Route(expect=MANAGE, kwargs=pk_of("member")),
    "members:transfer_inbox": Route(expect=MANAGER_ANYWHERE),
    "members:transfer_unit_suggest": Route(expect=MANAGER_ANYWHERE, query={"q": "hai chau"}),
    "members:transfer_receive": Route(expect=MANAGE, kwargs=pk_of("incoming")),
    "members:transfer_cancel": Route(expect=MANAGE, kwargs=pk_of("letter")),
    "members:transfer_received_elsewhere": Route(expect=MANAGE, kwargs=pk_of("letter")),
    "members:transfer_letter": Route(expect=MANAGE, kwargs=pk_of("letter")),
    "members:transfer_verify": Route(
        expect=PUBLIC.expect, kwargs=lambda w: {"code": lifecycle_objects(w)["letter"].verification_code}
    ),
    "members:transfer_verify_lookup": PUBLIC,
    "members:attachment_add": Route(expect=MANAGE, kwargs=pk_of("member")),
    "members:attachment_end": Route(expect=MANAGE, kwargs=pk_of("attachment")),
    "members:rating_bulk": Route(expect=MANAGE, kwargs=C1),
    "members:discipline_add": Route(expect=MANAGE, kwargs=pk_of("member")),
    "members:graduation_list": Route(expect=MANAGE, kwargs=C1),
    "members:graduate": Route(expect=MANAGE, kwargs=C1, method="post"),
    "members:graduation_keep": Route(expect=MANAGE, kwargs=pk_of("member")),
    "members:end_membership": Route(expect=MANAGE, kwargs=pk_of("member")),
    "members:position_add": Route(expect=MANAGE, kwargs=pk_of("member")),
    "members:position_end": Route(expect=MANAGE, kwargs=pk_of("position")),
}
