"""The statements of the team database's delivery queue (see
:class:`~hookadmin.core.store.postgres.PostgresStore`): fan-out, claims, leases and
recording attempts, each one round trip whatever the number of rows."""

# Deliveries for up to %(limit)s waiting events, locked so engines fanning out at once
# take different ones: by subscription (%(types)s[i] → %(hooks)s[i]), or to the one
# target hook of a test event if it is active. Returns (events, deliveries made, the
# seqs of the events fanned out, for the hooks with a filter).
FAN_OUT = """
WITH ev AS (
    SELECT seq, type, target_hook_id FROM events WHERE NOT fanned_out
    ORDER BY seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), made AS (
    INSERT INTO deliveries (event_seq, hook_id, event_type, next_attempt_at, created_at,
                            updated_at)
    SELECT x.seq, x.hook_id, x.type, %(now)s, %(now)s, %(now)s FROM (
        SELECT ev.seq, r.hook_id, ev.type FROM ev
        JOIN unnest(%(types)s::text[], %(hooks)s::bigint[]) AS r(type, hook_id)
            ON r.type = ev.type
        WHERE ev.target_hook_id IS NULL
        UNION ALL
        SELECT ev.seq, ev.target_hook_id, ev.type FROM ev
        WHERE ev.target_hook_id = ANY(%(active)s::bigint[])
    ) x ORDER BY x.seq, x.hook_id
    RETURNING 1
), done AS (
    UPDATE events SET fanned_out = true WHERE seq IN (SELECT seq FROM ev) RETURNING seq
)
SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM made),
    (SELECT array_agg(seq) FROM done)
"""

# Each listed hook's oldest due deliveries, as many as given, from the per-hook index;
# only first attempts for every hook (the first flag) or the hooks listed last.
SEEK = """
SELECT c.seq, c.hook_id FROM unnest(%s::bigint[], %s::int[]) AS h(id, n)
CROSS JOIN LATERAL (
    SELECT seq, hook_id, next_attempt_at FROM deliveries
    WHERE hook_id = h.id AND status = 'pending' AND next_attempt_at <= %s
      AND (lease_until IS NULL OR lease_until < %s)
      AND (attempts = 0 OR NOT (%s OR h.id = ANY(%s)))
    ORDER BY next_attempt_at, seq LIMIT h.n FOR UPDATE SKIP LOCKED
) c ORDER BY c.next_attempt_at, c.seq
"""

# The oldest due deliveries of the listed hooks, in time order (first attempts only as
# in SEEK).
WINDOW = """
SELECT seq, hook_id FROM deliveries
WHERE status = 'pending' AND next_attempt_at <= %s
  AND (lease_until IS NULL OR lease_until < %s) AND hook_id = ANY(%s)
  AND (attempts = 0 OR NOT (%s OR hook_id = ANY(%s)))
ORDER BY next_attempt_at, seq LIMIT %s FOR UPDATE SKIP LOCKED
"""

# Lease the picked deliveries (an update in place: lease_until is in no index) and
# note the leases in delivery_leases, where claims count them per hook.
LEASE = """
WITH leased AS (
    UPDATE deliveries d SET lease_until = %(until)s FROM events e
    WHERE d.seq = ANY(%(seqs)s) AND e.seq = d.event_seq
    RETURNING d.next_attempt_at, d.seq, d.id, d.hook_id, d.event_type, e.body, d.attempts
), noted AS (
    INSERT INTO delivery_leases SELECT seq, hook_id, %(until)s FROM leased
    ON CONFLICT (seq) DO UPDATE SET hook_id = excluded.hook_id,
        lease_until = excluded.lease_until
)
SELECT * FROM leased
"""

# Attempts from column arrays, skipping deliveries deleted meanwhile (their hook was
# deleted while they were sent).
INSERT_ATTEMPTS = """
INSERT INTO attempts (delivery_seq, hook_id, number, started_at, duration_ms, request_url,
    request_headers, status_code, response_headers, response_body, response_truncated,
    error_kind, error_message, next_attempt_at, request_body)
SELECT a.* FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::float8[], %s::float8[],
    %s::text[], %s::text[], %s::int[], %s::text[], %s::bytea[], %s::bool[], %s::text[],
    %s::text[], %s::float8[], %s::bytea[]) AS a(ds, hid, num, st, dur, url, rh, sc, resh,
    body, trunc, ek, em, nat, reqb)
WHERE EXISTS (SELECT 1 FROM deliveries WHERE seq = a.ds)
"""

UPDATE_DELIVERIES = """
UPDATE deliveries d SET status = v.status, attempts = v.attempts, next_attempt_at = v.nat,
    lease_until = NULL, last_status_code = v.sc, last_error_kind = v.ek,
    last_duration_ms = v.dur, updated_at = %s
FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::float8[], %s::int[], %s::text[],
    %s::float8[]) AS v(seq, status, attempts, nat, sc, ek, dur)
WHERE d.seq = v.seq
"""

# SEEK and LEASE in one statement: at most %(limit)s of the sought deliveries, oldest due
# first, leased and noted as LEASE does (%(hooks)s[i] wants at most %(counts)s[i]).
SEEK_AND_LEASE = """
WITH picked AS (
    SELECT c.seq FROM unnest(%(hooks)s::bigint[], %(counts)s::int[]) AS h(id, n)
    CROSS JOIN LATERAL (
        SELECT seq, next_attempt_at FROM deliveries
        WHERE hook_id = h.id AND status = 'pending' AND next_attempt_at <= %(now)s
          AND (lease_until IS NULL OR lease_until < %(now)s)
          AND (attempts = 0 OR NOT (%(fresh_all)s OR h.id = ANY(%(fresh)s)))
        ORDER BY next_attempt_at, seq LIMIT h.n FOR UPDATE SKIP LOCKED
    ) c ORDER BY c.next_attempt_at, c.seq LIMIT %(limit)s
), leased AS (
    UPDATE deliveries d SET lease_until = %(until)s FROM events e
    WHERE d.seq IN (SELECT seq FROM picked) AND e.seq = d.event_seq
    RETURNING d.next_attempt_at, d.seq, d.id, d.hook_id, d.event_type, e.body, d.attempts
), noted AS (
    INSERT INTO delivery_leases SELECT seq, hook_id, %(until)s FROM leased
    ON CONFLICT (seq) DO UPDATE SET hook_id = excluded.hook_id,
        lease_until = excluded.lease_until
)
SELECT * FROM leased
"""

# Each engine's leased deliveries per hook, for every active hook not listed (full): a
# statement of its own after the advisory locks (see PostgresStore.claim_due).
LEASES_PER_HOOK = """
SELECT hook_id, count(*) FROM delivery_leases
WHERE lease_until >= %s
  AND hook_id IN (SELECT id FROM hooks WHERE active AND id <> ALL(%s))
GROUP BY hook_id
"""

# Whether each hook's attempts are failing, in one statement: %(hooks)s[i] gets
# %(changes)s[i] (clear: failing no more; set: failing since now; set_if_unset: since
# now unless it already was). Rows are locked in id order, so two engines recording at
# once never wait for each other in a circle, and a hook whose value would not change
# is not written.
FAILING_SINCE = """
WITH wanted AS (
    SELECT h.id, v.change FROM hooks h
    JOIN unnest(%(hooks)s::bigint[], %(changes)s::text[]) AS v(id, change) ON h.id = v.id
    WHERE (v.change = 'clear' AND h.failing_since IS NOT NULL) OR v.change = 'set'
       OR (v.change = 'set_if_unset' AND h.failing_since IS NULL)
    ORDER BY h.id FOR UPDATE OF h
)
UPDATE hooks h SET failing_since = CASE WHEN w.change = 'clear' THEN NULL
    ELSE %(now)s END
FROM wanted w WHERE h.id = w.id
"""
