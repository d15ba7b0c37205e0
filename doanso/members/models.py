"""The member registry: the record, its timeline, and the lifecycle records that services write."""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doanso.core.models import private_storage
from doanso.core.text import fold, vn_sort_key


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class MemberKind(models.TextChoices):
    """The three organisations share one registry; association members and pioneers have lighter records."""

    UNION = "doan", _("Union member")
    ASSOCIATION = "hoi", _("Association member")
    PIONEER = "doi", _("Young Pioneer")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TRANSFERRING = "transferring", _("Being transferred")
    GRADUATED = "graduated", _("Graduated")
    STRUCK_OFF = "struck_off", _("Struck off")
    EXPELLED = "expelled", _("Expelled")
    RESIGNED = "resigned", _("Left the union")
    DECEASED = "deceased", _("Deceased")
    # The file went to a union outside the province (with a letter and its verification code).
    TRANSFERRED_OUT = "transferred_out", _("Transferred out of the province")


# Statuses shown by default: a member whose file is held by a unit.
CURRENT_STATUSES = (MemberStatus.ACTIVE, MemberStatus.TRANSFERRING)


class Occupation(models.TextChoices):
    PUPIL = "pupil", _("Secondary school pupil")
    STUDENT = "student", _("University or college student")
    WORKER = "worker", _("Worker")
    CIVIL_SERVANT = "civil_servant", _("Civil servant or public employee")
    ARMED_FORCES = "armed_forces", _("Armed forces")
    FARMER = "farmer", _("Farmer")
    BUSINESS = "business", _("Business or self-employed")
    UNEMPLOYED = "unemployed", _("Without work")
    OTHER = "other", _("Other")


class Qualification(models.TextChoices):
    NONE = "none", _("None")
    VOCATIONAL = "vocational", _("Vocational")
    COLLEGE = "college", _("College")
    UNIVERSITY = "university", _("University")
    MASTER = "master", _("Master")
    DOCTOR = "doctor", _("Doctorate")


class PoliticalTheory(models.TextChoices):
    NONE = "none", _("None")
    ELEMENTARY = "elementary", _("Elementary")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class MemberQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "members.view"):
        from doanso.accounts.scope import scope_q

        return self.filter(scope_q(user, action, "unit"))

    def current(self):
        return self.filter(status__in=CURRENT_STATUSES)


class Member(models.Model):
    """One person in the registry (đoàn viên, hội viên or đội viên).

    ``status`` is derived from the member's history: only the lifecycle services in ``services.py`` change it,
    each together with a :class:`MemberEvent`. ``unit`` is the unit that holds the file; tree changes never
    rewrite it (see org.models.Unit).
    """

    kind = models.CharField(_("organisation"), max_length=4, choices=MemberKind.choices, default=MemberKind.UNION)
    family_name = models.CharField(_("family name"), max_length=50)
    middle_name = models.CharField(_("middle name"), max_length=80, blank=True)
    given_name = models.CharField(_("given name"), max_length=50)
    other_names = models.CharField(_("other names"), max_length=150, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=40, blank=True)
    religion = models.CharField(_("religion"), max_length=60, blank=True)
    citizen_id = models.CharField(_("citizen ID"), max_length=12, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    hometown = models.ForeignKey(
        "org.AdministrativeDivision",
        verbose_name=_("hometown"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # Reference data that nothing deletes while members point at it (decision 0012): no index and no
        # database-level check, each of which costs every imported row.
        db_index=False,
        db_constraint=False,
    )
    hometown_address = models.CharField(_("hometown address"), max_length=255, blank=True)
    residence = models.ForeignKey(
        "org.AdministrativeDivision",
        verbose_name=_("residence"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        # Reference data that nothing deletes while members point at it (decision 0012): no index and no
        # database-level check, each of which costs every imported row.
        db_index=False,
        db_constraint=False,
    )
    residence_address = models.CharField(_("street address"), max_length=255, blank=True)
    occupation = models.CharField(_("occupation"), max_length=16, choices=Occupation.choices, blank=True)
    # Salaried members pay 5,000 VND a month in dues, others 2,000 (see the dues module).
    is_salaried = models.BooleanField(_("salaried"), default=False)
    schooling = models.CharField(_("schooling"), max_length=10, blank=True, help_text=_("e.g. 12/12"))
    qualification = models.CharField(_("qualification"), max_length=12, choices=Qualification.choices, blank=True)
    political_theory = models.CharField(
        _("political theory"), max_length=12, choices=PoliticalTheory.choices, blank=True
    )
    foreign_language = models.CharField(_("foreign language"), max_length=100, blank=True)
    it_skill = models.CharField(_("IT skill"), max_length=100, blank=True)
    joined_on = models.DateField(_("joined the union on"), null=True, blank=True)
    admitted_at = models.CharField(_("admitted at"), max_length=255, blank=True)
    card_number = models.CharField(_("card number"), max_length=20, null=True, blank=True)
    party_joined_on = models.DateField(_("joined the Party on"), null=True, blank=True)
    photo = models.ImageField(_("photo"), upload_to="members/photos/", storage=private_storage, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The unit whose branch holds the member's file.
    # No index of its own: members_unit_status (unit, status) serves every lookup by unit (decision 0012).
    # On PostgreSQL the reference is checked once per statement, not per row, by triggers that migrations
    # members.0014 and 0015 create in place of the foreign key constraint (decision 0012): Django's AlterField on
    # this field would not know of them.
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="members",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    is_sample = models.BooleanField(_("sample data"), default=False)
    # fold(given middle family other): diacritics-insensitive search; sorting by it follows the given name.
    search_name = models.CharField(max_length=300, editable=False)
    # Vietnamese dictionary order by given name, then middle name, then family name (core.text.vn_sort_key).
    sort_name = models.CharField(max_length=600, editable=False, default="")
    # What a typed word is matched against (decision 0006), in two halves that PostgreSQL indexes differently:
    # the folded names (family, middle, given, other), each word a key of a GIN index over its words, and the
    # identifiers (citizen ID, phone in its local form, card number), under a trigram index. Both start with a
    # space so that a short word can be matched at the start of a word.
    search_text = models.CharField(max_length=400, editable=False, default="")
    search_ids = models.CharField(max_length=100, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "id"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        # Plain indexes (Meta.indexes): a CharField's db_index=True also builds a second LIKE index on
        # PostgreSQL, which these columns never need — and every index costs a bulk import time.
        indexes = [
            models.Index(fields=["unit", "status"], name="members_unit_status"),
            # Age filters and the graduation list (date of birth), and an import's lookup of a member without a
            # citizen ID (name and date of birth): one index serves both (decision 0012).
            models.Index(fields=["date_of_birth", "search_name"], name="members_dob_name"),
            models.Index(fields=["sort_name"], name="members_sort_name"),
        ]
        constraints = [
            # Unique constraints rather than unique=True, which on PostgreSQL adds a second (LIKE) index that no
            # query uses and every import pays for (decision 0012).
            models.UniqueConstraint(fields=["citizen_id"], name="member_unique_citizen_id"),
            models.UniqueConstraint(fields=["card_number"], name="member_unique_card_number"),
            models.CheckConstraint(
                condition=Q(citizen_id__isnull=True) | Q(citizen_id__regex=r"^[0-9]{12}$"),
                name="member_citizen_id_12_digits",
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)

    def refresh_search(self) -> None:
        self.search_name, self.sort_name, self.search_text = name_search(
            self.family_name, self.middle_name, self.given_name, self.other_names
        )
        self.search_ids = search_ids(self.citizen_id, self.phone, self.card_number)


# The search columns in two halves, so that an import of 100,000 rows computes the costly name half (the
# Vietnamese sort key) once per distinct name and only the cheap identifier half per row.
def name_search(family: str, middle: str, given: str, other: str) -> tuple[str, str, str]:
    """(search_name, sort_name, search_text)."""
    return (
        fold(f"{given} {middle} {family}"),
        "000".join(vn_sort_key(part) for part in (given, middle, family)),
        " " + fold(f"{family} {middle} {given} {other}"),
    )


_NOT_DIGITS = re.compile(r"\D")


def search_ids(citizen_id: str | None, phone: str | None, card_number: str | None) -> str:
    if phone and phone.startswith("+84") and phone[3:].isdigit():
        local = "0" + phone[3:]  # E.164, as parse_phone and the forms store a Vietnamese number
    else:
        digits = _NOT_DIGITS.sub("", phone) if phone else ""
        local = "0" + digits[2:] if digits.startswith("84") else digits
    # Lower case like the typed words (card numbers are ASCII codes): a card "DV…" is found by "dv…".
    card = card_number.lower() if card_number else ""
    return " " + " ".join([p for p in (citizen_id, local, card) if p])


class NameWord(models.Lookup):
    """``search_text__word="anh"``: members with a name word that contains "anh" (a word of one or two letters:
    that starts with them), diacritics and case already folded by the caller. A LIKE over search_text: the
    portable way, which SQLite takes (PostgreSQL takes ``words``, below)."""

    lookup_name = "word"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE %s ESCAPE '\\'", [*params, word_pattern(connection, self.rhs, "% ")]


class AnyNameWord(models.Lookup):
    """``search_text__words=["anh", "thanh", …]``: members with one of these name words (PostgreSQL).

    The words of search_text are the keys of a GIN index (migration 0017), and the caller first finds in the
    vocabulary of every name word of the registry (``members_searchword``, a few thousand rows that triggers
    keep) those that contain the typed word (``selectors.vocabulary_words``): the index then reads the posting lists of
    whole words. A trigram index read the long lists of the three-letter fragments that most names share
    ("anh", "ang", "han") and intersected them. The words are constants, so PostgreSQL estimates how many
    members they match from the index's statistics (its most common words) and plans the page accordingly."""

    lookup_name = "words"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        # The same expression as the index's, or PostgreSQL cannot use it.
        return f"string_to_array(btrim({lhs}), ' ') && %s::text[]", [*params, list(self.rhs)]


def word_pattern(connection, word: str, word_start: str) -> str:
    """LIKE pattern for a typed name word: three letters or more anywhere, fewer at the start of a word."""
    escaped = connection.ops.prep_for_like_query(word)
    return f"{word_start}{escaped}%" if len(word) <= 2 else f"%{escaped}%"


for lookup in (NameWord, AnyNameWord):
    Member._meta.get_field("search_text").register_lookup(lookup)


class MemberEvent(models.Model):
    """One entry of a member's timeline. Written only by the lifecycle services, never edited."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        IMPORTED = "imported", _("Imported")
        ADMITTED = "admitted", _("Admitted")
        UPDATED = "updated", _("Record updated")
        TRANSFER_SENT = "transfer_sent", _("Transfer sent")
        TRANSFER_RECEIVED = "transfer_received", _("Transfer received")
        TRANSFER_CANCELLED = "transfer_cancelled", _("Transfer cancelled")
        ATTACHED = "attached", _("Temporary attachment")
        ATTACHMENT_ENDED = "attachment_ended", _("Temporary attachment ended")
        RATED = "rated", _("Annual rating")
        DISCIPLINED = "disciplined", _("Discipline")
        GRADUATED = "graduated", _("Graduated")
        KEPT = "kept", _("Kept past the age limit")
        STRUCK_OFF = "struck_off", _("Struck off")
        RESIGNED = "resigned", _("Left the union")
        DECEASED = "deceased", _("Deceased")
        POSITION = "position", _("Position")
        CORRECTED = "corrected", _("Correction approved")
        CONFIRMED = "confirmed", _("Data confirmed")

    # No database foreign key either (decision 0012): its check locked each new member's row (FOR KEY SHARE, a
    # write and a WAL record per member) and cost an import ~20 % of its database time. Members are kept, not
    # deleted; a member deleted through the ORM takes its timeline along (Django's CASCADE), and the import's
    # own withdrawn rows delete theirs first.
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="events", db_constraint=False)
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    date = models.DateField(_("date"))
    # The timeline is read per member only: unit, other unit and actor have no index of their own, which every
    # imported member's admission event would otherwise pay for three times, nor a database foreign key (whose
    # row-lock check on the unit cost each imported member as much as the timeline row itself). Django still
    # enforces PROTECT, and units and users are closed or deactivated, never deleted (decision 0012).
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    other_unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("other unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    status_after = models.CharField(_("status after"), max_length=16, choices=MemberStatus.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("member event")
        verbose_name_plural = _("member events")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class Position(models.Model):
    """A position held by a member (secretary, deputy secretary, committee member…), with unit and dates."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="positions")
    title = models.CharField(_("position"), max_length=150)
    unit = models.ForeignKey("org.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    # Elected cadres and full-time staff stay members while in office, past the age limit.
    keeps_membership = models.BooleanField(_("keeps membership past the age limit"), default=False)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")

    def __str__(self):
        return f"{self.title} — {self.unit}"


class Transfer(models.Model):
    """Chuyển sinh hoạt Đoàn: sent by one unit, received by another. The file is always somewhere: with the
    sending unit until the receiving unit takes it."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent, waiting to be received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="transfers")
    from_unit = models.ForeignKey("org.Unit", verbose_name=_("from"), on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(
        "org.Unit", verbose_name=_("to"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # For a transfer out of the province: where the member goes, and the code that lets the receiver check the
    # letter.
    destination = models.CharField(_("destination outside the province"), max_length=255, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=16, blank=True, db_index=True)
    assessment = models.TextField(_("assessment by the branch"), blank=True)
    dues_paid_until = models.DateField(_("dues paid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    sent_on = models.DateField(_("sent on"))
    received_on = models.DateField(_("received on"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-sent_on", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(status="sent"), name="one_open_transfer_per_member"),
            models.CheckConstraint(
                condition=Q(to_unit__isnull=False) | ~Q(destination=""), name="transfer_has_a_destination"
            ),
        ]

    def __str__(self):
        return f"{self.member} → {self.to_unit or self.destination}"


class TemporaryAttachment(models.Model):
    """Sinh hoạt tạm thời: the member also takes part in another unit (e.g. where they live or study) while the
    file stays with their unit."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="attachments")
    unit = models.ForeignKey("org.Unit", verbose_name=_("host unit"), on_delete=models.PROTECT, related_name="+")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("temporary attachment")
        verbose_name_plural = _("temporary attachments")

    def __str__(self):
        return f"{self.member} @ {self.unit}"


class RatingLevel(models.TextChoices):
    EXCELLENT = "excellent", _("Excellently completed duties")
    GOOD = "good", _("Well completed duties")
    COMPLETED = "completed", _("Completed duties")
    NOT_COMPLETED = "not_completed", _("Did not complete duties")


class AnnualRating(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="ratings")
    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("rating"), max_length=14, choices=RatingLevel.choices)
    unit = models.ForeignKey("org.Unit", verbose_name=_("rated by"), on_delete=models.PROTECT, related_name="+")
    participation = models.PositiveSmallIntegerField(_("participation (%)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("annual rating")
        verbose_name_plural = _("annual ratings")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="one_rating_per_member_year")]

    def __str__(self):
        return f"{self.year}: {self.get_level_display()}"


class DisciplineLevel(models.TextChoices):
    REPRIMAND = "reprimand", _("Reprimand")
    WARNING = "warning", _("Warning")
    DISMISSAL = "dismissal", _("Dismissal from position")
    EXPULSION = "expulsion", _("Expulsion")


class Discipline(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="disciplines")
    level = models.CharField(_("level"), max_length=10, choices=DisciplineLevel.choices)
    decided_on = models.DateField(_("decided on"))
    decided_by = models.ForeignKey("org.Unit", verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["-decided_on"]
        verbose_name = _("discipline")
        verbose_name_plural = _("disciplines")

    def __str__(self):
        return f"{self.get_level_display()} ({self.decided_on})"


class Admission(models.Model):
    """Kết nạp: a candidate (cảm tình Đoàn) on the way to membership, step by step. Approval creates the
    Member."""

    class Stage(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        COURSE_DONE = "course_done", _("Completed the union course")
        INTRODUCED = "introduced", _("Introduced")
        VOTED = "voted", _("Approved by the branch")
        APPROVED = "approved", _("Admission confirmed")
        REJECTED = "rejected", _("Not admitted")

    unit = models.ForeignKey("org.Unit", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    family_name = models.CharField(_("family name"), max_length=50)
    middle_name = models.CharField(_("middle name"), max_length=80, blank=True)
    given_name = models.CharField(_("given name"), max_length=50)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=40, blank=True)
    citizen_id = models.CharField(_("citizen ID"), max_length=12, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.CANDIDATE)
    course_completed_on = models.DateField(_("union course completed on"), null=True, blank=True)
    introducer = models.ForeignKey(
        Member, verbose_name=_("introduced by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    introducer_known_since = models.DateField(_("introducer has known the applicant since"), null=True, blank=True)
    # When a chi đội or chi hội introduces the applicant collectively instead of one member.
    collective_introducer = models.CharField(_("introduced collectively by"), max_length=255, blank=True)
    vote_on = models.DateField(_("branch meeting on"), null=True, blank=True)
    votes_present = models.PositiveSmallIntegerField(_("members present"), null=True, blank=True)
    votes_for = models.PositiveSmallIntegerField(_("votes for"), null=True, blank=True)
    approved_on = models.DateField(_("confirmed on"), null=True, blank=True)
    approved_by = models.ForeignKey(
        "org.Unit", verbose_name=_("confirmed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member = models.OneToOneField(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="admission")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("admission")
        verbose_name_plural = _("admissions")

    def __str__(self):
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)


class DataCampaign(models.Model):
    """Đợt cập nhật dữ liệu: members of a subtree confirm their data before a deadline."""

    unit = models.ForeignKey("org.Unit", verbose_name=_("launched by"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    starts_on = models.DateField(_("from"))
    deadline = models.DateField(_("deadline"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("data-update campaign")
        verbose_name_plural = _("data-update campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(deadline__gte=models.F("starts_on")), name="campaign_dates_in_order")
        ]

    def __str__(self):
        return self.title


class DataConfirmation(models.Model):
    campaign = models.ForeignKey(DataCampaign, on_delete=models.CASCADE, related_name="confirmations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="confirmations")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "member"], name="one_confirmation_per_member")]

    def __str__(self):
        return f"{self.member} — {self.campaign}"


class CorrectionRequest(models.Model):
    """A member asks for a change to their record; a cadre of their unit approves or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="corrections")
    changes = models.JSONField(_("requested changes"))
    message = models.CharField(_("message"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")

    def __str__(self):
        return f"{self.member} ({self.get_status_display()})"


class SavedFilter(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_filters")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filter"), max_length=1000)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="unique_filter_name_per_user")]

    def __str__(self):
        return self.name


class ImportMapping(models.Model):
    """A saved column mapping for spreadsheets of one source (e.g. the national system's export)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    mapping = models.JSONField(_("columns"), help_text=_("Column header → field of the member record"))
    is_builtin = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")

    def __str__(self):
        return self.name
