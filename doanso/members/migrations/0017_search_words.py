"""The search column in two halves: names (search_text) and identifiers (search_ids), indexed each its own way on
PostgreSQL (decision 0006).

- search_text keeps only the folded names; a GIN index over its words replaces the trigram index, and a
  vocabulary of every name word (members_searchword, kept by statement triggers, so that no write path can
  forget it) turns a typed fragment into the words that contain it.
- search_ids holds the citizen ID, the phone in its local form and the card number (lower case), under the
  trigram index.
Every member's two columns are recomputed here. VACUUM ANALYZE members_member after it (deployment.md).
"""

from django.db import migrations, models

from doanso.core.migration_ops import PostgreSQLOnly
from doanso.core.text import fold

BATCH = 2000

ADD_WORDS = """
CREATE FUNCTION members_searchword_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- No unique constraint to conflict on: an INSERT … ON CONFLICT would wait for any open transaction that
    -- added the same new word (an import holds its words until it commits), and two imports adding shared
    -- words in different orders would deadlock. Two transactions may both add a word; readers ask DISTINCT.
    INSERT INTO members_searchword (word)
    SELECT DISTINCT w FROM added, unnest(string_to_array(btrim(added.search_text), ' ')) AS w
    WHERE NOT EXISTS (SELECT FROM members_searchword s WHERE s.word = w);
    RETURN NULL;
END
$$
"""


def recompute(apps, schema_editor):
    def split(m):
        m.search_text = " " + fold(f"{m.family_name} {m.middle_name} {m.given_name} {m.other_names}")
        m.search_ids = _ids(m.citizen_id, m.phone, m.card_number)

    _each_batch(apps, split, ["search_text", "search_ids"])


def back(apps, schema_editor):
    def join(m):
        m.search_text = m.search_text + m.search_ids.rstrip()

    _each_batch(apps, join, ["search_text"])


def _each_batch(apps, change, fields) -> None:
    Member = apps.get_model("members", "Member")
    last = 0
    while batch := list(Member.objects.filter(pk__gt=last).order_by("pk")[:BATCH]):
        for m in batch:
            change(m)
        Member.objects.bulk_update(batch, fields)
        last = batch[-1].pk


def _ids(citizen_id, phone, card_number) -> str:
    # As models.search_ids() does today (a migration keeps its own copy).
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    local = "0" + digits[2:] if digits.startswith("84") else digits
    return " " + " ".join(p for p in (citizen_id, local, (card_number or "").lower()) if p)


class Migration(migrations.Migration):
    dependencies = [("members", "0016_search_text_statistics")]
    operations = [
        migrations.AddField(
            model_name="member",
            name="search_ids",
            field=models.CharField(default="", editable=False, max_length=100),
        ),
        PostgreSQLOnly(
            [
                "CREATE TABLE members_searchword (word text NOT NULL)",
                "CREATE INDEX members_searchword_word ON members_searchword (word)",
                "CREATE INDEX members_searchword_trgm ON members_searchword USING gin (word gin_trgm_ops)",
                ADD_WORDS,
                "CREATE TRIGGER members_searchword_on_insert AFTER INSERT ON members_member "
                "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION members_searchword_add()",
                "CREATE TRIGGER members_searchword_on_update AFTER UPDATE ON members_member "
                "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION members_searchword_add()",
            ],
            [
                "DROP TRIGGER members_searchword_on_update ON members_member",
                "DROP TRIGGER members_searchword_on_insert ON members_member",
                "DROP FUNCTION members_searchword_add()",
                "DROP TABLE members_searchword",
            ],
        ),
        # The old index goes before the rewrite, which would otherwise update it for every member; backwards,
        # it comes back after the columns are joined again.
        PostgreSQLOnly(
            ["DROP INDEX IF EXISTS members_search_text_trgm"],
            ["CREATE INDEX members_search_text_trgm ON members_member USING gin (search_text gin_trgm_ops)"],
        ),
        migrations.RunPython(recompute, back, elidable=False),
        PostgreSQLOnly(
            [
                "ALTER TABLE members_member ALTER COLUMN search_text SET STATISTICS -1",
                # GIN's default pending list (4 MB; decision 0006 says why not shorter).
                "CREATE INDEX members_search_ids_trgm ON members_member USING gin (search_ids gin_trgm_ops)",
                "CREATE INDEX members_search_words ON members_member USING gin "
                "(string_to_array(btrim(search_text), ' '))",
                "ALTER TABLE members_member ALTER COLUMN search_ids SET STATISTICS 250",
            ],
            [
                "DROP INDEX members_search_words",
                "DROP INDEX members_search_ids_trgm",
                "ALTER TABLE members_member ALTER COLUMN search_text SET STATISTICS 250",
            ],
        ),
    ]
