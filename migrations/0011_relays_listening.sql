-- depends: 0010_leases
-- NOTIFY only while a relay waits for one. A transaction that sends a NOTIFY takes a lock
-- on the whole PostgreSQL instance at commit and holds it through the commit's WAL flush
-- (async.c's PreCommit_Notify: notifications queued in commit order), so every order's
-- transaction committed one at a time: measured with pgbench (32 clients, an INSERT in a
-- transaction), 10,450 commits/s without the NOTIFY and 1,193 with it; and one backend
-- descheduled while holding it stalls every writer. A relay that is busy (its claims come
-- back full) needs no NOTIFY: it claims again anyway. So the trigger notifies only while
-- some relay says it is listening, which a relay does when it runs out of work.

-- The relays waiting for a NOTIFY: a row per relay while it waits (relay/wakeups.py).
-- `since` is refreshed every minute while it waits; a row older than 5 minutes is a relay
-- that died waiting, and is ignored (its row is removed by a graceful stop).
CREATE TABLE relays_listening (
    relay_id uuid PRIMARY KEY,
    since    timestamptz NOT NULL
);

-- Every outbox writer takes this advisory lock (key 7012026) shared, then looks for a
-- listening relay in a fresh snapshot (READ COMMITTED, the service's isolation level). A
-- relay starts listening under the same lock taken exclusively, so it waits for every
-- writer that already looked and found none to commit: the relay's next claim, after
-- this, sees their rows. No row is left waiting for the poll.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7012026);
    IF EXISTS (SELECT 1 FROM relays_listening WHERE since > now() - interval '5 minutes') THEN
        PERFORM pg_notify('outbox', '');
    END IF;
    RETURN NULL;
END;
$$;

-- A relay starts (or goes on) listening: it is committed once every writer that found no
-- listener has committed.
CREATE FUNCTION relay_listen(relay uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7012026);
    INSERT INTO relays_listening (relay_id, since) VALUES (relay, now())
        ON CONFLICT (relay_id) DO UPDATE SET since = excluded.since;
END;
$$;
