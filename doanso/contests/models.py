"""Online contests: the contest, its weekly rounds, the question bank (with immutable versions), participants,
attempts and their questions, the materialised rankings, unit tallies, quotas and fair-play flags.

Invariants live in the database: one attempt number per participant and round (the attempt cap holds under
concurrent starts), one participant per phone, citizen ID or member in a contest (the one-person rule), one
result per participant and round.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doanso.members.models import Occupation


class Audience(models.TextChoices):
    MEMBERS = "members", _("Members of a unit's subtree (log in)")
    PUBLIC = "public", _("The public, declaring their unit")


class PredictionKind(models.TextChoices):
    NONE = "none", _("No prediction question")
    PARTICIPANTS = "participants", _("Number of participants in the round")
    ATTEMPTS = "attempts", _("Number of attempts in the round")
    FULL_MARKS = "full_marks", _("Number of attempts with full marks")


class Prize(models.TextChoices):
    FIRST = "first", _("First prize")
    SECOND = "second", _("Second prize")
    THIRD = "third", _("Third prize")
    CONSOLATION = "consolation", _("Consolation prize")


PRIZE_ORDER = [Prize.FIRST, Prize.SECOND, Prize.THIRD, Prize.CONSOLATION]
DEFAULT_PRIZE_POINTS = {"first": 10, "second": 8, "third": 6, "consolation": 4}


def default_prize_points():
    return dict(DEFAULT_PRIZE_POINTS)


class ContestQuerySet(models.QuerySet):
    def restrict(self, user, action: str):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action, "organiser"))

    def published(self):
        return self.filter(is_published=True)


class Contest(models.Model):
    organiser = models.ForeignKey(
        "org.Unit", verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="contests"
    )
    title = models.CharField(_("title"), max_length=255)
    rules = models.TextField(_("rules"), blank=True)
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices, default=Audience.PUBLIC)
    # The subtree whose members (or whose declared units) take part; the organiser's own subtree by default.
    audience_unit = models.ForeignKey(
        "org.Unit", verbose_name=_("audience unit"), on_delete=models.PROTECT, related_name="+"
    )
    is_published = models.BooleanField(_("published"), default=False)
    challenge_enabled = models.BooleanField(
        _("challenge question at registration"),
        default=False,
        help_text=_("A small sum to answer when registering, against scripted registrations."),
    )
    min_seconds_per_question = models.PositiveSmallIntegerField(
        _("fastest plausible seconds per question"),
        default=2,
        help_text=_("Attempts submitted faster than this are flagged for review."),
    )
    prize_points = models.JSONField(_("prize points"), default=default_prize_points)
    # Collective score of a unit = participation rate (%) × rate_weight + the points of its members' prizes.
    rate_weight = models.DecimalField(_("weight of the participation rate"), max_digits=5, decimal_places=2, default=1)
    # Bumped by every write to the question bank: new attempts draw from a cached copy keyed by it, so a change
    # reaches the next attempt at once (and the copy is never shared between different banks).
    bank_generation = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("online contest")
        verbose_name_plural = _("online contests")

    def __str__(self):
        return self.title

    @property
    def bank_cache_key(self) -> str:
        return f"contests:bank:{self.pk}:{self.created_at.timestamp()}:{self.bank_generation}"


class Round(models.Model):
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=255, blank=True)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    question_count = models.PositiveSmallIntegerField(_("questions per attempt"), default=20)
    # {"topic": how many questions of it in each attempt}; the rest are drawn from any topic.
    topic_quotas = models.JSONField(_("questions per topic"), default=dict, blank=True)
    time_limit = models.PositiveIntegerField(_("time limit (seconds)"), default=600)
    attempt_cap = models.PositiveSmallIntegerField(_("attempts per person"), default=1)
    prediction_kind = models.CharField(
        _("prediction question"), max_length=12, choices=PredictionKind.choices, default=PredictionKind.PARTICIPANTS
    )
    prediction_text = models.CharField(_("prediction question text"), max_length=500, blank=True)
    # The true figure, computed when the round is ranked after its close.
    prediction_value = models.BigIntegerField(_("true figure"), null=True, blank=True)
    # {"first": 1, "second": 2, "third": 3, "consolation": 10}: how many of each prize.
    prizes = models.JSONField(_("prizes"), default=dict, blank=True)
    ranked_at = models.DateTimeField(null=True, blank=True)
    results_published = models.BooleanField(_("results published"), default=False)

    class Meta:
        ordering = ["contest", "number"]
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        constraints = [
            models.UniqueConstraint(fields=["contest", "number"], name="contest_round_number_unique"),
            models.CheckConstraint(condition=Q(closes_at__gt=F("opens_at")), name="round_closes_after_opening"),
            models.CheckConstraint(condition=Q(question_count__gte=1), name="round_has_questions"),
            models.CheckConstraint(condition=Q(time_limit__gte=10), name="round_time_limit_positive"),
            models.CheckConstraint(condition=Q(attempt_cap__gte=1), name="round_attempt_cap_positive"),
        ]

    def __str__(self):
        return self.title or _("Round {number}").format(number=self.number)

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at

    def has_closed(self, now=None) -> bool:
        return (now or timezone.now()) >= self.closes_at


class Difficulty(models.TextChoices):
    EASY = "easy", _("Easy")
    MEDIUM = "medium", _("Medium")
    HARD = "hard", _("Hard")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")


class Question(models.Model):
    """A question of a contest's bank. Its wording and options live in :class:`QuestionVersion` rows; an edit
    adds a version, so attempts that drew an earlier one keep exactly what they were shown."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="questions")
    topic = models.CharField(_("topic"), max_length=100, blank=True)
    difficulty = models.CharField(_("difficulty"), max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM)
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind.choices, default=QuestionKind.SINGLE)
    is_active = models.BooleanField(_("in use"), default=True)
    current = models.ForeignKey("QuestionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contest", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [models.Index(fields=["contest", "is_active", "topic"], name="contest_question_draw")]

    def __str__(self):
        return self.current.text[:80] if self.current is not None else f"#{self.pk}"


class QuestionVersion(models.Model):
    """One immutable wording of a question: text, options [{"id", "text"}], the ids of the correct options."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=QuestionKind.choices)
    text = models.TextField(_("question"))
    options = models.JSONField()
    correct = models.JSONField()
    explanation = models.TextField(_("explanation"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "number"], name="question_version_unique")]

    def __str__(self):
        return self.text[:80]

    def save(self, *args, **kwargs):
        # Versions are snapshots: once written, a version never changes (an edit writes a new one).
        if self.pk is not None:
            raise ValueError("question versions are immutable")
        super().save(*args, **kwargs)

    @property
    def answer_letters(self) -> str:
        """The correct options as the organisers write them ("A" or "A, C")."""
        return ", ".join("ABCDEFGH"[i - 1] for i in self.correct)


class ParticipantQuerySet(models.QuerySet):
    def restrict(self, user, action: str):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action, "contest__organiser"))


class Participant(models.Model):
    """A person taking part in a contest: registered from the public form, or a member who logged in."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="participants")
    full_name = models.CharField(_("full name"), max_length=150)
    search_name = models.CharField(max_length=150, editable=False)
    date_of_birth = models.DateField(_("date of birth"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    citizen_id = models.CharField(_("citizen ID"), max_length=12, null=True, blank=True)
    unit = models.ForeignKey("org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    occupation = models.CharField(_("occupation"), max_length=16, choices=Occupation.choices, blank=True)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="contest_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the first submitted attempt in the contest: the contest-wide participant count reads it.
    first_submitted_at = models.DateTimeField(null=True, blank=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            # The one-person rule: a phone, a citizen ID, a member record or an account enters a contest once.
            models.UniqueConstraint(fields=["contest", "phone"], condition=~Q(phone=""), name="participant_phone_once"),
            models.UniqueConstraint(
                fields=["contest", "citizen_id"], condition=Q(citizen_id__isnull=False), name="participant_cid_once"
            ),
            models.UniqueConstraint(
                fields=["contest", "member"], condition=Q(member__isnull=False), name="participant_member_once"
            ),
            models.UniqueConstraint(
                fields=["contest", "user"], condition=Q(user__isnull=False), name="participant_user_once"
            ),
        ]

    def __str__(self):
        return self.full_name


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")


class Attempt(models.Model):
    """One timed attempt. ``started_at`` and ``deadline`` are fixed by the server when it starts; whatever was
    saved by the deadline is what counts."""

    # No index of its own: the composite indexes below, which start with the round, serve every lookup by round
    # (each submit writes to every index of this table: its status and fingerprint change).
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="attempts", db_index=False)
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="attempts")
    # The participant's unit when the attempt started, copied so that tallies group by it without a join.
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    # The attempt's capability: the attempt page, its answer saves and its submit are reached by this secret
    # (128 bits), so the hot path needs no session lookup and nobody can act on someone else's attempt.
    key = models.CharField(max_length=32)  # unique: see Meta.constraints
    status = models.CharField(max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    question_total = models.PositiveSmallIntegerField(default=0)
    correct = models.PositiveSmallIntegerField(null=True, blank=True)
    prediction = models.BigIntegerField(null=True, blank=True)
    prediction_seq = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # Set on the participant's first submitted attempt of the round: participants = attempts with is_first.
    is_first = models.BooleanField(default=False)
    disqualified = models.BooleanField(default=False)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # A hash of the options chosen for each question drawn, to spot identical answer sheets sent in bulk.
    fingerprint = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        constraints = [
            # The attempt cap holds under concurrent starts: a second start with the same number fails here.
            models.UniqueConstraint(fields=["round", "participant", "number"], name="attempt_number_once"),
            # A constraint rather than unique=True, which on PostgreSQL adds a second (LIKE) index nobody uses.
            models.UniqueConstraint(fields=["key"], name="attempt_key_unique"),
            models.CheckConstraint(
                condition=Q(status="in_progress", submitted_at__isnull=True)
                | Q(status="submitted", submitted_at__isnull=False, correct__isnull=False),
                name="attempt_submitted_consistently",
            ),
            models.CheckConstraint(condition=Q(deadline__gt=F("started_at")), name="attempt_deadline_after_start"),
        ]
        indexes = [
            models.Index(fields=["round", "status"], name="contest_attempt_round_status"),
            models.Index(fields=["round", "started_at"], name="contest_attempt_started"),
            # Attempts left to expire (expire_attempts): only those in progress, so a submit leaves this index
            # alone.
            models.Index(fields=["deadline"], condition=Q(status="in_progress"), name="contest_attempt_expiry_open"),
        ]

    def __str__(self):
        return f"{self.participant} · {self.round} · #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == AttemptStatus.IN_PROGRESS


class AttemptQuestion(models.Model):
    """A question as drawn for one attempt: the version shown, the options in the order shown, what was chosen.
    ``seq`` is the client's sequence number of the last accepted save: an older or replayed save is refused."""

    # No index of its own: the unique (attempt, position) index serves every lookup by attempt, and each save
    # that cannot update in place (see migration 0003 on fill factor) writes to every index of the table.
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="questions", db_index=False)
    position = models.PositiveSmallIntegerField()
    version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    option_order = models.JSONField()
    # The option ids chosen, sorted and without repeats (taking._as_ids): the submit function reads this text as
    # is for the answer sheet's fingerprint (taking.fingerprint sorts; migration 0005).
    chosen = models.JSONField(default=list)
    seq = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "position"], name="attempt_question_position")]

    def __str__(self):
        return f"{self.attempt_id} · {self.position}"


class RoundResult(models.Model):
    """The official ranking of a round, materialised when the organiser ranks it (one SQL statement).

    Derived data, rewritten whole from the attempts inside the ranking's transaction, so it is laid out for
    writing a million rows quickly (bench/contest_ranking.py): the primary key is (round, position), written in
    its own order, and is the table's only index; the references carry no foreign-key triggers. One row per
    person and round holds by construction (each person's best attempt)."""

    pk = models.CompositePrimaryKey("round_id", "position")
    attempt = models.ForeignKey(
        Attempt, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="results", db_constraint=False, db_index=False
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    rank = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    correct = models.PositiveSmallIntegerField()
    distance = models.BigIntegerField(null=True)
    duration_ms = models.PositiveIntegerField()
    submitted_at = models.DateTimeField()
    prize = models.CharField(max_length=12, choices=Prize.choices, blank=True)

    class Meta:
        ordering = ["round", "position"]

    def __str__(self):
        return f"{self.round_id} · {self.position}"


class OverallResult(models.Model):
    """The ranking over all ranked rounds: each participant's best attempt of every round, summed. Laid out like
    :class:`RoundResult` (a participant belongs to one contest, so it is the primary key)."""

    participant = models.OneToOneField(
        Participant, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    contest = models.ForeignKey(
        Contest, on_delete=models.CASCADE, related_name="overall_results", db_constraint=False, db_index=False
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    rank = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    rounds = models.PositiveSmallIntegerField()
    correct = models.PositiveIntegerField()
    distance = models.BigIntegerField(null=True)
    duration_ms = models.BigIntegerField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["contest", "position"]

    def __str__(self):
        return f"{self.contest_id} · {self.position}"


TALLY_SHARDS = 8


class UnitTally(models.Model):
    """Participants and attempts of one round (or, with ``round`` empty, of the whole contest) at one unit — the
    unit itself, not its subtree — counted as attempts are submitted: participation pages add them up the tree
    without touching the attempts."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="tallies")
    round = models.ForeignKey(Round, null=True, blank=True, on_delete=models.CASCADE, related_name="tallies")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    # Each unit's counters are split over TALLY_SHARDS rows, one picked at random by each submit, so that a
    # large unit's submits at a round's close do not queue on one row lock; readers add the shards up.
    shard = models.PositiveSmallIntegerField(default=0)
    participants = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "unit", "shard"], condition=Q(round__isnull=False), name="unit_tally_round"
            ),
            models.UniqueConstraint(
                fields=["contest", "unit", "shard"], condition=Q(round__isnull=True), name="unit_tally_contest"
            ),
        ]

    def __str__(self):
        return f"{self.round_id} · {self.unit_id}"


class UnitQuota(models.Model):
    """The number of participants a unit (with its subtree) is asked to bring to the contest."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="quotas")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    quota = models.PositiveIntegerField(_("quota"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contest", "unit"], name="unit_quota_once")]

    def __str__(self):
        return f"{self.unit_id}: {self.quota}"


class FlagKind(models.TextChoices):
    TOO_FAST = "too_fast", _("Impossibly fast")
    IDENTICAL_BULK = "identical_bulk", _("Identical answers in bulk from one address")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("To review")
    CLEARED = "cleared", _("Cleared")
    DISQUALIFIED = "disqualified", _("Disqualified")


class AttemptFlag(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=16, choices=FlagKind.choices)
    detail = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    note = models.CharField(_("note"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["attempt", "kind"], name="attempt_flag_once")]

    def __str__(self):
        return f"{self.attempt_id} · {self.kind}"


class SheetCount(models.Model):
    """How many submitted attempts of a round sent the same answer sheet from one address (the fair-play rule of
    identical sheets in bulk, fairplay.IDENTICAL_BULK), and the first of them: when the count reaches the rule's
    threshold those are flagged with the one that reached it. Kept by every submit (the database function and
    fairplay.check_attempt), found by its unique index: counting the attempts at each submit grew with the round
    and, on plans cached with the statistics of a round's start, read every submitted attempt (migration 0006)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+", db_index=False)
    ip = models.GenericIPAddressField()
    fingerprint = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)
    # The ids of the sheet's first attempts, up to IDENTICAL_BULK - 1 of them, in the order they were counted.
    first_ids = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "ip", "fingerprint"], name="sheet_count_once")]

    def __str__(self):
        return f"{self.round} · {self.ip} · {self.count}"
