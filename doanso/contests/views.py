"""Organisers' pages: contests, rounds, the question bank and its import, results, participation by unit,
the review queue and the live dashboard. Everything is read through ``restrict``: out of scope is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doanso.accounts.scope import can, can_anywhere
from doanso.core.forms import add_service_errors
from doanso.members.importing import ImportFileError
from doanso.org.models import Unit

from . import bank, selectors
from .forms import ContestForm, ImportForm, QuestionForm, QuotaForm, ReviewForm, RoundForm
from .models import AttemptFlag, Contest, FlagStatus, Question, Round, RoundResult
from .permissions import MANAGE_CONTESTS, VIEW_CONTESTS
from .services import fairplay, results, setup

PAGE_SIZE = 100


def get_contest(request, pk, action=VIEW_CONTESTS) -> Contest:
    return get_object_or_404(Contest.objects.restrict(request.user, action).select_related("organiser"), pk=pk)


def get_round(request, pk, action=VIEW_CONTESTS) -> Round:
    return get_object_or_404(
        Round.objects.filter(contest__in=Contest.objects.restrict(request.user, action)).select_related(
            "contest__organiser", "contest__audience_unit"
        ),
        pk=pk,
    )


@login_required
def contest_list(request):
    if not can_anywhere(request.user, VIEW_CONTESTS):
        raise Http404
    contests = (
        Contest.objects.restrict(request.user, VIEW_CONTESTS)
        .select_related("organiser")
        .annotate(round_count=Count("rounds", distinct=True), participant_count=Count("participants", distinct=True))
    )
    return render(
        request,
        "contests/contest_list.html",
        {"contests": contests, "can_create": can_anywhere(request.user, MANAGE_CONTESTS)},
    )


@login_required
def contest_create(request):
    if not can_anywhere(request.user, MANAGE_CONTESTS):
        raise Http404
    form = ContestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            contest = setup.create_contest(actor=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The contest was created. Add its questions and rounds."))
            return redirect("contests:contest_manage", contest.pk)
    return render(request, "contests/contest_form.html", {"form": form})


@login_required
def contest_manage(request, pk):
    contest = get_contest(request, pk)
    rounds = contest.rounds.annotate(
        attempts_n=Count("attempts"), submitted_n=Count("attempts", filter=Q(attempts__status="submitted"))
    )
    topics = contest.questions.filter(is_active=True).values_list("topic").annotate(n=Count("id")).order_by("topic")
    now = timezone.now()
    # Rounds still to run whose draw the bank cannot fill: contestants would be refused a start.
    shortfall = [p for r in rounds if not r.has_closed(now) for p in selectors.bank_shortfall(r, dict(topics))]
    context = {
        "contest": contest,
        "rounds": rounds,
        "shortfall": shortfall,
        "topics": topics,
        "question_total": sum(n for _t, n in topics),
        "can_manage": can(request.user, MANAGE_CONTESTS, contest.organiser),
        "open_flags": AttemptFlag.objects.filter(attempt__round__contest=contest, status=FlagStatus.OPEN).count(),
    }
    return render(request, "contests/contest_manage.html", context)


@login_required
def contest_edit(request, pk):
    contest = get_contest(request, pk, MANAGE_CONTESTS)
    form = ContestForm(request.POST or None, user=request.user, editing=True, initial=ContestForm.initial_for(contest))
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        data.pop("organiser")
        try:
            setup.update_contest(contest, actor=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The contest was saved."))
            return redirect("contests:contest_manage", contest.pk)
    return render(request, "contests/contest_form.html", {"form": form, "contest": contest})


@login_required
def round_create(request, pk):
    contest = get_contest(request, pk, MANAGE_CONTESTS)
    form = RoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            setup.create_round(contest, actor=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc, {"time_limit": "time_limit_minutes"})
        else:
            messages.success(request, _("The round was added."))
            return redirect("contests:contest_manage", contest.pk)
    return render(request, "contests/round_form.html", {"form": form, "contest": contest})


@login_required
def round_edit(request, pk):
    round_ = get_round(request, pk, MANAGE_CONTESTS)
    form = RoundForm(request.POST or None, initial=RoundForm.initial_for(round_))
    if request.method == "POST" and form.is_valid():
        try:
            setup.update_round(round_, actor=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc, {"time_limit": "time_limit_minutes"})
        else:
            messages.success(request, _("The round was saved. Attempts already started keep their questions and time."))
            return redirect("contests:contest_manage", round_.contest_id)
    return render(request, "contests/round_form.html", {"form": form, "contest": round_.contest, "round": round_})


@login_required
def question_list(request, pk):
    contest = get_contest(request, pk)
    questions = contest.questions.select_related("current").order_by("topic", "id")
    topic = request.GET.get("topic")
    if topic is not None:
        questions = questions.filter(topic=topic)
    return render(
        request,
        "contests/question_list.html",
        {
            "contest": contest,
            "questions": questions[:500],
            "total": questions.count(),
            "can_manage": can(request.user, MANAGE_CONTESTS, contest.organiser),
        },
    )


@login_required
def question_create(request, pk):
    contest = get_contest(request, pk, MANAGE_CONTESTS)
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            setup.create_question(contest, actor=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc, {"options": "option_A"})
        else:
            messages.success(request, _("The question was added to the bank."))
            return redirect("contests:question_list", contest.pk)
    return render(request, "contests/question_form.html", {"form": form, "contest": contest})


def get_question(request, pk, action=MANAGE_CONTESTS) -> Question:
    return get_object_or_404(
        Question.objects.filter(contest__in=Contest.objects.restrict(request.user, action)).select_related(
            "contest__organiser", "current"
        ),
        pk=pk,
    )


@login_required
def question_edit(request, pk):
    question = get_question(request, pk)
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_for(question))
    if request.method == "POST" and form.is_valid():
        try:
            setup.edit_question(question, actor=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc, {"options": "option_A"})
        else:
            messages.success(
                request, _("The question was saved as a new version; attempts already started keep theirs.")
            )
            return redirect("contests:question_list", question.contest_id)
    return render(
        request, "contests/question_form.html", {"form": form, "contest": question.contest, "question": question}
    )


@login_required
@require_POST
def question_toggle(request, pk):
    question = get_question(request, pk)
    setup.set_question_active(question, not question.is_active, actor=request.user)
    return redirect("contests:question_list", question.contest_id)


@login_required
def question_import(request, pk):
    """Check a file (nothing is written) or import it (only when every row is valid)."""
    contest = get_contest(request, pk, MANAGE_CONTESTS)
    form = ImportForm(request.POST or None, request.FILES or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            plan = bank.plan_import(upload.read(), upload.name, contest=contest)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            if request.POST.get("action") == "import" and plan.ok:
                count = setup.import_questions(contest, plan.rows, actor=request.user, filename=upload.name)
                messages.success(request, _("{count} questions were imported.").format(count=count))
                return redirect("contests:question_list", contest.pk)
            if request.POST.get("action") == "import":
                messages.error(request, _("Nothing was imported: correct the rows below and upload the file again."))
    return render(request, "contests/question_import.html", {"form": form, "contest": contest, "plan": plan})


@login_required
def round_results(request, pk):
    round_ = get_round(request, pk)
    page_results = (
        RoundResult.objects.filter(round=round_).select_related("participant", "unit").order_by("position")[:PAGE_SIZE]
    )
    context = {
        "round": round_,
        "contest": round_.contest,
        "results": page_results,
        "total": RoundResult.objects.filter(round=round_).count(),
        "participants": results.participants_ranked(round_),
        "winners": results.prize_winners(round_),
        "can_manage": can(request.user, MANAGE_CONTESTS, round_.contest.organiser),
    }
    return render(request, "contests/round_results.html", context)


@login_required
@require_POST
def round_rank(request, pk):
    round_ = get_round(request, pk, MANAGE_CONTESTS)
    try:
        count = results.rank_round(round_, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The round was ranked: {count} participants.").format(count=count))
    return redirect("contests:round_results", round_.pk)


@login_required
@require_POST
def round_publish(request, pk):
    round_ = get_round(request, pk, MANAGE_CONTESTS)
    try:
        results.publish_results(round_, actor=request.user, published=request.POST.get("published") != "0")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("contests:round_results", round_.pk)


def _root(request, contest) -> Unit:
    code = request.GET.get("unit", "").strip()
    if code:
        unit = Unit.objects.filter(code__iexact=code, path__startswith=contest.audience_unit.path).first()
        if unit is not None:
            return unit
    return contest.audience_unit


@login_required
def participation(request, pk):
    contest = get_contest(request, pk)
    root = _root(request, contest)
    asked = request.GET.get("round", "")
    valid = asked.isascii() and asked.isdigit() and len(asked) < 10
    round_ = contest.rounds.filter(pk=asked).first() if valid else None
    rows = selectors.participation(contest, root, round_)
    ranking = selectors.unit_ranking(contest, root, round_) if len(rows) > 1 else []
    quota_form = QuotaForm(contest=contest)
    context = {
        "contest": contest,
        "root": root,
        "round": round_,
        "rows": rows,
        "ranking": ranking,
        "rounds": contest.rounds.all(),
        "ancestors": [u for u in root.ancestors() if u.path.startswith(contest.audience_unit.path)],
        "quota_form": quota_form,
        "can_manage": can(request.user, MANAGE_CONTESTS, contest.organiser),
    }
    return render(request, "contests/participation.html", context)


@login_required
@require_POST
def quota_set(request, pk):
    contest = get_contest(request, pk, MANAGE_CONTESTS)
    form = QuotaForm(request.POST, contest=contest)
    if form.is_valid():
        try:
            setup.set_unit_quota(contest, form.cleaned_data["unit"], form.cleaned_data["quota"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The quota was saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("contests:participation", contest.pk)


@login_required
def review_queue(request, pk):
    contest = get_contest(request, pk, MANAGE_CONTESTS)
    status = request.GET.get("status", FlagStatus.OPEN)
    flags = (
        AttemptFlag.objects.filter(attempt__round__contest=contest, status=status)
        .select_related("attempt__participant", "attempt__round", "attempt__unit")
        .order_by("created_at")[:200]
    )
    return render(
        request,
        "contests/review_queue.html",
        {"contest": contest, "flags": flags, "status": status, "statuses": FlagStatus.choices, "form": ReviewForm()},
    )


@login_required
@require_POST
def flag_review(request, pk):
    flag = get_object_or_404(
        AttemptFlag.objects.filter(attempt__round__contest__in=Contest.objects.restrict(request.user, MANAGE_CONTESTS)),
        pk=pk,
    )
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            fairplay.review_flag(flag, actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("The review was recorded."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("contests:review_queue", flag.attempt.round.contest_id)


@login_required
def dashboard(request, pk):
    """Entries per minute and by unit, refreshed every 15 seconds by htmx (only the figures are re-sent)."""
    round_ = get_round(request, pk)
    contest = round_.contest
    minutes = selectors.entries_per_minute(round_, 30)
    peak = max((n for _m, n in minutes), default=0)
    rows = selectors.participation(contest, contest.audience_unit, round_)
    # The busiest units first: that is what an organiser watches during a round.
    rows = rows[:1] + sorted(rows[1:], key=lambda r: (-r.attempts, r.unit.name))
    context = {
        "round": round_,
        "contest": contest,
        # Bar heights in tenths (classes bar-0…bar-10): the CSP allows no inline style.
        "minutes": [(m, n, round(10 * n / peak) if peak else 0) for m, n in minutes],
        "peak": peak,
        "rows": rows,
        "last_minute": minutes[-1][1] if minutes else 0,
        "in_progress": round_.attempts.filter(status="in_progress").count(),
    }
    template = "contests/partials/dashboard_figures.html" if request.htmx else "contests/dashboard.html"
    return render(request, template, context)
