"""The one-call submit on PostgreSQL: contests_submit_attempt() does what taking.finalise_attempt and
fairplay.check_attempt do with the ORM, in one round trip, with its statements' plans cached per connection
(docs/decisions/0013-contest-submit-in-the-database.md). Other databases keep the ORM path only.

To change it, add a migration with CREATE OR REPLACE FUNCTION; test_taking.py compares it with the ORM path.
"""

from django.db import migrations

from doanso.core.migration_ops import PostgreSQLOnly

SUBMIT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION contests_submit_attempt(
    p_key varchar, p_now timestamptz, p_shard integer, p_too_fast text, p_identical text, p_identical_bulk integer
) RETURNS SETOF contests_attempt
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    a contests_attempt;
    v_contest bigint;
    v_min_seconds integer;
    v_correct integer;
    v_fingerprint text;
    v_first boolean;
    v_same bigint;
BEGIN
    -- The lock first, in a statement of its own. A save holds the attempt FOR SHARE until it commits, so once
    -- this is granted every acknowledged save has committed, and each statement below takes a new snapshot that
    -- sees it (one statement that locked and read would read with the snapshot it took before it waited).
    SELECT * INTO a FROM contests_attempt WHERE key = p_key AND status = 'in_progress' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;  -- unknown or already submitted: the caller answers with the ORM
    END IF;
    SELECT r.contest_id, c.min_seconds_per_question INTO v_contest, v_min_seconds
    FROM contests_round r JOIN contests_contest c ON c.id = r.contest_id
    WHERE r.id = a.round_id;

    -- Grade: a question counts when the options chosen are exactly its key (each set contains the other).
    -- The fingerprint is taking.fingerprint(): the MD5 of json.dumps([[version_id, [chosen, sorted]], ...]).
    SELECT count(*) FILTER (WHERE jsonb_array_length(aq.chosen) > 0 AND aq.chosen @> v.correct
                                  AND v.correct @> aq.chosen),
           md5('[' || coalesce(string_agg(
               '[' || aq.version_id || ', [' || coalesce(
                   (SELECT string_agg(x, ', ' ORDER BY x::bigint) FROM jsonb_array_elements_text(aq.chosen) AS x),
                   '') || ']]',
               ', ' ORDER BY aq.version_id), '') || ']')
    INTO v_correct, v_fingerprint
    FROM contests_attemptquestion aq JOIN contests_questionversion v ON v.id = aq.version_id
    WHERE aq.attempt_id = a.id;
    v_first := NOT EXISTS (
        SELECT 1 FROM contests_attempt o
        WHERE o.round_id = a.round_id AND o.participant_id = a.participant_id AND o.is_first);
    UPDATE contests_attempt
    SET status = 'submitted', submitted_at = LEAST(p_now, a.deadline), correct = v_correct,
        fingerprint = v_fingerprint, is_first = v_first,
        duration_ms = GREATEST(0, floor(extract(epoch FROM LEAST(p_now, a.deadline) - a.started_at) * 1000))
    WHERE id = a.id
    RETURNING * INTO a;

    -- The unit's tallies (taking._bump_tally): the round's row always, the contest's row for a first submission.
    INSERT INTO contests_unittally (contest_id, round_id, unit_id, shard, participants, attempts)
    VALUES (v_contest, a.round_id, a.unit_id, p_shard, v_first::integer, 1)
    ON CONFLICT (round_id, unit_id, shard) WHERE round_id IS NOT NULL DO UPDATE
    SET participants = contests_unittally.participants + excluded.participants,
        attempts = contests_unittally.attempts + 1;
    UPDATE contests_participant SET first_submitted_at = a.submitted_at
    WHERE id = a.participant_id AND first_submitted_at IS NULL;
    IF FOUND THEN
        INSERT INTO contests_unittally (contest_id, round_id, unit_id, shard, participants, attempts)
        VALUES (v_contest, NULL, a.unit_id, p_shard, 1, 0)
        ON CONFLICT (contest_id, unit_id, shard) WHERE round_id IS NULL DO UPDATE
        SET participants = contests_unittally.participants + 1;
    END IF;

    -- Fair play (fairplay.check_attempt): too fast, and the same answer sheet in bulk from one address.
    IF a.question_total > 0 AND a.duration_ms < v_min_seconds * a.question_total * 1000 THEN
        INSERT INTO contests_attemptflag (attempt_id, kind, detail, status, note, created_at)
        VALUES (a.id, 'too_fast',
                format(p_too_fast, a.question_total, a.duration_ms / 1000, a.duration_ms % 1000 / 100),
                'open', '', now())
        ON CONFLICT DO NOTHING;
    END IF;
    IF a.ip IS NOT NULL THEN
        SELECT count(*) INTO v_same FROM contests_attempt
        WHERE round_id = a.round_id AND ip = a.ip AND fingerprint = a.fingerprint AND status = 'submitted';
        IF v_same >= p_identical_bulk THEN
            INSERT INTO contests_attemptflag (attempt_id, kind, detail, status, note, created_at)
            SELECT o.id, 'identical_bulk', left(format(p_identical, v_same, host(a.ip)), 255), 'open', '', now()
            FROM contests_attempt o
            WHERE o.round_id = a.round_id AND o.ip = a.ip AND o.fingerprint = a.fingerprint
              AND o.status = 'submitted'
              AND NOT EXISTS (SELECT 1 FROM contests_attemptflag f
                              WHERE f.attempt_id = o.id AND f.kind = 'identical_bulk')
            ORDER BY o.id
            LIMIT 100
            ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NEXT a;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("contests", "0001_initial")]

    operations = [PostgreSQLOnly([SUBMIT_FUNCTION], ["DROP FUNCTION IF EXISTS contests_submit_attempt"])]
