-- 0002_chain: claim helpers, the row digest, and the triggers that append
-- to the hash chain and refuse every change.
--
-- Roles come only from the JSON array under the configured claim
-- (ops_audit.settings.roles_claim). A missing claim, a string, an object,
-- an unknown or look-alike name, or roles in user_metadata grant nothing.

-- Functions without `set search_path`: request_claims, jwt_sub and
-- event_digest are single SQL expressions that PostgreSQL inlines into the
-- calling query; a SET clause would forbid that and re-plan them on every
-- call (measured on PostgreSQL 15: request_claims 22 us per call with SET,
-- 4 us without). They run with
-- the caller's rights only, and every name in them is schema-qualified, so
-- the caller's search_path cannot redirect them.

-- The request's JWT claims, read from the same settings and in the same way
-- as Supabase's auth.jwt() (tests/audit/test_catalog.py compares the two).
-- Not a call to auth.jwt(): the backend's writer login has no USAGE on
-- Supabase's auth schema, and the admin cannot grant it (no grant option).
create or replace function ops_audit.request_claims()
    returns jsonb
    language sql
    stable
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
    )::pg_catalog.jsonb
$$;

-- The caller's JWT subject, or null.
create or replace function ops_audit.jwt_sub()
    returns text
    language sql
    stable
as $$
    select nullif(ops_audit.request_claims() operator(pg_catalog.->>) 'sub', '')
$$;

-- The caller's ops roles: the JSON strings in the claim's array that are ops
-- roles, sorted and without repeats. The number 1 or {"ops-admin": true} is
-- no role, and neither is a string or object in place of the array.
create or replace function ops_audit.jwt_ops_roles()
    returns text[]
    language plpgsql
    stable
    set search_path = ''
as $$
declare
    claimed jsonb;
    known   text[];
begin
    select ops_audit.request_claims() -> s.roles_claim, s.ops_roles
    into claimed, known
    from ops_audit.settings as s;
    if jsonb_typeof(claimed) is distinct from 'array' then
        return '{}';
    end if;
    return array(
        select distinct element #>> '{}'
        from jsonb_array_elements(claimed) as element
        where jsonb_typeof(element) = 'string' and element #>> '{}' = any (known)
        order by 1
    );
end
$$;

-- Whether the caller holds an ops role that reads the whole trail.
create or replace function ops_audit.jwt_reads_all()
    returns boolean
    language plpgsql
    stable
    set search_path = ''
as $$
begin
    return coalesce((select ops_audit.jwt_ops_roles() && s.read_all_roles from ops_audit.settings as s), false);
end
$$;

-- sha256 over the previous hash and a canonical rendering of the row: a
-- jsonb array (fixed order, escaped strings) with occurred_at rendered in
-- UTC, so the digest does not depend on the session's TimeZone.
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
    select pg_catalog.sha256(prev_hash operator(pg_catalog.||) pg_catalog.convert_to(pg_catalog.jsonb_build_array(
        chain_seq,
        id,
        pg_catalog.to_char(pg_catalog.timezone('UTC', occurred_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        actor_sub,
        pg_catalog.to_jsonb(actor_roles),
        action,
        target,
        payload
    )::pg_catalog.text, 'UTF8'))
$$;

-- BEFORE INSERT, first: checks the actor against the JWT and sets the
-- server-side actor columns (actor_sub when left out, actor_roles always).
create or replace function ops_audit.stamp_actor()
    returns trigger
    language plpgsql
    volatile
    set search_path = ''
as $$
declare
    caller_sub   text   := ops_audit.jwt_sub();
    caller_roles text[] := ops_audit.jwt_ops_roles();
begin
    if caller_sub is null then
        raise exception 'ops_audit: the request carries no JWT sub' using errcode = '42501';
    end if;
    new.actor_sub := coalesce(new.actor_sub, caller_sub);
    if new.actor_sub is distinct from caller_sub then
        raise exception 'ops_audit: actor_sub must be the JWT sub' using errcode = '42501';
    end if;
    if cardinality(caller_roles) = 0 then
        raise exception 'ops_audit: the JWT carries no ops role' using errcode = '42501';
    end if;
    -- The partition is chosen before BEFORE triggers run: refuse, don't overwrite.
    if new.occurred_at is distinct from now() then
        raise exception 'ops_audit: occurred_at is set by the server' using errcode = '42501';
    end if;
    new.actor_roles := caller_roles;
    return new;
end
$$;

-- BEFORE INSERT, second: links the row into the chain. SECURITY DEFINER
-- because it updates chain_head, which callers cannot touch; it uses only
-- the row stamp_actor checked, so no one can write as someone else.
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
    -- The row lock serialises appenders until commit: chain_seq has no gaps
    -- and follows commit order, which an identity column would not.
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

-- BEFORE UPDATE/DELETE/TRUNCATE: the trail is append-only, for everyone.
create or replace function ops_audit.refuse_change()
    returns trigger
    language plpgsql
    volatile
    set search_path = ''
as $$
begin
    raise exception 'ops_audit: % on %.% is not allowed; the trail is append-only',
        tg_op, tg_table_schema, tg_table_name
        using errcode = '42501';
end
$$;

-- Row triggers on the parent are cloned onto every partition, present and
-- future. BEFORE triggers fire in name order: stamp (1), then link (2).
create or replace trigger events_1_stamp_actor
    before insert on ops_audit.events
    for each row execute function ops_audit.stamp_actor();

create or replace trigger events_2_link_chain
    before insert on ops_audit.events
    for each row execute function ops_audit.link_event();

create or replace trigger events_refuse_update_delete
    before update or delete on ops_audit.events
    for each row execute function ops_audit.refuse_change();

-- A statement trigger covers TRUNCATE of the parent only; each partition
-- gets its own (ops_audit.create_month_partition).
create or replace trigger events_refuse_truncate
    before truncate on ops_audit.events
    for each statement execute function ops_audit.refuse_change();

create or replace trigger chain_head_refuse_truncate
    before truncate on ops_audit.chain_head
    for each statement execute function ops_audit.refuse_change();

create or replace trigger chain_head_refuse_delete
    before delete on ops_audit.chain_head
    for each row execute function ops_audit.refuse_change();
