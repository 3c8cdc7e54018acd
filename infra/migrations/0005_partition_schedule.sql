-- 0005_partition_schedule: keeps the monthly partitions of 0004_partitions.sql
-- ahead with pg_cron, when the database has it (docs/runbook.md, "Keep
-- partitions ahead").
--
-- Never creates or alters pg_cron: on Supabase it is enabled from the
-- dashboard (Database -> Extensions -> pg_cron), which gives the admin
-- (`postgres`) the use of the cron schema. Without it this only leaves a
-- notice, and partitions must be kept ahead by hand.
--
-- Who the job runs as: pg_cron runs a job as the user who scheduled it, so
-- as the admin the runner connects as. ops_audit_owner cannot be that user:
-- it is NOLOGIN, and pg_cron opens a session for every run. The admin is a
-- member of ops_audit_owner (the runner and Pulumi make it one) and gets
-- EXECUTE on the owner-only ensure_partitions through it; the partitions are
-- still owned by ops_audit_owner, because create_month_partition is SECURITY
-- DEFINER.

-- Schedules (or updates: cron.schedule upserts by job name and user) the
-- monthly job that runs ops_audit.ensure_partitions() at 03:00 UTC on the
-- 1st, as the caller. Returns the job id, or null when pg_cron is absent.
-- Refuses a caller without ops_audit_owner's privileges, whose job would
-- fail every month. Owner-only, like the function it schedules; run it by
-- hand after enabling pg_cron on a database migrated without it.
create or replace function ops_audit.schedule_partition_job()
    returns bigint
    language plpgsql
    volatile
    set search_path = ''
as $$
begin
    if not exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
        raise notice 'ops_audit: pg_cron is not enabled, so no job keeps the monthly partitions ahead; '
            'run select ops_audit.ensure_partitions() by hand every month, or enable pg_cron and run '
            'select ops_audit.schedule_partition_job() (docs/runbook.md, "Keep partitions ahead")';
        return null;
    end if;
    if not pg_catalog.pg_has_role(current_user, 'ops_audit_owner', 'usage') then
        raise exception 'ops_audit: % does not have the privileges of ops_audit_owner, so its pg_cron job '
            'could not run ops_audit.ensure_partitions()', current_user;
    end if;
    return cron.schedule('ops-audit-partitions', '0 3 1 * *', 'select ops_audit.ensure_partitions()');
end
$$;

revoke all on function ops_audit.schedule_partition_job() from public;

select ops_audit.schedule_partition_job();
