"""The contestants' pages: the contest's public page, registration, starting, the attempt page and its answer
saves and submit, the attempt's result, the public results.

The participant of a public registration is remembered in the session (``contest:<id>``); a logged-in member
is found through their account. The attempt itself is reached by its secret key (see decisions/0011).
"""

import contextlib
import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from doanso.core.audit import request_ip
from doanso.core.forms import add_service_errors
from doanso.org.models import Unit

from . import selectors
from .forms import RegistrationForm
from .models import Attempt, AttemptQuestion, Audience, Contest, OverallResult, Participant, Round, RoundResult
from .services import fairplay, taking
from .services.taking import AttemptRefused

SESSION_KEY = "contest:{pk}"
# Keys of the attempts this browser started. A registration can be recovered from another phone with the same
# name, date of birth and phone number, which others may know: an attempt in progress is resumed only by the
# browser that started it (or by the member logged in), never handed to whoever recovers the registration.
ATTEMPTS_KEY = "contest_attempts"


def _may_resume(request, participant: Participant, attempt: Attempt) -> bool:
    if request.user.is_authenticated and participant.user_id == request.user.pk:
        return True
    return attempt.key in request.session.get(ATTEMPTS_KEY, [])


def _remember(request, attempt: Attempt) -> None:
    keys = request.session.get(ATTEMPTS_KEY, [])
    if attempt.key not in keys:
        request.session[ATTEMPTS_KEY] = [*keys[-19:], attempt.key]


def _ip(request) -> str | None:
    return request_ip.get() or request.META.get("REMOTE_ADDR")


def published_contest(pk) -> Contest:
    return get_object_or_404(Contest.objects.published().select_related("organiser", "audience_unit"), pk=pk)


def current_participant(request, contest: Contest) -> Participant | None:
    pk = request.session.get(SESSION_KEY.format(pk=contest.pk))
    q = Q(pk=pk) if pk else Q(pk__in=[])
    if request.user.is_authenticated:
        q |= Q(user=request.user)
    return Participant.objects.filter(q, contest=contest).select_related("unit").first()


def _too_many(request, exc: fairplay.RateLimited):
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"error": str(exc), "code": "rate_limited"}, status=429)
    response = render(request, "contests/refused.html", {"message": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@require_GET
def contest_public(request, pk):
    contest = published_contest(pk)
    participant = current_participant(request, contest)
    now = timezone.now()
    rounds = list(contest.rounds.all())
    for r in rounds:
        r.state = "open" if r.is_open(now) else ("closed" if r.has_closed(now) else "upcoming")
        if participant is not None and r.state == "open":
            r.left = taking.attempts_left(r, participant)
            r.current = taking.open_attempt(r, participant)
            if r.current is not None and not _may_resume(request, participant, r.current):
                r.current, r.elsewhere = None, True
    context = {
        "contest": contest,
        "rounds": rounds,
        "participant": participant,
        "is_public": contest.audience == Audience.PUBLIC,
        "has_results": any(r.results_published for r in rounds),
    }
    return render(request, "contests/public_contest.html", context)


def _challenge(request, contest):
    if not contest.challenge_enabled:
        return None
    seed = request.session.get("contest_challenge")
    if not seed:
        seed = request.session["contest_challenge"] = get_random_string(12)
    return fairplay.challenge_pair(seed)


def register(request, pk):
    contest = published_contest(pk)
    if contest.audience != Audience.PUBLIC:
        return redirect("contests:join_member", contest.pk)
    form = RegistrationForm(request.POST or None, contest=contest, challenge=_challenge(request, contest))
    if request.method == "POST":
        try:
            fairplay.throttle(("register", _ip(request) or "-"))
        except fairplay.RateLimited as exc:
            return _too_many(request, exc)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "challenge"}
            try:
                participant = taking.register_participant(contest, ip=_ip(request), **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                request.session[SESSION_KEY.format(pk=contest.pk)] = participant.pk
                request.session.pop("contest_challenge", None)
                return redirect("contests:contest_public", contest.pk)
    return render(request, "contests/register.html", {"contest": contest, "form": form})


@require_GET
@cache_control(public=True, max_age=300)
def unit_suggest(request, pk):
    """Units of the contest matching what was typed (no accents needed), as <option>s for the datalist."""
    contest = published_contest(pk)
    from doanso.core.text import fold

    words = fold(request.GET.get("q", "")).split()[:5]
    units = []
    if words and len("".join(words)) >= 2:
        qs = Unit.objects.active().filter(path__startswith=contest.audience_unit.path)
        for word in words:
            qs = qs.filter(search_name__contains=word)
        units = list(qs.order_by("depth", "name")[:15])
    return render(request, "org/partials/unit_options.html", {"units": units})


@login_required
def join_member(request, pk):
    contest = published_contest(pk)
    if request.method == "POST":
        try:
            participant = taking.join_as_member(contest, request.user)
        except ValidationError as exc:
            return render(request, "contests/refused.html", {"message": " ".join(exc.messages)}, status=403)
        request.session[SESSION_KEY.format(pk=contest.pk)] = participant.pk
        return redirect("contests:contest_public", contest.pk)
    return render(request, "contests/join_member.html", {"contest": contest})


@require_POST
def start(request, pk):
    round_ = get_object_or_404(Round.objects.select_related("contest"), pk=pk, contest__is_published=True)
    participant = current_participant(request, round_.contest)
    if participant is None:
        return redirect("contests:contest_public", round_.contest_id)
    current = taking.open_attempt(round_, participant)
    if (
        current is not None
        and timezone.now() <= current.deadline + taking.GRACE
        and not _may_resume(request, participant, current)
    ):
        message = _(
            "Your attempt is in progress on another device: go on there, or wait until its time is up to start "
            "a new one."
        )
        context = {"message": message, "contest": round_.contest}
        return render(request, "contests/refused.html", context, status=409)
    try:
        fairplay.throttle(("start", _ip(request) or "-"))
        attempt = taking.start_attempt(round_, participant, ip=_ip(request))
    except fairplay.RateLimited as exc:
        return _too_many(request, exc)
    except AttemptRefused as exc:
        return render(request, "contests/refused.html", {"message": " ".join(exc.messages), "contest": round_.contest})
    _remember(request, attempt)
    return redirect("contests:attempt", attempt.key)


def _attempt_or_404(request, key) -> Attempt:
    attempt = taking.attempt_for_page(key)
    if attempt is None:
        raise Http404
    return attempt


def attempt_page(request, key):
    """The attempt: questions in the drawn order, options shuffled, no answer key; the remaining time comes
    from the server's deadline on every load, so a refresh resumes with the same time left."""
    attempt = _attempt_or_404(request, key)
    if not attempt.is_open:
        return redirect("contests:attempt_result", key)
    questions = selectors.attempt_questions(attempt)
    remaining = selectors.remaining_seconds(attempt)
    context = {
        "attempt": attempt,
        "round": attempt.round,
        "contest": attempt.round.contest,
        "questions": questions,
        "remaining": remaining,
        "remaining_text": f"{remaining // 60}:{remaining % 60:02d}",  # as the script shows it, before it runs
        "seq": max([q["seq"] for q in questions] + [attempt.prediction_seq]),
        "has_prediction": attempt.round.prediction_kind != "none",
    }
    return render(request, "contests/attempt.html", context)


def _refused_json(exc: AttemptRefused, status=409):
    code = next(iter(e.code for errors in exc.error_dict.values() for e in errors), "refused")
    status = {"not_found": 404, "time_up": 410, "submitted": 410}.get(code, status)
    return JsonResponse({"error": " ".join(exc.messages), "code": code}, status=status)


@require_POST
def answer_save(request, key):
    """Save one answer (or the prediction). Answers JSON: {"ok": true} or {"error", "code"}."""
    ip = _ip(request) or "-"
    try:
        fairplay.throttle(("save", key), ("save_ip", ip))
    except fairplay.RateLimited as exc:
        return _too_many(request, exc)
    try:
        data = json.loads(request.body) if request.content_type == "application/json" else request.POST
        seq = int(data.get("seq", 0))
        if "prediction" in data:
            taking.save_prediction(key, data.get("prediction"), seq)
        else:
            chosen = data.getlist("chosen") if hasattr(data, "getlist") else data.get("chosen")
            taking.save_answer(key, int(data.get("position", 0)), chosen, seq)
    except AttemptRefused as exc:
        return _refused_json(exc)
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"error": _("The request could not be read."), "code": "bad_request"}, status=400)
    return JsonResponse({"ok": True, "seq": seq})


# Answers posted with the submit form (a browser without JavaScript) come after any save the page made.
POSTED_SEQ = 2_000_000_000


def _save_posted_answers(key, data) -> None:
    for name, values in data.lists():
        # ASCII digits only, and few of them: "q²" passes str.isdigit() but not int().
        if name.startswith("q") and name[1:].isascii() and name[1:].isdigit() and len(name) <= 6:
            # The time was up or the answer was invalid: what was saved before stands.
            with contextlib.suppress(AttemptRefused):
                taking.save_answer(key, int(name[1:]), values, POSTED_SEQ)
    if data.get("prediction", "").strip():
        with contextlib.suppress(AttemptRefused):
            taking.save_prediction(key, data["prediction"], POSTED_SEQ)


@require_POST
def attempt_submit(request, key):
    try:
        fairplay.throttle(("submit", _ip(request) or "-"))
    except fairplay.RateLimited as exc:
        return _too_many(request, exc)
    if request.content_type != "application/json":
        _save_posted_answers(key, request.POST)
    try:
        taking.submit_attempt(key)
    except AttemptRefused:
        raise Http404 from None
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": True, "result": reverse("contests:attempt_result", args=[key])})
    return redirect("contests:attempt_result", key)


def attempt_result(request, key):
    attempt = _attempt_or_404(request, key)
    if attempt.is_open:
        return redirect("contests:attempt", key)
    round_ = attempt.round
    context = {"attempt": attempt, "round": round_, "contest": round_.contest, "standing": selectors.standing(attempt)}
    if round_.has_closed():
        # After the close, the answer key is no longer a secret: show what was right, with the explanations.
        rows = AttemptQuestion.objects.filter(attempt=attempt).select_related("version").order_by("position")
        context["review"] = [
            {
                "text": aq.version.text,
                "explanation": aq.version.explanation,
                "options": [
                    {"text": o["text"], "chosen": o["id"] in aq.chosen, "correct": o["id"] in aq.version.correct}
                    for o in sorted(aq.version.options, key=lambda o: aq.option_order.index(o["id"]))
                ],
            }
            for aq in rows
        ]
    return render(request, "contests/attempt_result.html", context)


@require_GET
@cache_control(public=True, max_age=60)
def public_results(request, pk):
    contest = published_contest(pk)
    rounds = list(contest.rounds.filter(results_published=True))
    chosen = next((r for r in rounds if str(r.pk) == request.GET.get("round")), rounds[-1] if rounds else None)
    winners = []
    if chosen is not None:
        winners = (
            RoundResult.objects.filter(round=chosen)
            .exclude(prize="")
            .select_related("participant", "unit")
            .order_by("position")
        )
    overall = OverallResult.objects.filter(contest=contest).select_related("participant", "unit")[:20] if rounds else []
    return render(
        request,
        "contests/public_results.html",
        {"contest": contest, "rounds": rounds, "round": chosen, "winners": winners, "overall": overall},
    )
