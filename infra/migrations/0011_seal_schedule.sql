-- 0011_seal_schedule: seals the trail every second with pg_cron, when the
-- database has it, as 0005_partition_schedule.sql keeps partitions ahead
-- (who the job runs as, and why, is explained there). docs/runbook.md,
-- "Audit trail: sealing".
--
-- pg_cron schedules by the second from version 1.5 on (Supabase ships 1.6);
-- an older pg_cron gets a job every minute, and the unsealed tail can then be
-- a minute old. Without pg_cron only a notice: events are appended but not
-- sealed until someone runs select ops_audit.seal_events().

-- Schedules (or updates: cron.schedule upserts by job name and user) the job
-- `ops-audit-seal`, as the caller. Returns the job id, or null without
-- pg_cron. Refuses a caller without ops_audit_owner's privileges. Owner-only.
create or replace function ops_audit.schedule_seal_job()
    returns bigint
    language plpgsql
    volatile
    set search_path = ''
as $$
declare
    cron_version integer[];
begin
    select pg_catalog.string_to_array(pg_catalog.split_part(e.extversion, '-', 1), '.')::integer[]
    into cron_version
    from pg_catalog.pg_extension as e
    where e.extname = 'pg_cron';
    if cron_version is null then
        raise notice 'ops_audit: pg_cron is not enabled, so no job seals the trail; events stay unsealed until '
            'select ops_audit.seal_events() runs: enable pg_cron and run select ops_audit.schedule_seal_job() '
            '(docs/runbook.md, "Audit trail: sealing")';
        return null;
    end if;
    if not pg_catalog.pg_has_role(current_user, 'ops_audit_owner', 'usage') then
        raise exception 'ops_audit: % does not have the privileges of ops_audit_owner, so its pg_cron job '
            'could not run ops_audit.seal_events()', current_user;
    end if;
    if cron_version < array[1, 5] then
        raise notice 'ops_audit: pg_cron % schedules by the minute, so the trail is sealed every minute, not '
            'every second', pg_catalog.array_to_string(cron_version, '.');
        return cron.schedule('ops-audit-seal', '* * * * *', 'select ops_audit.seal_events()');
    end if;
    return cron.schedule('ops-audit-seal', '1 seconds', 'select ops_audit.seal_events()');
end
$$;

revoke all on function ops_audit.schedule_seal_job() from public;

select ops_audit.schedule_seal_job();
