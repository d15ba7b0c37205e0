"""On PostgreSQL, a trigram index serves substring search (LIKE '%…%') over the folded search column, so a
search among a million members does not scan the table. SQLite keeps the plain scan (the demo's size)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS members_search_text_trgm ON members_member "
        "USING gin (search_text gin_trgm_ops)",
        params=None,
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS members_search_text_trgm", params=None)


class Migration(migrations.Migration):
    dependencies = [("members", "0002_full_member_record")]
    operations = [migrations.RunPython(forwards, backwards)]
