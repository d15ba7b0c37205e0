"""A member's unit is checked once per statement instead of once per row (decision 0012).

PostgreSQL checks a foreign key with a trigger per inserted row: a query that locks the unit (FOR KEY SHARE) for
each of an import's 100,000 members, although they point at a few dozen units. These triggers do the same
once per statement, over the rows the statement wrote (a transition table): lock each unit they point at,
then refuse the statement if one does not exist. Deleting a unit that members point at is refused too. Django
still enforces PROTECT before it deletes anything; SQLite keeps no check at the database level.
"""

import django.db.models.deletion
from django.db import migrations, models

from doanso.core.migration_ops import PostgreSQLOnly

CREATE = [
    r"""
    CREATE FUNCTION members_member_unit_exists() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        missing bigint;
    BEGIN
        -- What the foreign key's trigger did for each row: keep the units from being deleted until this
        -- transaction ends (the same lock, once per unit, in id order so that two imports cannot deadlock)...
        PERFORM 1 FROM org_unit u WHERE u.id IN (SELECT n.unit_id FROM new_rows n) ORDER BY u.id FOR KEY SHARE OF u;
        -- ...and refuse a unit that does not exist.
        SELECT n.unit_id INTO missing FROM new_rows n
            WHERE NOT EXISTS (SELECT 1 FROM org_unit u WHERE u.id = n.unit_id) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'insert or update on table "members_member" violates foreign key "members_member_unit"'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (unit_id)=(%s) is not present in table "org_unit".', missing);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER members_member_unit_on_insert AFTER INSERT ON members_member
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION members_member_unit_exists()
    """,
    """
    CREATE TRIGGER members_member_unit_on_update AFTER UPDATE ON members_member
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION members_member_unit_exists()
    """,
    r"""
    CREATE FUNCTION members_unit_not_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        used bigint;
    BEGIN
        SELECT m.unit_id INTO used FROM members_member m WHERE m.unit_id IN (SELECT o.id FROM old_rows o) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'update or delete on table "org_unit" violates foreign key "members_member_unit"'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (id)=(%s) is still referenced from table "members_member".', used);
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER members_unit_in_use_on_delete AFTER DELETE ON org_unit
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION members_unit_not_in_use()
    """,
]

DROP = [
    "DROP TRIGGER IF EXISTS members_unit_in_use_on_delete ON org_unit",
    "DROP FUNCTION IF EXISTS members_unit_not_in_use()",
    "DROP TRIGGER IF EXISTS members_member_unit_on_update ON members_member",
    "DROP TRIGGER IF EXISTS members_member_unit_on_insert ON members_member",
    "DROP FUNCTION IF EXISTS members_member_unit_exists()",
]



class Migration(migrations.Migration):
    dependencies = [
        ("members", "0013_dob_name_index"),
        ("org", "0002_load_divisions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="unit",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="members",
                to="org.unit",
                verbose_name="unit",
            ),
        ),
        PostgreSQLOnly(CREATE, DROP),
    ]
