-- 0018_metrics_snapshots: the append-only table of published snapshots.
--
-- The daily job appends one row per good (complete) snapshot after writing it to
-- S3; a partial run appends nothing, so the last good row stays the latest.
-- Rows are never changed or removed: no grant allows it and the triggers refuse
-- it for everyone, the owner included.

create table if not exists ops_metrics.snapshots (
    -- Surrogate id.
    id              bigint      generated always as identity primary key,
    -- The snapshot's as_of (the end of its windows).
    as_of           timestamptz not null,
    -- When the job read the sources.
    generated_at    timestamptz not null,
    -- When the row was appended (a back-fill appends rows for old as_of days).
    published_at    timestamptz not null default now(),
    -- The snapshot JSON Schema's version (infra/metrics/snapshot.schema.json).
    schema_version  integer     not null,
    -- sha256 of the metrics catalogue the numbers were computed with.
    catalogue_sha256 text       not null,
    -- The whole snapshot document.
    snapshot        jsonb       not null,
    -- Only complete snapshots are published.
    constraint snapshots_complete check (snapshot ->> 'status' = 'complete'),
    -- The columns repeat the document; they must agree with it.
    constraint snapshots_columns_match check (
        (snapshot ->> 'schema_version')::integer = schema_version
        and snapshot ->> 'catalogue_sha256' = catalogue_sha256
    ),
    -- A sha256 digest.
    constraint snapshots_catalogue_sha256 check (catalogue_sha256 ~ '^[0-9a-f]{64}$')
);
alter table ops_metrics.snapshots owner to ops_metrics_owner;

-- The dashboard reads the latest row per as_of over a time range.
create index if not exists snapshots_as_of on ops_metrics.snapshots (as_of desc, published_at desc);

-- BEFORE UPDATE/DELETE/TRUNCATE: published snapshots are append-only, for everyone.
create or replace function ops_metrics.refuse_change()
    returns trigger
    language plpgsql
    volatile
    set search_path = ''
as $$
begin
    raise exception 'ops_metrics: % on %.% is not allowed; snapshots are append-only',
        tg_op, tg_table_schema, tg_table_name
        using errcode = '42501';
end
$$;
alter function ops_metrics.refuse_change() owner to ops_metrics_owner;

create or replace trigger snapshots_refuse_update_delete
    before update or delete on ops_metrics.snapshots
    for each row execute function ops_metrics.refuse_change();

create or replace trigger snapshots_refuse_truncate
    before truncate on ops_metrics.snapshots
    for each statement execute function ops_metrics.refuse_change();
