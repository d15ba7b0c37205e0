"""On PostgreSQL, refuse UPDATE and DELETE of audit and access records in the database itself, so that not
even a raw SQL statement from the application can rewrite history. (The models refuse it in Python too.)"""

from django.db import migrations

from doanso.core.migration_ops import PostgreSQLOnly

TABLES = ["core_auditrecord", "core_accessrecord"]

FUNCTION = """
CREATE OR REPLACE FUNCTION doanso_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [
        PostgreSQLOnly(
            [
                FUNCTION,
                *(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION doanso_append_only()"
                    for table in TABLES
                ),
            ],
            [
                *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES),
                "DROP FUNCTION IF EXISTS doanso_append_only()",
            ],
        )
    ]
