"""Permission matrix of the contests routes. The objects they need are made on first use and kept on the matrix
world: a published public contest organised by commune C1 with a bank, an open round, an attempt of a public
participant of B1, a prize result and a flag.

Organisers' pages follow the organiser's subtree (C1): its manager and the province's see them, the sibling
commune and users without a role get a 404. Contestants' pages are public; an attempt is reached by its key.
"""

import datetime

from django.utils import timezone

from doanso.core.tests.matrix import LOGIN, Route, same

UNIT_PAGE = (LOGIN, 404, 404, 200, 200)
UNIT_POST = (LOGIN, 404, 404, 302, 302)
CADRES = (LOGIN, 404, 200, 200, 200)


def contest(w):
    if not hasattr(w, "ct_contest"):
        from doanso.contests.services import setup

        from .support import make_bank

        w.ct_contest = setup.create_contest(
            actor=w.manager_C1, organiser=w.C1, title="Tìm hiểu Nghị quyết", audience="public", is_published=True
        )
        w.ct_questions = make_bank(w.ct_contest, w.manager_C1, n=12)
    return w.ct_contest


def _open_round(w, number=None):
    from doanso.contests.services import setup

    now = timezone.now()
    return setup.create_round(
        contest(w),
        actor=w.manager_C1,
        number=number,
        opens_at=now - datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=1),
        question_count=5,
        prediction_kind="none",
        prizes={"first": 1},
    )


def round_(w):
    if not hasattr(w, "ct_round"):
        w.ct_round = _open_round(w)
    return w.ct_round


def attempt(w):
    if not hasattr(w, "ct_attempt"):
        from doanso.contests.services import taking

        person = taking.register_participant(
            contest(w),
            full_name="Phan Thị Mai",
            date_of_birth=datetime.date(2002, 2, 2),
            phone="0935111222",
            unit=w.B1,
        )
        w.ct_attempt = taking.start_attempt(round_(w), person)
    return w.ct_attempt


def won_round(w):
    """A second round, whose results (one winner) are published: certificates are made and vouched for only
    then, while the first round's results stay unpublished."""
    if not hasattr(w, "ct_won_round"):
        round_(w)  # number 1
        w.ct_won_round = _open_round(w, number=2)
    return w.ct_won_round


def result(w):
    if not hasattr(w, "ct_result"):
        from doanso.contests.models import Attempt, AttemptFlag, Round, RoundResult
        from doanso.contests.services import taking

        person = taking.register_participant(
            contest(w),
            full_name="Võ Văn Tài",
            date_of_birth=datetime.date(2001, 1, 1),
            phone="0935111333",
            unit=w.B2,
        )
        a = taking.submit_attempt(taking.start_attempt(won_round(w), person).key)
        a = Attempt.objects.get(pk=a.pk)
        # As if ranked and published (the ranking services need a closed round).
        Round.objects.filter(pk=won_round(w).pk).update(ranked_at=timezone.now(), results_published=True)
        w.ct_result = RoundResult.objects.create(
            round=won_round(w),
            participant=person,
            attempt=a,
            unit=w.B2,
            rank=1,
            position=1,
            correct=a.correct,
            duration_ms=a.duration_ms,
            submitted_at=a.submitted_at,
            prize="first",
        )
        w.ct_flag, _ = AttemptFlag.objects.get_or_create(attempt=a, kind="too_fast")
    return w.ct_result


def first_option(w):
    from doanso.contests.models import AttemptQuestion

    return AttemptQuestion.objects.get(attempt=attempt(w), position=1).option_order[0]


def token(w):
    from doanso.contests.results_views import certificate_token

    return certificate_token(result(w))


def flag(w):
    result(w)
    return w.ct_flag


C = lambda w: {"pk": contest(w).pk}  # noqa: E731
R = lambda w: {"pk": round_(w).pk}  # noqa: E731
K = lambda w: {"key": attempt(w).key}  # noqa: E731

ROUTES = {
    "contests:contest_list": Route(expect=CADRES),
    "contests:contest_create": Route(expect=CADRES),
    "contests:contest_manage": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:contest_edit": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:round_create": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:question_list": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:question_create": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:question_import": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:participation": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:quota_set": Route(
        expect=UNIT_POST, method="post", kwargs=C, data=lambda w: {"unit": "B1", "quota": "40"}
    ),
    "contests:review_queue": Route(expect=UNIT_PAGE, kwargs=C),
    "contests:question_edit": Route(expect=UNIT_PAGE, kwargs=lambda w: {"pk": (contest(w), w.ct_questions[0])[1].pk}),
    "contests:question_toggle": Route(
        expect=UNIT_POST, method="post", kwargs=lambda w: {"pk": (contest(w), w.ct_questions[0])[1].pk}
    ),
    "contests:round_edit": Route(expect=UNIT_PAGE, kwargs=R),
    "contests:round_results": Route(expect=UNIT_PAGE, kwargs=R),
    "contests:round_rank": Route(expect=UNIT_POST, method="post", kwargs=R),
    "contests:round_publish": Route(expect=UNIT_POST, method="post", kwargs=R),
    "contests:round_export": Route(expect=UNIT_POST, method="post", kwargs=R),
    "contests:dashboard": Route(expect=UNIT_PAGE, kwargs=R),
    "contests:certificate_pdf": Route(
        expect=UNIT_PAGE, kwargs=lambda w: {"pk": result(w).round_id, "position": result(w).position}
    ),
    "contests:flag_review": Route(
        expect=UNIT_POST, method="post", kwargs=lambda w: {"pk": flag(w).pk}, data=lambda w: {"decision": "cleared"}
    ),
    # Public pages of a published contest.
    "contests:contest_public": Route(expect=same(200), kwargs=C),
    "contests:register": Route(expect=same(200), kwargs=C),
    "contests:unit_suggest": Route(expect=same(200), kwargs=C, query={"q": "thon"}),
    "contests:join_member": Route(expect=(LOGIN, 200, 200, 200, 200), kwargs=C),
    "contests:public_results": Route(expect=same(200), kwargs=C),
    # Without a registration in the session, starting goes back to the contest's page.
    "contests:start": Route(expect=same(302), method="post", kwargs=R),
    # The attempt's key is its capability: whoever holds it reaches the attempt (see decisions/0011).
    "contests:attempt": Route(expect=same(200), kwargs=K),
    "contests:answer_save": Route(
        expect=same(200),
        method="post",
        kwargs=K,
        data=lambda w: {"position": "1", "chosen": str(first_option(w)), "seq": "1"},
    ),
    "contests:attempt_submit": Route(expect=same(302), method="post", kwargs=K),
    "contests:attempt_result": Route(expect=same(302), kwargs=K),
    "contests:certificate_verify": Route(expect=same(200), kwargs=lambda w: {"token": token(w)}),
    # API: the contest and its results are public; registration takes a body (422 without one); starting needs a
    # registration token or a member (401 without); the attempt's routes go by its key.
    "api:contest_detail": Route(expect=same(200), kwargs=lambda w: {"contest_id": contest(w).pk}),
    "api:register_participant": Route(
        expect=same(422),
        method="post",
        json=True,
        kwargs=lambda w: {"contest_id": contest(w).pk},
        data=lambda w: {},
    ),
    # Joining as a member needs a current member record linked to the account: none of the personas has one.
    "api:join_contest": Route(
        expect=(401, 422, 422, 422, 422), method="post", json=True, kwargs=lambda w: {"contest_id": contest(w).pk}
    ),
    "api:start_attempt": Route(expect=same(401), method="post", json=True, kwargs=lambda w: {"round_id": round_(w).pk}),
    "api:attempt_detail": Route(expect=same(200), kwargs=K),
    "api:save_answer": Route(
        expect=same(200),
        method="post",
        json=True,
        kwargs=K,
        data=lambda w: {"position": 1, "chosen": [first_option(w)], "seq": 1},
    ),
    "api:submit_attempt": Route(expect=same(200), method="post", json=True, kwargs=K),
    # The persona's attempt is still in progress: there is no result yet, for anyone.
    "api:attempt_result": Route(expect=same(409), kwargs=K),
    # Results of a round not published are missing for everyone.
    "api:round_results": Route(expect=same(404), kwargs=lambda w: {"round_id": round_(w).pk}),
}
