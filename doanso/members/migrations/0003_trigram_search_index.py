"""On PostgreSQL, a trigram index serves substring search (LIKE '%…%') over the folded search column, so a
search among a million members does not scan the table. SQLite keeps the plain scan (the demo's size)."""

from django.db import migrations

from doanso.core.migration_ops import PostgreSQLOnly


class Migration(migrations.Migration):
    dependencies = [("members", "0002_full_member_record")]
    operations = [
        PostgreSQLOnly(
            [
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "CREATE INDEX IF NOT EXISTS members_search_text_trgm ON members_member "
                "USING gin (search_text gin_trgm_ops)",
            ],
            ["DROP INDEX IF EXISTS members_search_text_trgm"],
        )
    ]
