"""Identical sheets are counted, not recounted (docs/decisions/0015, "Later"):

The fair-play rule of identical answer sheets in bulk from one address counted, at every submit, the round's
submitted attempts with the same address and sheet. That count grew with the round, and the submit function's
cached generic plan, made with the statistics of a round's start (every attempt in progress, every fingerprint
empty), read it through the (round, status) index: every submitted attempt of the round, for every sheet of
every batch (measured: 0.30 → 0.85 ms of PostgreSQL per submit at 5,000 submitted attempts, 1.5 ms per sheet
for the count alone). Now each (round, address, sheet) has a row in contests_sheetcount with its count and its
first attempts' ids, found and locked by its unique index: the submit function bumps it in one upsert per batch
(rows in a fixed order, after the tallies, as fairplay.check_attempt does with the ORM), flags the batch's
sheets with the counts they would have had alone, and, when the count reaches the threshold, the first ones.
Existing submitted attempts are counted once here. The attempts' (round, ip, fingerprint) index, which only
served that count, goes in the next migration (dropped concurrently).

Deploying: apply it with no round taking submits. The web processes still running the previous code count
nothing until they restart, and the submits of the few seconds between the count here and the new function's
commit are not counted either: an identical sheet sent then is not counted as identical (as with migration 0002).
"""

import importlib

from django.db import migrations, models

from doanso.core.migration_ops import PostgreSQLOnly

PREVIOUS_FUNCTION = importlib.import_module("doanso.contests.migrations.0005_lighter_submits").SUBMIT_FUNCTION

_IDENTICAL_START = "    -- Each sheet's count is the one it would have had submitted alone"
_IDENTICAL_END = "\n    RETURN QUERY SELECT * FROM unnest(v_done);"
_COUNTED = """    -- Each sheet's count is the one it would have had submitted alone, in the order of the ids: the count of
    -- those submitted before it (the sheet's row in contests_sheetcount, bumped here, found by its unique index
    -- and locked in a fixed order) plus its place in the batch. When the count reaches the threshold, the
    -- sheet's first attempts (kept in that row) are flagged with the threshold's count; every sheet of the batch
    -- past it with its own.
    WITH sheet AS (
        SELECT a.round_id, a.ip, a.fingerprint, array_agg(a.id ORDER BY a.id) AS ids
        FROM unnest(v_done) AS a WHERE a.ip IS NOT NULL
        GROUP BY a.round_id, a.ip, a.fingerprint
    ), counted AS (
        INSERT INTO contests_sheetcount AS c (round_id, ip, fingerprint, count, first_ids)
        SELECT s.round_id, s.ip, s.fingerprint, cardinality(s.ids), to_jsonb(s.ids[1:p_identical_bulk - 1])
        FROM sheet AS s
        ORDER BY 1, 2, 3
        ON CONFLICT (round_id, ip, fingerprint) DO UPDATE
        SET count = c.count + excluded.count,
            first_ids = CASE WHEN jsonb_array_length(c.first_ids) >= p_identical_bulk - 1 THEN c.first_ids
                        ELSE (SELECT coalesce(jsonb_agg(e.id ORDER BY e.n), '[]')
                              FROM jsonb_array_elements(c.first_ids || excluded.first_ids) WITH ORDINALITY AS e(id, n)
                              WHERE e.n < p_identical_bulk) END
        RETURNING c.round_id, c.ip, c.fingerprint, c.count, c.first_ids
    )
    INSERT INTO contests_attemptflag (attempt_id, kind, detail, status, note, created_at)
    SELECT f.id, 'identical_bulk', left(format(p_identical, f.n, host(s.ip)), 255), 'open', '', now()
    FROM sheet AS s
        JOIN counted AS c ON c.round_id = s.round_id AND c.ip = s.ip AND c.fingerprint = s.fingerprint
        CROSS JOIN LATERAL (
            SELECT b.id, GREATEST(p_identical_bulk, c.count - cardinality(s.ids) + b.n) AS n
            FROM unnest(s.ids) WITH ORDINALITY AS b(id, n)
            UNION ALL
            SELECT o.id, p_identical_bulk
            FROM jsonb_array_elements_text(c.first_ids) AS e(id) JOIN contests_attempt AS o ON o.id = e.id::bigint
            WHERE c.count - cardinality(s.ids) < p_identical_bulk AND NOT (o.id = ANY (s.ids))
        ) AS f
    WHERE c.count >= p_identical_bulk
    ORDER BY f.id
    ON CONFLICT DO NOTHING;
"""


def _counted(function: str) -> str:
    start = function.index(_IDENTICAL_START)
    end = function.index(_IDENTICAL_END, start)
    assert function.count(_IDENTICAL_START) == 1 and "contest_attempt_fingerprint" not in function
    return function[:start] + _COUNTED + function[end:]


SUBMIT_FUNCTION = _counted(PREVIOUS_FUNCTION)
# fairplay.IDENTICAL_BULK when this was written: the first ids kept per sheet are one fewer.
FIRST_IDS = 4


def count_submitted_sheets(apps, schema_editor):
    Attempt = apps.get_model("contests", "Attempt")
    SheetCount = apps.get_model("contests", "SheetCount")
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO contests_sheetcount (round_id, ip, fingerprint, count, first_ids) "
                "SELECT round_id, ip, fingerprint, count(*), to_jsonb((array_agg(id ORDER BY id))[1:%s]) "
                "FROM contests_attempt WHERE status = 'submitted' AND ip IS NOT NULL AND fingerprint <> '' "
                "GROUP BY round_id, ip, fingerprint",
                [FIRST_IDS],
            )
        return
    sheets: dict[tuple, SheetCount] = {}
    submitted = Attempt.objects.filter(status="submitted", ip__isnull=False).exclude(fingerprint="").order_by("id")
    for pk, round_id, ip, fingerprint in submitted.values_list("id", "round_id", "ip", "fingerprint").iterator():
        sheet = sheets.setdefault(
            (round_id, ip, fingerprint), SheetCount(round_id=round_id, ip=ip, fingerprint=fingerprint, first_ids=[])
        )
        sheet.count += 1
        if len(sheet.first_ids) < FIRST_IDS:
            sheet.first_ids.append(pk)
    SheetCount.objects.bulk_create(sheets.values(), batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("contests", "0005_lighter_submits"),
    ]

    operations = [
        migrations.CreateModel(
            name="SheetCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ip", models.GenericIPAddressField()),
                ("fingerprint", models.CharField(max_length=32)),
                ("count", models.PositiveIntegerField(default=0)),
                ("first_ids", models.JSONField(default=list)),
                (
                    "round",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="+",
                        to="contests.round",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("round", "ip", "fingerprint"), name="sheet_count_once")
                ],
            },
        ),
        migrations.RunPython(count_submitted_sheets, migrations.RunPython.noop),
        PostgreSQLOnly([SUBMIT_FUNCTION], [PREVIOUS_FUNCTION]),
    ]
