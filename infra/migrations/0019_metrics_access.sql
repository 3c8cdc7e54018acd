-- 0019_metrics_access: who reads and who appends ops_metrics.snapshots.
--
-- Read: holders of an ops role listed in ops_metrics.settings.read_roles (the
--   roles holding analytics:read), through PostgREST (`authenticated`) or the
--   Ops Hub backend's login acting with their claims (`ops_audit_writer`); and the
--   Grafana datasource's group `ops_metrics_reader`. Anyone else sees nothing.
-- Append: only the job's group `ops_metrics_writer`. Nobody updates or deletes.
-- Policies wrap the helper in (select ...) so it runs once per statement.

-- True when the caller's JWT carries an ops role that reads snapshots.
create or replace function ops_metrics.jwt_reads_metrics()
    returns boolean
    language plpgsql
    stable
    set search_path = ''
as $$
begin
    return coalesce((select ops_audit.jwt_ops_roles() && s.read_roles from ops_metrics.settings as s), false);
end
$$;
alter function ops_metrics.jwt_reads_metrics() owner to ops_metrics_owner;

alter table ops_metrics.snapshots enable row level security;
alter table ops_metrics.snapshots force row level security;

do $$
begin
    if not exists (select from pg_policies where schemaname = 'ops_metrics' and policyname = 'snapshots_select_readers') then
        create policy snapshots_select_readers on ops_metrics.snapshots
            for select to authenticated, ops_audit_writer
            using ((select ops_metrics.jwt_reads_metrics()));
    end if;
    if not exists (select from pg_policies where schemaname = 'ops_metrics' and policyname = 'snapshots_select_dashboard') then
        create policy snapshots_select_dashboard on ops_metrics.snapshots
            for select to ops_metrics_reader
            using (true);
    end if;
    if not exists (select from pg_policies where schemaname = 'ops_metrics' and policyname = 'snapshots_insert_job') then
        create policy snapshots_insert_job on ops_metrics.snapshots
            for insert to ops_metrics_writer
            with check (true);
    end if;
end
$$;

-- Tables: nothing for PUBLIC (so nothing for anon or service_role).
revoke all on ops_metrics.snapshots from public;
grant select on ops_metrics.snapshots to authenticated, ops_audit_writer, ops_metrics_reader;
grant insert (as_of, generated_at, schema_version, catalogue_sha256, snapshot) on ops_metrics.snapshots to ops_metrics_writer;
grant select on ops_metrics.settings to authenticated, ops_audit_writer;

revoke all on function ops_metrics.jwt_reads_metrics(), ops_metrics.refuse_change() from public;
grant execute on function ops_metrics.jwt_reads_metrics() to authenticated, ops_audit_writer;
