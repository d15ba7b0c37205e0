"""Committing a checked import (see ``members.importing``): one transaction, bulk writes, one audit record.

On PostgreSQL new members and timeline entries go in with COPY and updates through a temporary table joined
in one UPDATE: Django's ``bulk_create``/``bulk_update`` build one huge parameterised statement per batch, which
is several times slower than the parse itself at 100,000 rows. Other databases (SQLite for the demo and the
tests) use ``bulk_create``/``bulk_update``. Either way no query is made per row.
"""

import contextlib
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import batched
from operator import itemgetter
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from psycopg import errors as psycopg_errors

from doanso.accounts.roles import IMPORT_MEMBERS
from doanso.accounts.scope import can
from doanso.core import audit

from ..importing import (
    DEFAULTS,
    WRITE_FIELDS,
    Decider,
    ImportOptions,
    ImportPlan,
    PlannedRow,
    PlanSink,
    Sheet,
    build_plan,
    paused_gc,
)
from ..models import Member, MemberEvent, MemberStatus, name_search, search_ids

BATCH = 5000


class ImportRefused(Exception):
    """Nothing was written; ``str(exc)`` says why, for the person; ``plan`` is the checked plan when there is
    one (its errors are the report)."""

    plan: ImportPlan | None = None


# The columns that Member.refresh_search fills, in the order SearchColumns gives them.
SEARCH_FIELDS = ("search_name", "sort_name", "search_text", "search_ids")


class SearchColumns:
    """``Member.refresh_search`` for many rows, fast: its Vietnamese sort key costs ~30 µs a name, about as much
    as the whole COPY of a row, and names repeat, so the name half is computed once per distinct name."""

    def __init__(self):
        self.names: dict[tuple, tuple[str, str, str]] = {}

    def __call__(self, values: dict) -> tuple[str, str, str, str]:
        get = values.get
        key = (get("family_name") or "", get("middle_name") or "", get("given_name") or "", get("other_names") or "")
        named = self.names.get(key)
        if named is None:
            named = self.names[key] = name_search(*key)
        return (*named, search_ids(get("citizen_id"), get("phone"), get("card_number")))


def _check_allowed(actor, unit) -> None:
    if actor is not None and not can(actor, IMPORT_MEMBERS, unit):
        raise PermissionDenied


def _refuse_if_rejected(plan: ImportPlan, only_valid: bool) -> None:
    if plan.errors and not only_valid:
        raise ImportRefused(
            ngettext(
                "{count} row is rejected, so nothing was imported. Correct the file, or choose to import only the "
                "valid rows.",
                "{count} rows are rejected, so nothing was imported. Correct the file, or choose to import only the "
                "valid rows.",
                plan.rejected,
            ).format(count=plan.rejected)
        )


def _raced() -> ImportRefused:
    return ImportRefused(
        _(
            "Someone registered some of these members while the import was running, so nothing was imported. Run "
            "the import again."
        )
    )


def commit_member_import(
    plan: ImportPlan,
    *,
    actor,
    unit,
    only_valid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write ``plan``: all of it, or — only when ``only_valid`` says so explicitly — its valid rows while the
    rejected ones are left out. Returns the counts {rows, created, updated, unchanged, errors}.

    ``actor`` None is the operator at the command line (the audit record then has no actor).
    Raises :class:`ImportRefused` and writes nothing when rows were rejected and ``only_valid`` is false, or
    when another write got in between the check and this commit (a citizen ID registered meanwhile).
    """
    _check_allowed(actor, unit)
    _refuse_if_rejected(plan, only_valid)
    now = timezone.now()
    today = timezone.localdate()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    postgres = connection.vendor == "postgresql"
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done)

    try:
        with paused_gc(), transaction.atomic():
            if postgres:
                new_ids = _pg_insert_members(plan.creates, now, advance)
                if new_ids:
                    with connection.cursor() as cursor:
                        cursor.execute(*_import_events_query(plan, plan.creates, new_ids, today, now, actor_id, unit))
            else:
                new_ids = _orm_insert_members(plan.creates, now, advance)
                events = _events(plan, new_ids, today, now, actor_id, unit, updates=False)
                MemberEvent.objects.bulk_create((MemberEvent(**e) for e in events), batch_size=BATCH)
            return _write_updates_and_audit(
                plan, actor=actor, unit=unit, only_valid=only_valid, now=now, advance=advance
            )
    except IntegrityError:
        raise _raced() from None


def _write_updates_and_audit(plan: ImportPlan, *, actor, unit, only_valid: bool, now, advance) -> dict:
    today = timezone.localdate()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    if connection.vendor == "postgresql":
        _pg_update_members(plan.updates, now, advance)
        _pg_insert_events(_events(plan, [], today, now, actor_id, unit, updates=True))
    else:
        _orm_update_members(plan.updates, now, advance)
        events = _events(plan, [], today, now, actor_id, unit, updates=True)
        MemberEvent.objects.bulk_create((MemberEvent(**e) for e in events), batch_size=BATCH)
    counts = {**plan.summary(), "created": len(plan.creates), "updated": len(plan.updates)}
    audit.record(
        actor=actor,
        action="members.import",
        object_type="members.member",
        object_repr=plan.filename[:255],
        unit=unit,
        after={**counts, "file": plan.filename, "sheet": plan.sheet, "only_valid": only_valid},
    )
    return counts


def import_member_sheet(
    sheet: Sheet,
    options: ImportOptions,
    *,
    actor,
    unit,
    only_valid: bool = False,
    progress: Callable[[int, int], None] | None = None,
    chunk: int | None = None,
) -> tuple[ImportPlan, dict]:
    """Check ``sheet`` and write it, as :func:`build_plan` then :func:`commit_member_import` do, with the same
    outcome. Returns the plan (its errors are the report) and the counts; raises :class:`ImportRefused`, with
    nothing written and the plan in ``exc.plan``, when rows are rejected and ``only_valid`` is false.

    On PostgreSQL the two overlap: each chunk of new members is written by a thread while the next chunk is
    checked, so the database fills the table, its indexes and checks its foreign keys on one core while Python
    checks rows on the other (``PgStream``). What a later row shows to be a duplicate is deleted again before
    the commit; a refusal rolls everything back.
    """
    _check_allowed(actor, unit)
    if connection.vendor != "postgresql":
        checked = build_plan(sheet, options, unit, progress=progress, chunk=chunk)
        try:
            return checked, commit_member_import(checked, actor=actor, unit=unit, only_valid=only_valid)
        except ImportRefused as exc:
            exc.plan = checked
            raise
    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    plan: ImportPlan | None = None
    # Outside a transaction (a task, the command), the registry lookups read on a connection of their own, in
    # parallel with the writes; inside one, they must see what it holds and share its connection.
    separate_lookups = not connection.in_atomic_block
    try:
        with paused_gc(), _quick_gil_handoff(), transaction.atomic():
            with connection.cursor() as cursor:
                # Foreign keys are checked as each chunk is written, by the writing thread, instead of all at the
                # commit while nothing else happens.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with PgStream(
                now, actor_id, unit, filename=options.filename, only_valid=only_valid, separate_lookups=separate_lookups
            ) as stream:
                plan = build_plan(sheet, options, unit, progress=progress, sink=stream, chunk=chunk)
            try:
                _refuse_if_rejected(plan, only_valid)
            except ImportRefused as exc:
                exc.plan = plan
                raise
            stream.delete_withdrawn()
            counts = _write_updates_and_audit(
                plan, actor=actor, unit=unit, only_valid=only_valid, now=now, advance=lambda n: None
            )
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            return plan, counts
    except (IntegrityError, psycopg_errors.IntegrityError):
        refusal = _raced()
        refusal.plan = plan
        raise refusal from None


_SWITCH_INTERVAL = sys.getswitchinterval()


@contextlib.contextmanager
def _quick_gil_handoff():
    """The writing thread needs the GIL for a moment each time the socket to PostgreSQL can take more COPY data;
    by default it waits up to 5 ms for the checking thread to let go, and PostgreSQL may run out of data
    meanwhile. A 0.5 ms switch interval during the import made the check-and-write phase of 100,000 rows
    ~2 s faster (mean of 4 runs: 16.2 s → 14.1 s)."""
    sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        # Back to the interpreter's own value, not to whatever was set before: two imports overlapping in one
        # process then never leave it switched, at worst one finishes without the shorter interval.
        sys.setswitchinterval(_SWITCH_INTERVAL)


class PgStream(PlanSink):
    """Runs the registry lookups that :func:`build_plan` hands over and writes the creates it decides, in a
    thread of its own, in the order handed, on the same PostgreSQL connection and transaction. The main thread
    never uses the connection until :meth:`finish` returns, so it goes on checking rows while PostgreSQL works.

    With ``separate_lookups`` the lookups run in a second thread on a second connection (autocommit: they read
    what is registered, as the import's own transaction would), so that PostgreSQL answers them on the other
    core while it writes the previous chunk: 0.85 s less of the 100,000-row import's critical path."""

    def __init__(self, now, actor_id, unit, *, filename: str, only_valid: bool, separate_lookups: bool = False):
        self.now, self.actor_id, self.unit, self.only_valid = now, actor_id, unit, only_valid
        self.filename = filename
        self.separate_lookups = separate_lookups
        self.today = timezone.localdate()
        self.raw: Any = None  # psycopg's connection under Django's
        self.reader: Any = None  # the lookups' own psycopg connection
        self.pending: list[Future] = []
        self.decider: Decider | None = None
        self.search = SearchColumns()
        self.stopped = False

    def __enter__(self):
        connection.ensure_connection()
        self.raw = connection.connection
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="member-import")
        self.lookups = self.executor
        if self.separate_lookups:
            self.reader = connection.get_new_connection(connection.get_connection_params())
            self.reader.autocommit = True
            self.lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix="member-import-lookup")
        return self

    def __exit__(self, *exc_info):
        try:
            self.finish()
        finally:
            self.executor.shutdown(wait=True)
            if self.reader is not None:
                self.lookups.shutdown(wait=True)
                self.reader.close()

    def _submit(self, executor: ThreadPoolExecutor, fn, *args) -> Future:
        self.pending = [f for f in self.pending if not f.done()] + [executor.submit(fn, *args)]
        return self.pending[-1]

    def finish(self) -> None:
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()  # re-raises what went wrong in the thread

    def look_up(self, lookup) -> Callable[[], None]:
        future = self._submit(self.lookups, self._look_up, lookup)
        return future.result

    def _look_up(self, lookup) -> None:
        with (self.reader or self.raw).cursor() as cursor:
            lookup.run(cursor)

    def write(self, creates: list[PlannedRow], decider: Decider) -> None:
        self.decider = decider
        # A rejected row means nothing will be kept unless only the valid rows are wanted: stop writing.
        self.stopped = self.stopped or (decider.has_errors and not self.only_valid)
        if self.stopped or not creates:
            return
        # The values are gathered here, but for the ids, which the thread takes from the sequence before it formats
        # and sends them.
        values = list(_member_tuples(creates, self.now, self.search))
        self._submit(self.executor, self._write, creates, values, decider)

    def _write(self, creates: list[PlannedRow], values: list[tuple], decider: Decider) -> None:
        # psycopg only (Django's connection object belongs to the main thread).
        with self.raw.cursor() as cursor:
            ids = _next_member_ids(cursor, len(creates))
            for planned, member_id in zip(creates, ids, strict=True):
                planned.member_id = member_id
            # Before the COPY: the lookups that run after it must not take these members for registered ones.
            decider.created_ids.update(ids)
            rows = ((member_id, *t) for member_id, t in zip(ids, values, strict=True))
            _copy(cursor, Member, ("id", *_INSERT_COLUMNS), rows, queued=False)
            cursor.execute(*_import_events_query(self, creates, ids, self.today, self.now, self.actor_id, self.unit))

    def delete_withdrawn(self) -> None:
        """Members written for rows that a later row showed to be duplicates (with their timeline entries)."""
        ids = [p.member_id for p in (self.decider.withdrawn if self.decider else []) if p.member_id]
        if not ids:
            return
        with connection.cursor() as cursor:
            for model, column in ((MemberEvent, "member_id"), (Member, "id")):
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"DELETE FROM {table} WHERE {_column(column, model)} = ANY(%s)", [ids])  # noqa: S608


def _event_note(plan) -> str:
    return _("Import from {file}").format(file=plan.filename)[:500]


def _events(plan: ImportPlan, new_ids: list[int], today, now, actor_id, unit, *, updates: bool) -> list[dict]:
    """Timeline entries: "imported" for the new members (``new_ids``, in the order of ``plan.creates``; none when
    empty) and, when ``updates``, "updated" for the updated ones."""
    note = _event_note(plan)
    events = []
    for row, member_id in zip(plan.creates if new_ids else (), new_ids, strict=True):
        events.append(
            {
                "member_id": member_id,
                "kind": MemberEvent.Kind.IMPORTED,
                "date": today,
                "unit_id": row.values.get("unit_id") or unit.pk,
                "status_after": MemberStatus.ACTIVE,
                "note": note,
                "data": {"file": plan.filename, "row": row.row},
                "actor_id": actor_id,
                "created_at": now,
            }
        )
    for row in plan.updates if updates else ():
        events.append(
            {
                "member_id": row.member_id,
                "kind": MemberEvent.Kind.UPDATED,
                "date": today,
                "unit_id": row.values["unit_id"],
                "status_after": row.values.get("_status") or MemberStatus.ACTIVE,
                "note": note,
                "data": {"file": plan.filename, "row": row.row, "fields": list(row.changed)},
                "actor_id": actor_id,
                "created_at": now,
            }
        )
    return events


def _new_member_values(row: PlannedRow, search: SearchColumns) -> dict:
    values = row.full_values()
    values.update(zip(SEARCH_FIELDS, search(values), strict=True))
    return values


# --- PostgreSQL: COPY -------------------------------------------------------------------------------------------

_INSERT_COLUMNS = (*WRITE_FIELDS, *SEARCH_FIELDS, "status", "is_sample", "photo", "created_at", "updated_at")
_UPDATE_COLUMNS = (*WRITE_FIELDS, *SEARCH_FIELDS)


def _copy(cursor, model, attnames: tuple[str, ...], rows, *, table: str | None = None, queued: bool = True) -> None:
    """COPY ``rows`` (tuples of Python values in ``attnames`` order) into ``model``'s table, or ``table`` with the
    same columns, with psycopg's cursor ``cursor``. ``queued``: a worker thread sends the data while this one
    formats the next rows (PostgreSQL fills the table and its indexes while Python prepares the rows, instead of
    each waiting for the other); a thread that does nothing else sends them itself.

    In PostgreSQL's binary format, each value by the dumper of its column's type chosen once (``set_types``):
    psycopg's C code formats a member's 38 values in ~3 µs, against ~22 µs for COPY text lines joined in Python,
    and PostgreSQL reads dates, numbers and booleans without parsing them. The values must then be of their
    column's type (a str for text, a date for a date), which is what the checked rows hold."""
    from psycopg.copy import QueuedLibpqWriter

    table = table or connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(_column(a, model) for a in attnames)
    writer = QueuedLibpqWriter(cursor) if queued else None
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)", writer=writer) as copy:
        copy.set_types(_db_types(model, attnames))
        for row in rows:
            copy.write_row(row)


def _db_types(model, attnames: tuple[str, ...]) -> list[str]:
    """The PostgreSQL type names of ``model``'s columns, without their length: "varchar", "bigint", "date"…"""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [fields[a].db_type(connection).partition("(")[0] for a in attnames]


def _column(attname: str, model=Member) -> str:
    columns = {f.attname: f.column for f in model._meta.concrete_fields}
    return connection.ops.quote_name(columns[attname])


def _next_member_ids(cursor, count: int) -> list[int]:
    # Ids are taken from the table's sequence first, so that timeline rows can point at the new members without
    # reading them back. The sequence is looked up once (pg_get_serial_sequence in the select list ran for every
    # row: 0.27 s for 100,000 ids, nextval itself 0.03 s), and the ids come back as one string, not a row each.
    cursor.execute(
        "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) "
        "SELECT string_agg(nextval(s.seq)::text, ',') FROM s, generate_series(1, %s)",
        [Member._meta.db_table, count],
    )
    return [int(i) for i in cursor.fetchone()[0].split(",")]


def _member_tuples(rows: list[PlannedRow], now, search: SearchColumns, advance=None):
    """The values of new members, in ``_INSERT_COLUMNS`` order (the id, first, is not among them)."""
    # PlannedRow.full_values, as one dict merge: the defaults, then what the row gives.
    defaults = {name: DEFAULTS.get(name, "") for name in WRITE_FIELDS}
    written = itemgetter(*WRITE_FIELDS)
    # The same for every row: status, is_sample, photo, created_at, updated_at.
    tail = (MemberStatus.ACTIVE.value, False, "", now, now)
    for count, row in enumerate(rows, start=1):
        values = {**defaults, **row.values}
        yield (*written(values), *search(values), *tail)
        if advance is not None and count % BATCH == 0:
            advance(BATCH)
    if advance is not None:
        advance(len(rows) % BATCH)


def _pg_insert_members(rows: list[PlannedRow], now, advance) -> list[int]:
    if not rows:
        return []
    with connection.cursor() as cursor:
        ids = _next_member_ids(cursor, len(rows))
        tuples = _member_tuples(rows, now, SearchColumns(), advance)
        values = ((member_id, *t) for member_id, t in zip(ids, tuples, strict=True))
        _copy(cursor.cursor, Member, ("id", *_INSERT_COLUMNS), values)
    return ids


def _pg_update_members(rows: list[PlannedRow], now, advance) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(Member._meta.db_table)
    temp = f"members_import_{uuid.uuid4().hex[:12]}"
    search = SearchColumns()
    columns = [_column(c) for c in _UPDATE_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT id, {', '.join(columns)} FROM {table} WITH NO DATA"  # noqa: S608
        )

        def lines():
            for row in rows:
                values = dict(row.values)
                values.update(zip(SEARCH_FIELDS, search(values), strict=True))
                yield (row.member_id, *(values[c] for c in _UPDATE_COLUMNS))

        _copy(cursor.cursor, Member, ("id", *_UPDATE_COLUMNS), lines(), table=temp)
        assignments = ", ".join(f"{c} = u.{c}" for c in columns)
        cursor.execute(
            f"UPDATE {table} AS m SET {assignments}, updated_at = %s FROM {temp} AS u WHERE m.id = u.id",  # noqa: S608
            [now],
        )
        cursor.execute(f"DROP TABLE {temp}")
    advance(len(rows))


def _int_array(values) -> str:
    return "{" + ",".join([str(v) for v in values]) + "}"


def _import_events_query(source, rows: list[PlannedRow], new_ids: list[int], today, now, actor_id, unit):
    """The "imported" entries of new members (what ``_events`` gives for them) as one INSERT that PostgreSQL fills
    from three arrays (member, unit, row number) rather than rows formatted and sent one at a time. ``source`` is
    the plan or anything else with the file's name. Returns (sql, params)."""
    table = connection.ops.quote_name(MemberEvent._meta.db_table)
    names = ("member_id", "kind", "date", "unit_id", "status_after", "note", "data", "actor_id", "created_at")
    columns = ", ".join(_column(n, MemberEvent) for n in names)
    sql = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608
        "SELECT e.member_id, %s, %s, e.unit_id, %s, %s, jsonb_build_object('file', %s::text, 'row', e.row), "
        "%s, %s FROM unnest(%s::bigint[], %s::bigint[], %s::integer[]) AS e(member_id, unit_id, row)"
    )
    params = [
        MemberEvent.Kind.IMPORTED,
        today,
        MemberStatus.ACTIVE,
        _event_note(source),
        source.filename,
        actor_id,
        now,
        _int_array(new_ids),
        _int_array([row.values.get("unit_id") or unit.pk for row in rows]),
        _int_array([row.row for row in rows]),
    ]
    return sql, params


def _pg_insert_events(events: list[dict]) -> None:
    if not events:
        return
    names = ("member_id", "kind", "date", "unit_id", "status_after", "note", "data", "actor_id", "created_at")
    with connection.cursor() as cursor:
        _copy(cursor.cursor, MemberEvent, names, (tuple(e[n] for n in names) for e in events))


# --- Other databases: the ORM's bulk operations ------------------------------------------------------------------


def _orm_insert_members(rows: list[PlannedRow], now, advance) -> list[int]:
    ids: list[int] = []
    search = SearchColumns()
    for batch in batched(rows, BATCH):
        members = []
        for row in batch:
            values = _new_member_values(row, search)
            members.append(Member(**values, status=MemberStatus.ACTIVE, created_at=now, updated_at=now))
        Member.objects.bulk_create(members, batch_size=500)
        ids += [m.pk for m in members]
        advance(len(batch))
    # auto_now_add/auto_now overwrite created_at/updated_at with their own "now": the same instant anyway.
    return ids


def _orm_update_members(rows: list[PlannedRow], now, advance) -> None:
    fields = [*WRITE_FIELDS, *SEARCH_FIELDS, "updated_at"]
    search = SearchColumns()
    for batch in batched(rows, BATCH):
        members = []
        for row in batch:
            values = {k: v for k, v in row.values.items() if k in WRITE_FIELDS}
            values.update(zip(SEARCH_FIELDS, search(values), strict=True))
            members.append(Member(id=row.member_id, **values, updated_at=now))
        Member.objects.bulk_update(members, fields, batch_size=500)
        advance(len(batch))


@transaction.atomic
def save_mapping(*, actor, name: str, mapping: dict[str, str]):
    """Keep a column mapping under a name for the next files of the same source (built-in names are refused by
    the form)."""
    from ..models import ImportMapping

    saved, created = ImportMapping.objects.update_or_create(
        name=name, defaults={"mapping": mapping, "is_builtin": False, "created_by": actor}
    )
    audit.record(
        actor=actor,
        action="members.import_mapping.create" if created else "members.import_mapping.update",
        obj=saved,
        after={"name": name, "mapping": mapping},
    )
    return saved
