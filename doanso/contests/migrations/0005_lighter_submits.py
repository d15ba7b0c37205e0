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
  took the array apart and joined it again for every question of every attempt.
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
assert _UNSORTED_TEXT in PREVIOUS_FUNCTION
SUBMIT_FUNCTION = PREVIOUS_FUNCTION.replace(_UNSORTED_TEXT, _STORED_TEXT)


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
