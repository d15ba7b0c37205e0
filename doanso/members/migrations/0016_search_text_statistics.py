"""A larger statistics sample for the search column, so that PostgreSQL estimates how many members a typed word
matches (decision 0006).

PostgreSQL estimates LIKE '%word%' by trying the pattern on the column's histogram. With the default 100 entries
a word that 1 % of a million members have matched none or one of them, depending on the sample: '%thao%' (11,457
matches) was estimated at 100 rows after one ANALYZE, and the planner then sorted all its matches to read a page
by id (29 ms, 357 ms with the rows out of PostgreSQL's buffers) instead of walking the primary key (3 ms); a
common word ('%ngoc%', 59,460 matches) estimated at 101,011 led to a sequential scan instead of the trigram index
(150 against 50 ms). With 250 entries the estimates were 4,016–16,064 for such words and both plans right.
ANALYZE of a million members: ≈ 3 s instead of ≈ 1 s.
"""

from django.db import migrations

from doanso.core.migration_ops import PostgreSQLOnly


class Migration(migrations.Migration):
    dependencies = [("members", "0015_unit_checked_when_it_changes")]
    operations = [
        PostgreSQLOnly(
            ["ALTER TABLE members_member ALTER COLUMN search_text SET STATISTICS 250"],
            ["ALTER TABLE members_member ALTER COLUMN search_text SET STATISTICS -1"],
        )
    ]
