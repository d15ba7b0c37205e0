"""Reads of the member registry, always through the caller's scope."""

import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, When
from django.utils import timezone
from django.utils.functional import cached_property

from doanso.accounts.roles import VIEW_MEMBERS
from doanso.core.text import fold
from doanso.core.views import CappedPaginator

from .models import CURRENT_STATUSES, AnnualRating, Member, MemberStatus, word_pattern

AGE_BANDS = [(None, 17), (18, 22), (23, 26), (27, 30), (31, None)]


def birth_date_range(age_min: int | None, age_max: int | None, on: datetime.date | None = None):
    """Dates of birth of people aged age_min…age_max (inclusive) on ``on``."""
    on = on or timezone.localdate()
    born_after = born_before = None
    if age_max is not None:
        # Younger than age_max + 1: born after the day they would turn age_max + 1.
        born_after = _years_before(on, age_max + 1)
    if age_min is not None:
        born_before = _years_before(on, age_min)
    return born_after, born_before


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def search(
    user,
    *,
    q: str = "",
    unit=None,
    sex: str = "",
    age_min: int | None = None,
    age_max: int | None = None,
    ethnicity: str = "",
    status: str = "",
    party: str = "",
    rating_year: int | None = None,
    rating: str = "",
    occupation: str = "",
    kind: str = "",
    action: str = VIEW_MEMBERS,
):
    """Members in the user's scope that match every given criterion.

    ``q`` matches every word: a word of letters in the names (diacritics and case ignored, NFC or NFD; three
    letters or more anywhere in a name word, shorter ones at its start), a word with digits in the citizen ID,
    phone or card number (prefix or substring). On PostgreSQL indexes serve both (decision 0006). ``status`` ""
    means current members (graduated, struck-off… are kept but hidden), "all" means everyone.
    """
    qs = Member.objects.restrict(user, action)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    name_words = []
    for word in fold(q).replace("+84", "0").split()[:6]:
        digits = "".join(ch for ch in word if ch.isdigit())
        if not digits:
            # A name word. One or two letters match the start of a word ("an" → An, Anh, not Lan): anywhere,
            # they would match most of the registry and no index could help.
            name_words.append(word)
            continue
        if len(digits) == len(word.replace(".", "").replace("-", "")):
            word = digits  # "0905.123.456" or "0905-123" search the digits
        # A citizen ID, phone or card number, or a fragment of one.
        qs = qs.filter(search_ids__contains=word if len(word) > 2 else " " + word)
    if name_words and connections[qs.db].vendor == "postgresql":
        # Through the vocabulary of name words and their index (decision 0006); a word that no name contains
        # matches nobody without reading the members.
        for words in vocabulary_words(name_words, qs.db).values():
            qs = qs.filter(search_text__words=words) if words else qs.none()
    else:
        for word in name_words:
            qs = qs.filter(search_text__word=word)
    if status == "all":
        pass
    elif status:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=CURRENT_STATUSES)
    if sex:
        qs = qs.filter(sex=sex)
    if kind:
        qs = qs.filter(kind=kind)
    if ethnicity:
        qs = qs.filter(ethnicity=ethnicity)
    if occupation:
        qs = qs.filter(occupation=occupation)
    if party == "yes":
        qs = qs.filter(party_joined_on__isnull=False)
    elif party == "no":
        qs = qs.filter(party_joined_on__isnull=True)
    born_after, born_before = birth_date_range(age_min, age_max)
    if born_after:
        qs = qs.filter(date_of_birth__gt=born_after)
    if born_before:
        qs = qs.filter(date_of_birth__lte=born_before)
    if rating:
        year = rating_year or timezone.localdate().year - 1
        qs = qs.filter(Exists(AnnualRating.objects.filter(member=OuterRef("pk"), year=year, level=rating)))
    return qs


def vocabulary_words(typed: list[str], using: str) -> dict[str, list[str]]:
    """For each typed name word, the registry's name words that contain it (PostgreSQL), in one query."""
    connection = connections[using]
    found: dict[str, list[str]] = {word: [] for word in typed}  # a word typed twice is looked up once
    typed = list(found)
    with connection.cursor() as cursor:
        cursor.execute(
            # DISTINCT: two transactions may have added the same word (migration 0017's trigger says why).
            "SELECT DISTINCT t.typed, s.word FROM unnest(%s::text[], %s::text[]) AS t(typed, pattern) "
            "JOIN members_searchword s ON s.word LIKE t.pattern",
            [typed, [word_pattern(connection, word, "") for word in typed]],
        )
        for word, match in cursor.fetchall():
            found[word].append(match)
    return found


class SearchPaginator(CappedPaginator):
    """Pages of a member search, sorted by given name (sort_name).

    The database has two ways to a page: walk the sort_name index and test each row (quick when the words are
    common), or find the matches with the search indexes and sort them (quick when they are few). PostgreSQL
    cannot reliably tell which from its statistics, and the wrong choice costs seconds on a million rows
    (a given name's matches all sit together in name order, far down the index). So one query finds the
    matches, at most cap + 1 of them, counts them with a window and sorts them for the wanted page: the count
    and the page come from the same matches (as two queries, each found them: twice the work, 40 ms each for a
    common name's 7,000 matches on a slow machine). Past the cap, a second query reads the page:
    - with words typed, the matches in registration order (id), and the list asks for more words (sorting tens
      of thousands of "Nguyễn" by name helps nobody);
    - without words (browsing a unit), in name order, which the name index serves directly.
    """

    def __init__(self, queryset, per_page, *, text_query: bool = False):
        self.text_query = text_query
        self.wanted = 1  # the page get_page() was asked for, read along with the count
        self.pages: dict[int, list[int]] = {}  # page number → its members' ids in name order, up to the cap
        super().__init__(queryset.order_by("sort_name", "id"), per_page)

    def get_page(self, number):
        try:
            self.wanted = max(1, int(number))
        except (TypeError, ValueError):
            self.wanted = 1
        return super().get_page(number)

    def look(self, number: int) -> int | None:
        """Finds the matches: their number (at most cap + 1), and the ids of page ``number`` in name order, kept
        in ``pages`` when there are no more than the cap. None for a page past the last one (the window has no
        row to count on) or past the cap."""
        offset = (number - 1) * self.per_page
        if offset >= self.cap:
            return None
        matches = self.object_list.order_by().values_list("id", "sort_name")[: self.cap + 1]
        try:
            sql, params = matches.query.get_compiler(using=matches.db).as_sql()
        except EmptyResultSet:  # a queryset that can match nothing (.none()) has no SQL
            self.pages[number] = []
            return None
        # Only Django's SQL for the matches (its values as parameters) and literals: nothing typed reaches it.
        query = f"SELECT id, count(*) OVER () AS n FROM ({sql}) m ORDER BY sort_name, id LIMIT %s OFFSET %s"  # noqa: S608
        with connections[matches.db].cursor() as cursor:
            # The page ends at the cap, as the count does.
            cursor.execute(query, (*params, min(self.per_page, self.cap - offset), offset))
            rows = cursor.fetchall()
        n = rows[0][1] if rows else None
        if n is None or n <= self.cap:
            self.pages[number] = [pk for pk, _n in rows]
        return n

    @cached_property
    def count(self) -> int:
        n = self.look(self.wanted)
        if n is None and self.wanted > 1:  # asked for a page past the last one: get_page() shows the last
            n = self.look(1)
        self.capped = (n or 0) > self.cap
        if self.capped and self.text_query:
            self.object_list = self.object_list.order_by("id")
        return min(n or 0, self.cap)

    def page(self, number):
        number = self.validate_number(number)
        if number not in self.pages and not self.capped:
            self.look(number)
        if number not in self.pages:  # past the cap: the second query
            return super().page(number)
        ids = self.pages[number]
        members = self.object_list.order_by().in_bulk(ids)
        # A member deleted between the two queries is left out rather than failing the page.
        return self._get_page([members[pk] for pk in ids if pk in members], number, self)


def unit_statistics(unit) -> dict:
    """Counts for a unit's subtree, current members: by status, sex, age band, ethnicity, Party, last rating.

    Four grouped queries whatever the size of the subtree.
    """
    subtree = Member.objects.filter(unit__path__startswith=unit.path)
    by_status = dict(subtree.values_list("status").annotate(n=Count("id")).order_by())
    current = subtree.filter(status__in=CURRENT_STATUSES)
    today = timezone.localdate()
    band_cases = []
    for i, (low, high) in enumerate(AGE_BANDS):
        born_after, born_before = birth_date_range(low, high, today)
        condition = Q()
        if born_after:
            condition &= Q(date_of_birth__gt=born_after)
        if born_before:
            condition &= Q(date_of_birth__lte=born_before)
        band_cases.append(When(condition, then=i))
    totals = current.aggregate(
        total=Count("id"),
        male=Count("id", filter=Q(sex="male")),
        female=Count("id", filter=Q(sex="female")),
        party=Count("id", filter=Q(party_joined_on__isnull=False)),
    )
    bands = dict(
        current.annotate(band=Case(*band_cases, output_field=IntegerField()))
        .values_list("band")
        .annotate(n=Count("id"))
        .order_by()
    )
    ethnicities = list(current.values_list("ethnicity").annotate(n=Count("id")).order_by("-n")[:8])
    year = today.year - 1
    ratings = dict(
        AnnualRating.objects.filter(member__in=current, year=year)
        .values_list("level")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "total": totals["total"],
        "male": totals["male"],
        "female": totals["female"],
        "party": totals["party"],
        "by_status": [(MemberStatus(s).label, n) for s, n in sorted(by_status.items())],
        "age_bands": [(_band_label(AGE_BANDS[i]), bands.get(i, 0)) for i in range(len(AGE_BANDS))],
        "ethnicities": [(e or "—", n) for e, n in ethnicities],
        "rating_year": year,
        "ratings": ratings,
    }


def _band_label(band) -> str:
    low, high = band
    if low is None:
        return f"≤ {high}"
    if high is None:
        return f"≥ {low}"
    return f"{low}–{high}"


def subtree_counts(status=CURRENT_STATUSES) -> dict[int, int]:
    """Members of every unit's whole subtree, for all units at once: one GROUP BY unit_id plus a roll-up of the
    counts along the materialised paths in Python (no recursive query, no query per unit)."""
    from collections import defaultdict

    from doanso.org.models import Unit

    direct = Member.objects.filter(status__in=status).values_list("unit_id").annotate(n=Count("id")).order_by()
    paths = dict(Unit.objects.values_list("id", "path"))
    totals: dict[int, int] = defaultdict(int)
    for unit_id, n in direct:
        for ancestor in paths[unit_id].strip("/").split("/"):
            totals[int(ancestor)] += n
    return dict(totals)
