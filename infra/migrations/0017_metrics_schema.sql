-- 0017_metrics_schema: the ops_metrics schema, its roles and its settings row.
--
-- Engineering metrics snapshots (infra/metrics/) live apart from the audit
-- trail. Roles, all NOLOGIN and without attributes:
--   * ops_metrics_owner   owns the schema and its objects;
--   * ops_metrics_writer  the daily job's group: appends snapshots, nothing else
--                         (its login `ops_metrics_job`, the model secret
--                         supabase/ops-metrics-writer, is declared by Pulumi:
--                         infra/components/metrics.py);
--   * ops_metrics_reader  the Grafana datasource's group: reads every snapshot.
-- They are created here only where missing, as the runner does for ops_audit's
-- roles, so a fresh database migrates on its own. The admin the runner connects
-- as joins the owner role to hand it the objects.

do $$
begin
    if not exists (select from pg_roles where rolname = 'ops_metrics_owner') then
        create role ops_metrics_owner nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'ops_metrics_writer') then
        create role ops_metrics_writer nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'ops_metrics_reader') then
        create role ops_metrics_reader nologin;
    end if;
    if not pg_has_role(current_user, 'ops_metrics_owner', 'MEMBER') then
        grant ops_metrics_owner to current_user;
    end if;
end
$$;

create schema if not exists ops_metrics authorization ops_metrics_owner;

-- One row: the ops roles whose holders read snapshots (those holding the
-- catalogue's publication.read_permission, analytics:read), kept current by
-- the migration runner from the access model (infra/migrations/metrics_settings.py).
create table if not exists ops_metrics.settings (
    -- Always true: the primary key then admits a single row.
    singleton   boolean primary key default true,
    -- Ops roles (as in the JWT's roles claim) that may read ops_metrics.snapshots.
    read_roles  text[]  not null default '{}',
    -- The single row.
    constraint settings_singleton check (singleton)
);
alter table ops_metrics.settings owner to ops_metrics_owner;

revoke all on schema ops_metrics from public;
grant usage on schema ops_metrics to ops_metrics_writer, ops_metrics_reader, authenticated, ops_audit_writer;
revoke all on ops_metrics.settings from public;
