"""Submits in batches on PostgreSQL: contests_submit_attempts() submits every attempt of a batch with a few
set-based statements, where contests_submit_attempt() (migration 0002) ran a dozen statements per attempt
(docs/decisions/0015-contest-submits-in-batches.md). It takes that function's place; what it does is the same,
and test_taking.py compares it with the ORM path (taking.finalise_attempt, fairplay.check_attempt).

To change it, add a migration with CREATE OR REPLACE FUNCTION.
"""

from django.db import migrations

from doanso.core.migration_ops import PostgreSQLOnly

SUBMIT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION contests_submit_attempts(
    p_keys varchar[], p_nows timestamptz[], p_shard integer, p_too_fast text, p_identical text,
    p_identical_bulk integer
) RETURNS SETOF contests_attempt
LANGUAGE plpgsql VOLATILE
-- The statements below take arrays, whose sizes the planner cannot know: left to choose, it planned the large
-- statement anew on every call (custom plans), which took longer than running it (1.8 -> 0.8 ms per call of one
-- attempt). The generic plans it settles for instead reach every row by a unique index.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_ids bigint[];
    v_done contests_attempt[];
BEGIN
    -- The locks first, in a statement of their own and in the order of the ids (every batch of saves and of
    -- submits takes them in that order). A save holds its attempt FOR SHARE until it commits, so once these are
    -- granted every acknowledged save has committed, and each statement below takes a new snapshot that sees it
    -- (one statement that locked and read would read with the snapshot it took before it waited).
    -- Found by key alone, the status checked on the locked row (in the aggregate's FILTER: a WHERE outside the
    -- subquery would be pushed into it): this plan is cached, and with the status among its conditions it took
    -- the status index once the statistics were stale (a new round's attempts), reading every attempt in progress.
    -- FOR NO KEY UPDATE, not FOR UPDATE: it still excludes the saves' FOR SHARE and another submit, but not the
    -- foreign-key checks of another batch that flags one of these attempts (an attempt submitted meanwhile stays
    -- locked until this batch ends, and with FOR UPDATE that batch could wait for this one while this one waits
    -- for its tally row: a deadlock).
    SELECT coalesce(array_agg(locked.id ORDER BY locked.id) FILTER (WHERE locked.status = 'in_progress'), '{}')
    INTO v_ids
    FROM (SELECT a.id, a.status FROM contests_attempt AS a WHERE a.key = ANY (p_keys) ORDER BY a.id
          FOR NO KEY UPDATE) AS locked;
    IF cardinality(v_ids) = 0 THEN
        RETURN;  -- unknown or already submitted: the caller answers with the ORM
    END IF;

    WITH attempt AS (
        SELECT a.id, a.round_id, a.participant_id, LEAST(k.now, a.deadline) AS submitted_at
        FROM contests_attempt AS a
            JOIN (SELECT key, min(now) AS now FROM unnest(p_keys, p_nows) AS k(key, now) GROUP BY key) AS k
            ON k.key = a.key
        WHERE a.id = ANY (v_ids)
    ), graded AS (
        -- A question counts when the options chosen are exactly its key (each set contains the other). The
        -- fingerprint is taking.fingerprint(): the MD5 of json.dumps([[version_id, [chosen, sorted]], ...]).
        SELECT aq.attempt_id,
               count(*) FILTER (WHERE jsonb_array_length(aq.chosen) > 0 AND aq.chosen @> v.correct
                                      AND v.correct @> aq.chosen) AS correct,
               md5('[' || string_agg(
                   '[' || aq.version_id || ', [' || coalesce(
                       (SELECT string_agg(x, ', ' ORDER BY x::bigint) FROM jsonb_array_elements_text(aq.chosen) AS x),
                       '') || ']]',
                   ', ' ORDER BY aq.version_id) || ']') AS fingerprint
        FROM contests_attemptquestion AS aq JOIN contests_questionversion AS v ON v.id = aq.version_id
        WHERE aq.attempt_id = ANY (v_ids)
        GROUP BY aq.attempt_id
    ), result AS (
        -- The participant's first submission in the round (two of their attempts in one batch: the older).
        SELECT a.*, coalesce(g.correct, 0) AS correct, coalesce(g.fingerprint, md5('[]')) AS fingerprint,
               NOT EXISTS (SELECT 1 FROM contests_attempt AS o
                           WHERE o.round_id = a.round_id AND o.participant_id = a.participant_id AND o.is_first)
               AND row_number() OVER (PARTITION BY a.round_id, a.participant_id ORDER BY a.id) = 1 AS is_first
        FROM attempt AS a LEFT JOIN graded AS g ON g.attempt_id = a.id
    ), submitted AS (
        UPDATE contests_attempt AS t
        SET status = 'submitted', submitted_at = r.submitted_at, correct = r.correct, fingerprint = r.fingerprint,
            is_first = r.is_first,
            duration_ms = GREATEST(0, floor(extract(epoch FROM r.submitted_at - t.started_at) * 1000))
        FROM result AS r
        WHERE t.id = r.id
        RETURNING t AS row
    ), round_tally AS (
        -- The unit's tallies (taking._bump_tally): the round's row for every attempt, the contest's row for a
        -- participant's first submission. Rows are locked in a fixed order, as other batches lock them.
        INSERT INTO contests_unittally (contest_id, round_id, unit_id, shard, participants, attempts)
        SELECT rd.contest_id, (s.row).round_id, (s.row).unit_id, p_shard,
               count(*) FILTER (WHERE (s.row).is_first), count(*)
        FROM submitted AS s JOIN contests_round AS rd ON rd.id = (s.row).round_id
        GROUP BY rd.contest_id, (s.row).round_id, (s.row).unit_id
        ORDER BY 2, 3
        ON CONFLICT (round_id, unit_id, shard) WHERE round_id IS NOT NULL DO UPDATE
        SET participants = contests_unittally.participants + excluded.participants,
            attempts = contests_unittally.attempts + excluded.attempts
    ), first_time AS (
        UPDATE contests_participant AS p
        SET first_submitted_at = f.submitted_at
        FROM (SELECT DISTINCT ON ((s.row).participant_id) (s.row).participant_id, (s.row).submitted_at,
                     (s.row).unit_id, (s.row).round_id
              FROM submitted AS s ORDER BY (s.row).participant_id, (s.row).id) AS f
        WHERE p.id = f.participant_id AND p.first_submitted_at IS NULL
        RETURNING f.unit_id, f.round_id
    ), contest_tally AS (
        INSERT INTO contests_unittally (contest_id, round_id, unit_id, shard, participants, attempts)
        SELECT rd.contest_id, NULL::bigint, f.unit_id, p_shard, count(*), 0
        FROM first_time AS f JOIN contests_round AS rd ON rd.id = f.round_id
        GROUP BY rd.contest_id, f.unit_id
        ORDER BY 1, 2
        ON CONFLICT (contest_id, unit_id, shard) WHERE round_id IS NULL DO UPDATE
        SET participants = contests_unittally.participants + excluded.participants
    )
    SELECT array_agg(s.row ORDER BY (s.row).id) INTO v_done FROM submitted AS s;

    -- Fair play (fairplay.check_attempt), in a statement that sees the attempts just submitted: too fast, and
    -- the same answer sheet in bulk from one address.
    INSERT INTO contests_attemptflag (attempt_id, kind, detail, status, note, created_at)
    SELECT a.id, 'too_fast', format(p_too_fast, a.question_total, a.duration_ms / 1000, a.duration_ms % 1000 / 100),
           'open', '', now()
    FROM unnest(v_done) AS a
        JOIN contests_round AS rd ON rd.id = a.round_id
        JOIN contests_contest AS c ON c.id = rd.contest_id
    WHERE a.question_total > 0 AND a.duration_ms < c.min_seconds_per_question * a.question_total * 1000
    ORDER BY a.id
    ON CONFLICT DO NOTHING;
    -- Each sheet's count is the one it would have had submitted alone, in the order of the ids: the count of
    -- those submitted before it plus its place in the batch; the sheets flagged when the count reaches the
    -- threshold (those before in the batch, and earlier ones not yet flagged) say the threshold's count.
    INSERT INTO contests_attemptflag (attempt_id, kind, detail, status, note, created_at)
    SELECT flagged.id, 'identical_bulk', left(format(p_identical, flagged.n, host(sheet.ip)), 255), 'open', '', now()
    FROM (SELECT a.round_id, a.ip, a.fingerprint, array_agg(a.id ORDER BY a.id) AS ids
          FROM unnest(v_done) AS a WHERE a.ip IS NOT NULL
          GROUP BY a.round_id, a.ip, a.fingerprint) AS sheet
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM contests_attempt AS o
            WHERE o.round_id = sheet.round_id AND o.ip = sheet.ip AND o.fingerprint = sheet.fingerprint
              AND o.status = 'submitted') AS same
        CROSS JOIN LATERAL (
            SELECT o.id,
                   GREATEST(p_identical_bulk,
                            same.n - cardinality(sheet.ids) + coalesce(array_position(sheet.ids, o.id), 1)) AS n
            FROM contests_attempt AS o
            WHERE o.round_id = sheet.round_id AND o.ip = sheet.ip AND o.fingerprint = sheet.fingerprint
              AND o.status = 'submitted'
              AND NOT EXISTS (SELECT 1 FROM contests_attemptflag AS f
                              WHERE f.attempt_id = o.id AND f.kind = 'identical_bulk')
            ORDER BY o.id
            LIMIT 100) AS flagged
    WHERE same.n >= p_identical_bulk
    ORDER BY flagged.id
    ON CONFLICT DO NOTHING;

    RETURN QUERY SELECT * FROM unnest(v_done);
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("contests", "0003_attempt_question_storage")]

    # The one-attempt function stays: web servers still running the previous code call it until they restart. A
    # later release drops it.
    operations = [PostgreSQLOnly([SUBMIT_FUNCTION], ["DROP FUNCTION IF EXISTS contests_submit_attempts"])]
