-- 0017_metrics_schema: the ops_metrics settings row.
--
-- Engineering metrics snapshots (infra/metrics/) live apart from the audit
-- trail, in schema ops_metrics. Assumes, and never creates, what Pulumi declares
-- (infra/components/metrics.py, from infra/derive/metrics.py):
--   * schema ops_metrics, owned by the NOLOGIN role ops_metrics_owner, with
--     USAGE for the groups, `authenticated` and ops_audit_writer;
--   * ops_metrics_writer, the daily job's group (its login `ops_metrics_job` is
--     the model secret supabase/ops-metrics-writer): appends snapshots, nothing else;
--   * ops_metrics_reader, the Grafana datasource's group: reads every snapshot.
-- The runner creates the NOLOGIN roles and the schema only where missing
-- (`runner.ensure_ops_roles`), so a fresh database migrates on its own.

-- One row: the ops roles whose holders read snapshots (those holding the
-- catalogue's publication.read_permission, analytics:read), kept current by
-- the migration runner from the access model.
create table if not exists ops_metrics.settings (
    -- Always true: the primary key then admits a single row.
    singleton   boolean primary key default true,
    -- Ops roles (as in the JWT's roles claim) that may read ops_metrics.snapshots.
    read_roles  text[]  not null default '{}',
    -- The single row.
    constraint settings_singleton check (singleton)
);
alter table ops_metrics.settings owner to ops_metrics_owner;
revoke all on ops_metrics.settings from public;
