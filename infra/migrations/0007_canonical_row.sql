-- 0007_canonical_row: the canonical rendering of an event as a function of its
-- own, so the monthly export writes the very text the chain hashes instead of
-- repeating the rendering in its query. event_digest keeps its signature and
-- its output: sha256(prev_hash || canonical text in UTF-8), as in 0002_chain.sql.

-- A jsonb array (fixed order, escaped strings) with occurred_at in UTC, so the
-- text does not depend on the session's TimeZone. Without `set search_path`
-- for the reason 0002_chain.sql gives: a single SQL expression, inlined.
create or replace function ops_audit.event_canonical(
    chain_seq   bigint,
    id          bigint,
    occurred_at timestamptz,
    actor_sub   text,
    actor_roles text[],
    action      text,
    target      text,
    payload     jsonb
)
    returns text
    language sql
    stable
as $$
    select pg_catalog.jsonb_build_array(
        chain_seq,
        id,
        pg_catalog.to_char(pg_catalog.timezone('UTC', occurred_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        actor_sub,
        pg_catalog.to_jsonb(actor_roles),
        action,
        target,
        payload
    )::pg_catalog.text
$$;

create or replace function ops_audit.event_digest(
    prev_hash   bytea,
    chain_seq   bigint,
    id          bigint,
    occurred_at timestamptz,
    actor_sub   text,
    actor_roles text[],
    action      text,
    target      text,
    payload     jsonb
)
    returns bytea
    language sql
    stable
as $$
    select pg_catalog.sha256(prev_hash operator(pg_catalog.||) pg_catalog.convert_to(ops_audit.event_canonical(
        chain_seq, id, occurred_at, actor_sub, actor_roles, action, target, payload
    ), 'UTF8'))
$$;

-- Readable by whoever may run event_digest: the reader group (the export and verify).
revoke all on function
    ops_audit.event_canonical(bigint, bigint, timestamptz, text, text[], text, text, jsonb)
from public;
grant execute on function
    ops_audit.event_canonical(bigint, bigint, timestamptz, text, text[], text, text, jsonb)
    to ops_audit_reader;
