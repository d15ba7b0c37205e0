"""Migration operations shared by the apps."""

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """SQL that only PostgreSQL has (PL/pgSQL functions, triggers, trigram indexes, storage parameters), run there
    and skipped on other databases (SQLite in development and in tests, which keep the plain Python paths).

    ``sql`` and ``reverse_sql`` are lists of statements, each sent whole and without parameters: a single string
    would be split into statements by sqlparse, which does not know where a function body quoted with $$ ends,
    and a % in the SQL stays a %.
    """

    def __init__(self, sql: list[str], reverse_sql: list[str], **kwargs):
        super().__init__(sql, reverse_sql, **kwargs)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
