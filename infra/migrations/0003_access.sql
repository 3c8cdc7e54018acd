-- 0003_access: row-level security, policies and grants on the trail.
--
-- Insert: a holder of at least one ops role, only as itself.
-- Select: roles holding audit:read (settings.read_all_roles) see everything,
--   other ops roles their own rows, anyone else nothing; the reader group
--   (the export job) and the owner (maintenance) see everything.
-- No UPDATE, DELETE or TRUNCATE for anyone: no grant, no policy, and the
-- BEFORE triggers of 0002_chain.sql.
-- Policy expressions wrap auth.jwt() and the helpers in (select ...) so they
-- run once per statement as an initPlan (Supabase's RLS performance advice).

alter table ops_audit.events enable row level security;
alter table ops_audit.events force row level security;

-- Policies for `authenticated` (PostgREST) read the sub from auth.jwt();
-- those for the backend's writer login from ops_audit.jwt_sub(), the same
-- claim read without Supabase's auth schema (see 0002_chain.sql).
do $$
begin
    -- PostgREST: an ops role holder appends as itself. actor_roles was just
    -- set from the claim by stamp_actor, so the check need not parse it again.
    if not exists (select from pg_policies where schemaname = 'ops_audit' and policyname = 'events_insert_own') then
        create policy events_insert_own on ops_audit.events
            for insert to authenticated
            with check (actor_sub = (select auth.jwt() ->> 'sub') and cardinality(actor_roles) > 0);
    end if;
    -- The backend's writer login, acting with a user's claims.
    if not exists (select from pg_policies where schemaname = 'ops_audit' and policyname = 'events_insert_own_backend') then
        create policy events_insert_own_backend on ops_audit.events
            for insert to ops_audit_writer
            with check (actor_sub = (select ops_audit.jwt_sub()) and cardinality(actor_roles) > 0);
    end if;
    -- Holders of audit:read see everything.
    if not exists (select from pg_policies where schemaname = 'ops_audit' and policyname = 'events_select_all') then
        create policy events_select_all on ops_audit.events
            for select to authenticated, ops_audit_writer
            using ((select ops_audit.jwt_reads_all()));
    end if;
    -- Other ops roles see their own rows; no ops role, no rows.
    if not exists (select from pg_policies where schemaname = 'ops_audit' and policyname = 'events_select_own') then
        create policy events_select_own on ops_audit.events
            for select to authenticated
            using (actor_sub = (select auth.jwt() ->> 'sub') and cardinality((select ops_audit.jwt_ops_roles())) > 0);
    end if;
    if not exists (select from pg_policies where schemaname = 'ops_audit' and policyname = 'events_select_own_backend') then
        create policy events_select_own_backend on ops_audit.events
            for select to ops_audit_writer
            using (actor_sub = (select ops_audit.jwt_sub()) and cardinality((select ops_audit.jwt_ops_roles())) > 0);
    end if;
    -- The export job, and the owner for maintenance (detach_partition).
    if not exists (select from pg_policies where schemaname = 'ops_audit' and policyname = 'events_select_reader') then
        create policy events_select_reader on ops_audit.events
            for select to ops_audit_reader, ops_audit_owner
            using (true);
    end if;
end
$$;

-- Tables: nothing for PUBLIC (so nothing for anon or service_role); insert
-- only on the columns a client may choose; everything else is server-set.
revoke all on ops_audit.events, ops_audit.settings, ops_audit.chain_head, ops_audit.detached_partitions from public;
grant select on ops_audit.events to authenticated, ops_audit_writer, ops_audit_reader;
grant insert (actor_sub, action, target, payload) on ops_audit.events to authenticated, ops_audit_writer;
grant select on ops_audit.settings to authenticated, ops_audit_writer, ops_audit_reader;
grant select on ops_audit.chain_head, ops_audit.detached_partitions to ops_audit_reader;

-- Functions: the claim helpers run inside the policies as the caller; the
-- digest is what `opshub audit verify` recomputes. Trigger functions need
-- no EXECUTE grant to fire.
revoke all on function
    ops_audit.request_claims(),
    ops_audit.jwt_sub(),
    ops_audit.jwt_ops_roles(),
    ops_audit.jwt_reads_all(),
    ops_audit.event_digest(bytea, bigint, bigint, timestamptz, text, text[], text, text, jsonb),
    ops_audit.stamp_actor(),
    ops_audit.link_event(),
    ops_audit.refuse_change()
from public;
grant execute on function
    ops_audit.request_claims(), ops_audit.jwt_sub(), ops_audit.jwt_ops_roles(), ops_audit.jwt_reads_all()
    to authenticated, ops_audit_writer, ops_audit_reader;
grant execute on function
    ops_audit.event_digest(bytea, bigint, bigint, timestamptz, text, text[], text, text, jsonb)
    to ops_audit_reader;
