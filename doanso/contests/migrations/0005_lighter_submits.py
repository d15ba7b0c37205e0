"""A submit writes less (measured in bench/contest_answers.py; see docs/contests.md):

- contests_attempt loses three index entries per submit. A submit changes the attempt's status and fingerprint,
  so its new row version goes into every index of the table: the round's own index (every lookup by round is
  served by the composite indexes that start with it), the key's LIKE index (unique=True makes one on
  PostgreSQL; nothing searches keys by pattern) and the expiry index's entries for submitted attempts (it now
  holds the attempts in progress only, which is all expire_attempts reads) go.
- contests_attempt gets a fill factor of 70: the attempts started after one fill its page by the time it is
  submitted, and the submit's new row version then had to go to another page, often a new one at the end of the
  table (the relation extended under its lock, by every web process at a round's close). With room left it stays
  in the page, and the page's earlier versions are pruned to make room for the later ones.
- contests_participant gets a fill factor of 90: a participant's first submission sets first_submitted_at, which
  no index holds; with room in the page the update is HOT and leaves the table's nine indexes alone.
- contests_submit_attempts() computes the fingerprint from the stored text of the options chosen: saves store them
  sorted and without repeats (taking._as_ids), and jsonb writes an array as json.dumps does ("[1, 2]"), where it
  took the array apart and joined it again for every question of every attempt. It runs the too-fast flags'
  statement only when an attempt of the batch is too fast.

Deploying: the key's unique index and the partial expiry index are built under the table's lock (seconds for
millions of attempts, and submits wait meanwhile): migrate outside a round's close (docs/deployment.md).
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

from doanso.core.migration_ops import PostgreSQLOnly

PREVIOUS_FUNCTION = importlib.import_module("doanso.contests.migrations.0004_submit_in_batches").SUBMIT_FUNCTION
_UNSORTED_TEXT = """md5('[' || string_agg(
                   '[' || aq.version_id || ', [' || coalesce(
                       (SELECT string_agg(x, ', ' ORDER BY x::bigint) FROM jsonb_array_elements_text(aq.chosen) AS x),
                       '') || ']]',
                   ', ' ORDER BY aq.version_id) || ']') AS fingerprint"""
_STORED_TEXT = """md5('[' || string_agg('[' || aq.version_id || ', ' || aq.chosen::text || ']', ', '
                              ORDER BY aq.version_id) || ']') AS fingerprint"""
_DONE = """    SELECT array_agg(s.row ORDER BY (s.row).id) INTO v_done FROM submitted AS s;

"""
_DONE_AND_TOO_FAST = """    SELECT array_agg(s.row ORDER BY (s.row).id),
           coalesce(bool_or((s.row).question_total > 0
                            AND (s.row).duration_ms < c.min_seconds_per_question * (s.row).question_total * 1000),
                    false)
    INTO v_done, v_too_fast
    FROM submitted AS s
        JOIN contests_round AS rd ON rd.id = (s.row).round_id
        JOIN contests_contest AS c ON c.id = rd.contest_id;

"""
_TOO_FAST_START = "    INSERT INTO contests_attemptflag (attempt_id, kind, detail, status, note, created_at)\n    SELECT a.id, 'too_fast'"
_TOO_FAST_END = "    ORDER BY a.id\n    ON CONFLICT DO NOTHING;\n"


def _lighter(function: str) -> str:
    for part in (_UNSORTED_TEXT, _DONE, _TOO_FAST_START, _TOO_FAST_END, "    v_done contests_attempt[];\n"):
        assert part in function, part
    function = function.replace(_UNSORTED_TEXT, _STORED_TEXT).replace(_DONE, _DONE_AND_TOO_FAST)
    function = function.replace("    v_done contests_attempt[];\n", "    v_done contests_attempt[];\n    v_too_fast boolean;\n")
    # The too-fast flags only when an attempt of the batch is too fast (rarely): the statement's executor
    # set-up (the flags' table, its indexes, the joins) cost as much as a submit's grading, for nothing.
    start = function.index(_TOO_FAST_START)
    end = function.index(_TOO_FAST_END, start) + len(_TOO_FAST_END)
    return f"{function[:start]}    IF v_too_fast THEN\n{function[start:end]}    END IF;\n{function[end:]}"


SUBMIT_FUNCTION = _lighter(PREVIOUS_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [
        ("contests", "0004_submit_in_batches"),
        ("org", "0002_load_divisions"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="attempt", name="contest_attempt_expiry"),
        migrations.AlterField(model_name="attempt", name="key", field=models.CharField(max_length=32)),
        migrations.AlterField(
            model_name="attempt",
            name="round",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attempts",
                to="contests.round",
            ),
        ),
        migrations.AddIndex(
            model_name="attempt",
            index=models.Index(
                condition=models.Q(("status", "in_progress")), fields=["deadline"], name="contest_attempt_expiry_open"
            ),
        ),
        migrations.AddConstraint(
            model_name="attempt", constraint=models.UniqueConstraint(fields=("key",), name="attempt_key_unique")
        ),
        PostgreSQLOnly(
            [
                "ALTER TABLE contests_attempt SET (fillfactor = 70)",
                "ALTER TABLE contests_participant SET (fillfactor = 90)",
                SUBMIT_FUNCTION,
            ],
            [
                "ALTER TABLE contests_attempt SET (fillfactor = 100)",
                "ALTER TABLE contests_participant SET (fillfactor = 100)",
                PREVIOUS_FUNCTION,
            ],
        ),
    ]
