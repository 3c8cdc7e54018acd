-- 0014_action_catalogue: the trail accepts an event only when one of the
-- actor's ops roles holds the permission of the event's action.
--
-- Both tables hold what the access model declares (infra/derive/audit.py,
-- AuditSettings.actions and .role_permissions): the runner rewrites them on
-- every run, as it does ops_audit.settings, so no migration names an action,
-- a role or a permission. The check reads only the row's action, the JWT's
-- ops roles and these two tables: no chain column, so it holds however the
-- chain is linked, and a refused event never reaches the chain.

-- Every action an event may record: one per /ops route that records one.
create table if not exists ops_audit.actions (
    -- The route's audit_action, `domain:verb` or `domain:verb:qualifier`.
    action      text primary key,
    -- The ops API permission the route needs; whoever records the action must hold it.
    permission  text not null,
    -- The form ops_audit.events accepts (events_action_form in 0001_events.sql).
    constraint actions_action_form check (action ~ '^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)*$' and length(action) <= 100),
    -- An ops API permission, `domain:action`.
    constraint actions_permission_form check (permission ~ '^[a-z]+:[a-z]+$')
);

-- Which permissions each ops role holds (the roles claim names roles, not permissions).
create table if not exists ops_audit.role_permissions (
    -- An ops role, as named in the JWT's roles claim.
    role        text not null,
    -- A permission the role holds.
    permission  text not null,
    constraint role_permissions_pkey primary key (role, permission),
    -- An ops role name, as the access model requires.
    constraint role_permissions_role_form check (role ~ '^ops-[a-z]+$'),
    -- An ops API permission, `domain:action`.
    constraint role_permissions_permission_form check (permission ~ '^[a-z]+:[a-z]+$')
);

-- BEFORE INSERT, after stamp_actor (triggers fire in name order): refuses an
-- action the catalogue lacks (22023, PostgREST's 400) and an action whose
-- permission none of the JWT's ops roles holds (42501, PostgREST's 403). It
-- reads the roles from the JWT itself, not from the row. It only reads, so
-- it runs as the caller, who may read the catalogue.
create or replace function ops_audit.check_action()
    returns trigger
    language plpgsql
    stable
    set search_path = ''
as $$
declare
    caller_roles text[] := ops_audit.jwt_ops_roles();
    needed       text;
begin
    select a.permission into needed from ops_audit.actions as a where a.action = new.action;
    if needed is null then
        raise exception 'ops_audit: unknown action "%"', new.action
            using errcode = '22023',
                  detail = 'ops_audit.actions lists the audit_action of every /ops route (ops-actions.json).',
                  hint = 'Record the audit_action of the route that acted.';
    end if;
    if not exists (
        select from ops_audit.role_permissions as rp
        where rp.role = any (caller_roles) and rp.permission = needed
    ) then
        raise exception 'ops_audit: action "%" needs permission "%", which none of the JWT''s ops roles (%) holds',
            new.action, needed, array_to_string(caller_roles, ', ')
            using errcode = '42501';
    end if;
    return new;
end
$$;

-- Cloned onto every partition, present and future, like the other row triggers.
create or replace trigger events_1b_check_action
    before insert on ops_audit.events
    for each row execute function ops_audit.check_action();

-- The catalogue is no secret: whoever may append may read it. Only the
-- runner (as the admin, through the owner) changes it.
revoke all on ops_audit.actions, ops_audit.role_permissions from public;
grant select on ops_audit.actions, ops_audit.role_permissions to authenticated, ops_audit_writer, ops_audit_reader;
revoke all on function ops_audit.check_action() from public;
