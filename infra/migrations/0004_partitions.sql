-- 0004_partitions: monthly partitions, each protected on its own, and the
-- owner-only procedure that detaches the oldest one after its export
-- (docs/runbook.md, "Audit trail: retention and export").
--
-- Owner-only: EXECUTE is revoked from PUBLIC and granted to no one, so only
-- ops_audit_owner and its members (the admin Pulumi connects as) can run them.

-- The partition holding the month of `month`: events_YYYY_MM.
create or replace function ops_audit.partition_name(month date)
    returns text
    language sql
    immutable
    set search_path = ''
as $$
    select 'events_' || to_char(month, 'YYYY_MM')
$$;

-- Creates the month's partition if missing, and protects it on its own:
-- RLS enabled and forced with no policy (direct reads see nothing), no
-- privileges for anyone, and its own TRUNCATE trigger, because the parent's
-- does not fire for `truncate <partition>`. Idempotent; returns the name.
-- SECURITY DEFINER so that the partition is owned by ops_audit_owner,
-- whoever of its members runs it.
create or replace function ops_audit.create_month_partition(month date)
    returns text
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    first_day date        := date_trunc('month', month)::date;
    name      text        := ops_audit.partition_name(first_day);
    from_ts   timestamptz := first_day::timestamp at time zone 'UTC';
    to_ts     timestamptz := (first_day + interval '1 month')::timestamp at time zone 'UTC';
begin
    if to_regclass(format('ops_audit.%I', name)) is null then
        execute format(
            'create table ops_audit.%I partition of ops_audit.events for values from (%L) to (%L)',
            name, from_ts, to_ts
        );
    end if;
    execute format('alter table ops_audit.%I enable row level security, force row level security', name);
    execute format('revoke all on ops_audit.%I from public', name);
    execute format(
        'create or replace trigger %I before truncate on ops_audit.%I '
        'for each statement execute function ops_audit.refuse_change()',
        name || '_refuse_truncate', name
    );
    return name;
end
$$;

-- Partitions from the current UTC month to `months_ahead` months ahead.
-- Run monthly (pg_cron, or the export job's maintenance step).
create or replace function ops_audit.ensure_partitions(months_ahead integer default 12)
    returns setof text
    language sql
    volatile
    set search_path = ''
as $$
    select ops_audit.create_month_partition((date_trunc('month', now() at time zone 'UTC') + step * interval '1 month')::date)
    from generate_series(0, months_ahead) as step
$$;

-- Detaches the month's partition once its export is confirmed, and renames it
-- events_YYYY_MM_detached until it is archived and dropped. Refuses unless
-- it is the oldest attached partition (so the attached chain stays contiguous)
-- and the export's row count and last row_hash match. Records where the
-- attached chain now starts, so `opshub audit verify` continues from there,
-- and gives the detached table its own UPDATE/DELETE guard (the cloned row
-- triggers leave with the partition).
create or replace procedure ops_audit.detach_partition(month date, exported_rows bigint, exported_last_hash bytea)
    language plpgsql
    set search_path = ''
as $$
declare
    name        text := ops_audit.partition_name(date_trunc('month', month)::date);
    oldest      text;
    found_rows  bigint;
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
        'select count(*), min(e.chain_seq), max(e.chain_seq) from ops_audit.events as e '
        'where e.tableoid = %L::regclass', 'ops_audit.' || quote_ident(name)
    ) into found_rows, first_seq, last_seq;
    select e.row_hash into last_hash from ops_audit.events as e where e.chain_seq = last_seq;
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

revoke all on function ops_audit.partition_name(date), ops_audit.create_month_partition(date),
    ops_audit.ensure_partitions(integer) from public;
revoke all on procedure ops_audit.detach_partition(date, bigint, bytea) from public;

select ops_audit.ensure_partitions();
