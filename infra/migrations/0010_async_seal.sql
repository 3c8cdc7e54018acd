-- 0010_async_seal: appends become plain inserts under RLS; a sealer links them
-- into the hash chain afterwards, in its own append-only table.
--
-- Why (docs/adr/0004-hash-chained-audit-trail.md, docs/benchmarks.md): linking
-- each row as it was inserted held the chain lock until commit, through the
-- commit's WAL flush, so with durable commits every appender waited for every
-- other one's flush and the trail reached about a quarter of a plain table's
-- rate. Now:
--   * ops_audit.events stays insert-only and no API transaction updates any
--     row (nothing for pg-safeupdate to refuse, no lock shared by appenders);
--     each event records the transaction that inserted it (xact_id);
--   * ops_audit.seal_events(), run every second as the trail's owner (pg_cron,
--     0011_seal_schedule.sql), links every event whose transaction has ended
--     into ops_audit.seals, in (xact_id, id) order, and moves the chain head;
--   * `opshub audit verify` walks the seals and reports the unsealed tail
--     with its age.
-- The chain's rows and digest are unchanged: seal n holds chain_seq n, the
-- event's id, prev_hash and row_hash = ops_audit.event_digest(prev_hash,
-- chain_seq, id, occurred_at, ...), as the event row held them before. Events
-- linked before this migration keep their links, copied into seals.

-- The chain, one row per sealed event, in chain order.
create table if not exists ops_audit.seals (
    -- Position in the chain: 1, 2, ... without gaps.
    chain_seq   bigint      primary key,
    -- The sealed event (ops_audit.events.id).
    event_id    bigint      not null,
    -- row_hash of the previous seal; 32 zero bytes before the first.
    prev_hash   bytea       not null,
    -- sha256 over prev_hash and the event's canonical rendering.
    row_hash    bytea       not null,
    -- When the event was sealed (for events linked before 0010: when appended).
    sealed_at   timestamptz not null default now(),
    -- An event is sealed once.
    constraint seals_event_once unique (event_id),
    -- Sequence numbers start at 1.
    constraint seals_chain_seq_positive check (chain_seq > 0),
    -- Digests are sha256.
    constraint seals_hashes_sha256 check (octet_length(prev_hash) = 32 and octet_length(row_hash) = 32)
);

-- The sealer's horizon: every event whose transaction id is below it is sealed
-- or was rolled back. Starts at 0: the first run looks at every event.
alter table ops_audit.chain_head add column if not exists sealed_below xid8 not null default '0';

-- The inserting transaction of each event. Server-set: no client has INSERT on
-- it (0003_access.sql grants four columns). A transaction's id is assigned by
-- its first write, so it orders events by transaction, and the sealer can tell
-- from its snapshot which transactions can still commit events.
alter table ops_audit.events add column if not exists xact_id xid8 not null default pg_catalog.pg_current_xact_id();
create index if not exists events_xact_id on ops_audit.events (xact_id);

-- Keep the links made so far, then take the inline chain out of events.
do $$
begin
    if exists (select from pg_catalog.pg_attribute
               where attrelid = 'ops_audit.events'::regclass and attname = 'chain_seq' and not attisdropped) then
        insert into ops_audit.seals (chain_seq, event_id, prev_hash, row_hash, sealed_at)
        select e.chain_seq, e.id, e.prev_hash, e.row_hash, e.occurred_at
        from ops_audit.events as e
        on conflict do nothing;
        if (select count(*) from ops_audit.seals) <> (select count(*) from ops_audit.events) then
            raise exception 'ops_audit: copying the chain into ops_audit.seals lost links; nothing was changed';
        end if;
        drop trigger if exists events_2_link_chain on ops_audit.events;
        alter table ops_audit.events drop constraint if exists events_pkey;
        alter table ops_audit.events add constraint events_pkey primary key (id, occurred_at);
        alter table ops_audit.events drop column chain_seq, drop column prev_hash, drop column row_hash;
    end if;
end
$$;
drop function if exists ops_audit.link_event();

-- Links every event whose transaction has ended and that is not sealed yet,
-- in (xact_id, id) order, and returns how many. Events commit out of id order
-- (ids are drawn before commit), so the sealer never seals past its horizon:
-- pg_snapshot_xmin of its snapshot, below which every transaction has ended.
-- An event committed later always has an xact_id at or above that horizon,
-- so it is sealed by a later run, after the ones sealed now, never skipped.
-- A long-open writing transaction holds the horizon back; verify shows the
-- tail's age. Concurrent runs queue on the head row.
-- SECURITY DEFINER: it runs as the trail's owner, whichever member calls it
-- (the admin's pg_cron job); owner-only, like the other maintenance routines.
create or replace function ops_audit.seal_events()
    returns integer
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    head    ops_audit.chain_head;
    horizon xid8;
    event   record;
    sealed  integer := 0;
begin
    select * into strict head from ops_audit.chain_head where singleton for update;
    horizon := greatest(head.sealed_below, pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()));
    for event in
        select e.id, e.occurred_at, e.actor_sub, e.actor_roles, e.action, e.target, e.payload
        from ops_audit.events as e
        where e.xact_id >= head.sealed_below and e.xact_id < horizon
          and not exists (select from ops_audit.seals as s where s.event_id = e.id)
        order by e.xact_id, e.id
    loop
        head.last_seq := head.last_seq + 1;
        insert into ops_audit.seals (chain_seq, event_id, prev_hash, row_hash)
        values (head.last_seq, event.id, head.last_hash, ops_audit.event_digest(
            head.last_hash, head.last_seq, event.id, event.occurred_at,
            event.actor_sub, event.actor_roles, event.action, event.target, event.payload
        ))
        returning row_hash into head.last_hash;
        sealed := sealed + 1;
    end loop;
    update ops_audit.chain_head
    set last_seq = head.last_seq, last_hash = head.last_hash, sealed_below = horizon
    where singleton;
    return sealed;
end
$$;

-- detach_partition (0004_partitions.sql), reading the chain from the seals: it
-- also refuses a month with events not sealed yet, which the export would miss.
create or replace procedure ops_audit.detach_partition(month date, exported_rows bigint, exported_last_hash bytea)
    language plpgsql
    set search_path = ''
as $$
declare
    name        text := ops_audit.partition_name(date_trunc('month', month)::date);
    oldest      text;
    found_rows  bigint;
    unsealed    bigint;
    first_seq   bigint;
    last_seq    bigint;
    last_hash   bytea;
begin
    select c.relname into oldest
    from pg_catalog.pg_inherits as i
    join pg_catalog.pg_class as c on c.oid = i.inhrelid
    where i.inhparent = 'ops_audit.events'::regclass
    order by c.relname
    limit 1;
    if oldest is distinct from name then
        raise exception 'ops_audit: % is not the oldest attached partition (that is %)', name, oldest;
    end if;

    execute format(
        'select count(*), count(*) filter (where s.chain_seq is null), min(s.chain_seq), max(s.chain_seq) '
        'from ops_audit.events as e left join ops_audit.seals as s on s.event_id = e.id '
        'where e.tableoid = %L::regclass', 'ops_audit.' || quote_ident(name)
    ) into found_rows, unsealed, first_seq, last_seq;
    if unsealed > 0 then
        raise exception 'ops_audit: % holds % events not sealed yet; run select ops_audit.seal_events() and export again',
            name, unsealed;
    end if;
    select s.row_hash into last_hash from ops_audit.seals as s where s.chain_seq = last_seq;
    if found_rows is distinct from exported_rows or last_hash is distinct from exported_last_hash then
        raise exception 'ops_audit: export of % does not match (% rows, last hash %); not detached',
            name, found_rows, encode(last_hash, 'hex');
    end if;

    if found_rows = 0 then
        -- An empty month moves no anchor: carry the previous one forward.
        select d.last_seq, d.last_hash into last_seq, last_hash
        from ops_audit.detached_partitions as d order by d.last_seq desc limit 1;
        last_seq  := coalesce(last_seq, 0);
        last_hash := coalesce(last_hash, decode(repeat('00', 32), 'hex'));
        first_seq := last_seq;
    end if;
    insert into ops_audit.detached_partitions (partition_name, first_seq, last_seq, last_hash, row_count)
    values (name, first_seq, last_seq, last_hash, found_rows);
    execute format('alter table ops_audit.events detach partition ops_audit.%I', name);
    -- Renamed, so that the month's name is free and the table says what it is.
    execute format('alter table ops_audit.%I rename to %I', name, name || '_detached');
    execute format(
        'create or replace trigger %I before update or delete on ops_audit.%I '
        'for each row execute function ops_audit.refuse_change()',
        name || '_refuse_update_delete', name || '_detached'
    );
end
$$;

-- The seals are append-only for everyone, like the events.
create or replace trigger seals_refuse_update_delete
    before update or delete on ops_audit.seals
    for each row execute function ops_audit.refuse_change();

create or replace trigger seals_refuse_truncate
    before truncate on ops_audit.seals
    for each statement execute function ops_audit.refuse_change();

-- Readable by the reader group (export, verify); the API roles get nothing.
revoke all on ops_audit.seals from public;
grant select on ops_audit.seals to ops_audit_reader;
revoke all on function ops_audit.seal_events() from public;

-- verify recomputes every digest in one pass over the seals joined to their
-- events, in no order, so PostgreSQL may spread it over parallel workers: the
-- digest is a pure function of its arguments.
alter function ops_audit.event_canonical(bigint, bigint, timestamptz, text, text[], text, text, jsonb) parallel safe;
alter function ops_audit.event_digest(bytea, bigint, bigint, timestamptz, text, text[], text, text, jsonb) parallel safe;
