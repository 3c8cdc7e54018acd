-- 0009_safeupdate_link: the chain link names its row, so pg-safeupdate lets it run.
--
-- Supabase preloads pg-safeupdate for PostgREST's login (supabase/postgres
-- migration 20220118070449_enable-safeupdate-postgrest.sql), and it refuses
-- every UPDATE or DELETE without a WHERE clause, inside trigger functions too,
-- with `[21000] UPDATE requires a WHERE clause`. link_event (0006_chain_queue.sql)
-- updated chain_head without one, so every append through PostgREST failed.
-- `where singleton` selects the one row the table admits; nothing else changes.
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
    select * into strict head from ops_audit.chain_head where singleton for update;
    new.chain_seq := head.last_seq + 1;
    new.prev_hash := head.last_hash;
    new.row_hash  := ops_audit.event_digest(
        new.prev_hash, new.chain_seq, new.id, new.occurred_at,
        new.actor_sub, new.actor_roles, new.action, new.target, new.payload
    );
    update ops_audit.chain_head
    set last_seq = new.chain_seq, last_hash = new.row_hash
    where singleton;
    return new;
end
$$;
