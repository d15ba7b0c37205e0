"""The attempts' (round, ip, fingerprint) index served only the identical-sheet count, which migration 0006
replaced: dropped concurrently on PostgreSQL (the submits of a running round do not wait for the table's lock)."""

from django.db import migrations, models


# CONCURRENTLY is PostgreSQL's: elsewhere (SQLite) the plain statements.
_DROP = {"postgresql": "DROP INDEX CONCURRENTLY IF EXISTS contest_attempt_fingerprint"}
_CREATE = {
    "postgresql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS contest_attempt_fingerprint "
    "ON contests_attempt (round_id, ip, fingerprint)"
}


def drop(apps, schema_editor):
    schema_editor.execute(
        _DROP.get(schema_editor.connection.vendor, "DROP INDEX IF EXISTS contest_attempt_fingerprint")
    )


def create(apps, schema_editor):
    schema_editor.execute(
        _CREATE.get(
            schema_editor.connection.vendor,
            "CREATE INDEX IF NOT EXISTS contest_attempt_fingerprint ON contests_attempt (round_id, ip, fingerprint)",
        )
    )


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("contests", "0006_sheet_counts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="attempt", name="contest_attempt_fingerprint")],
            database_operations=[migrations.RunPython(drop, create)],
        ),
    ]
