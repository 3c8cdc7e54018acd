-- 0006_chain_queue: appenders queue for the chain on a table lock instead of
-- waiting on the chain_head row.
--
-- Every appender updates the one chain_head row, so a waiter on its row lock
-- sleeps on the holder's transaction, wakes, and re-reads the newest row
-- version; with eight writers on two cores that held the trail to about 40%
-- of a plain table's insert rate. A self-exclusive table lock is handed from
-- one waiter to the next by the lock manager (docs/benchmarks.md,
-- docs/adr/0004-hash-chained-audit-trail.md). Only the owner can take it:
-- callers hold no privilege on chain_head, so no session can stall the trail,
-- as anyone could with an advisory lock. The row lock stays, so an appender
-- whose REPEATABLE READ snapshot predates the head fails instead of forking
-- the chain. Everything else is as in 0002_chain.sql.
create or replace function ops_audit.link_event()
    returns trigger
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    head ops_audit.chain_head;
begin
    -- Held until commit: chain_seq has no gaps and follows commit order.
    lock table ops_audit.chain_head in share row exclusive mode;
    select * into strict head from ops_audit.chain_head for update;
    new.chain_seq := head.last_seq + 1;
    new.prev_hash := head.last_hash;
    new.row_hash  := ops_audit.event_digest(
        new.prev_hash, new.chain_seq, new.id, new.occurred_at,
        new.actor_sub, new.actor_roles, new.action, new.target, new.payload
    );
    update ops_audit.chain_head set last_seq = new.chain_seq, last_hash = new.row_hash;
    return new;
end
$$;
