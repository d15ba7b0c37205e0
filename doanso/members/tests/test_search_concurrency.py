"""The vocabulary of name words is written by triggers inside every writer's transaction (migration
members.0017): writers adding the same new word must neither wait for each other nor deadlock. Real
connections: meaningful on PostgreSQL only."""

import psycopg
import pytest
from django.db import connection, transaction

from doanso.members import selectors

from .factories import MemberFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the vocabulary's triggers are PostgreSQL's"),
]


def test_writers_adding_the_same_new_word_do_not_wait_for_each_other(world):
    member = MemberFactory(unit=world.B1, family_name="Lê", middle_name="", given_name="An")
    s = connection.settings_dict
    with transaction.atomic():
        # An import holds the new words it added until it commits (seconds for 100,000 rows).
        MemberFactory(unit=world.B1, family_name="Ksor", middle_name="", given_name="Hơ Wiêt")
        with psycopg.connect(
            dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"], autocommit=True
        ) as other:
            other.execute("SET statement_timeout = '5s'")  # a writer that waited would be cancelled here
            other.execute("UPDATE members_member SET search_text = ' ksor ho wiet' WHERE id = %s", [member.pk])
    assert selectors.search(world.manager_P, q="wiet ksor").count() == 2
    with connection.cursor() as cursor:  # both transactions added the words: readers see each once
        cursor.execute("SELECT count(*) FROM members_searchword WHERE word = 'wiet'")
        assert cursor.fetchone()[0] == 2
