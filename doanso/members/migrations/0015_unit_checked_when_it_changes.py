"""An UPDATE of members checks (and locks) a unit only for the rows whose unit changed, as the foreign key did.

Migration 0014's update trigger checked every updated row: a member's status change or profile edit then locked
its unit (FOR KEY SHARE), a write of the unit's row that the foreign key never made. The errors now also name
the check (constraint "members_member_unit"), as the foreign key's did.
"""

import importlib

from django.db import migrations

from doanso.core.migration_ops import PostgreSQLOnly

CHECK = r"""
CREATE OR REPLACE FUNCTION members_member_unit_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    units bigint[];
    missing bigint;
BEGIN
    -- The units the statement's rows point at; for an UPDATE, only those of the rows whose unit changed (the
    -- others point where they pointed before).
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT n.unit_id) INTO units
            FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.unit_id <> n.unit_id;
    ELSE
        SELECT array_agg(DISTINCT n.unit_id) INTO units FROM new_rows n;
    END IF;
    -- What the foreign key's trigger did for each row: keep the units from being deleted until this
    -- transaction ends (the same lock, once per unit, in id order so that two imports cannot deadlock)...
    PERFORM 1 FROM org_unit u WHERE u.id = ANY(units) ORDER BY u.id FOR KEY SHARE OF u;
    -- ...and refuse a unit that does not exist.
    SELECT x INTO missing FROM unnest(units) AS x WHERE NOT EXISTS (SELECT 1 FROM org_unit u WHERE u.id = x) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "members_member" violates foreign key "members_member_unit"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'members_member', CONSTRAINT = 'members_member_unit',
                  DETAIL = format('Key (unit_id)=(%s) is not present in table "org_unit".', missing);
    END IF;
    RETURN NULL;
END $$
"""

NOT_IN_USE = r"""
CREATE OR REPLACE FUNCTION members_unit_not_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    used bigint;
BEGIN
    SELECT m.unit_id INTO used FROM members_member m WHERE m.unit_id IN (SELECT o.id FROM old_rows o) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'update or delete on table "org_unit" violates foreign key "members_member_unit"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'org_unit', CONSTRAINT = 'members_member_unit',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "members_member".', used);
    END IF;
    RETURN NULL;
END $$
"""

UPDATE_TRIGGER = """
CREATE TRIGGER members_member_unit_on_update AFTER UPDATE ON members_member
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION members_member_unit_exists()
"""

FORWARD = [
    "DROP TRIGGER members_member_unit_on_update ON members_member",
    CHECK,
    NOT_IN_USE,
    UPDATE_TRIGGER,
]


def _as_in_0014() -> list[str]:
    """Migration 0014's functions and update trigger, as it created them (its module name starts with a digit)."""
    previous = importlib.import_module("doanso.members.migrations.0014_unit_checked_per_statement")
    functions = [
        s.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        for s in previous.CREATE
        if s.lstrip().startswith("CREATE FUNCTION")
    ]
    update_trigger = next(s for s in previous.CREATE if "members_member_unit_on_update" in s)
    return [*functions, update_trigger]


class Migration(migrations.Migration):
    dependencies = [("members", "0014_unit_checked_per_statement")]

    operations = [
        PostgreSQLOnly(FORWARD, ["DROP TRIGGER members_member_unit_on_update ON members_member", *_as_in_0014()])
    ]
