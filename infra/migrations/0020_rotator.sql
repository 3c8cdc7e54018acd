-- 0020_rotator: what the rotation Lambdas' login may do, and nothing more.
--
-- The rotation Lambdas log in as `ops_hub_rotator` (secret supabase/rotator), a
-- member of the NOLOGIN group ops_audit_rotator, instead of the `postgres` admin.
-- On PostgreSQL 15 the only attribute that lets a role ALTER another role's
-- password is CREATEROLE, and CREATEROLE there may alter, and grant membership
-- in, every non-superuser role: far more than rotation needs. So the group gets
-- no attribute at all, only EXECUTE on one SECURITY DEFINER function, owned by
-- the admin that runs the migrations (which has CREATEROLE on Supabase), that:
--   - sets the password of a rotated login: a LOGIN role whose only memberships
--     are ops_audit_writer, ops_audit_reader, ops_audit_checkpoint or ops_metrics_writer and which holds no attribute
--     beyond LOGIN/INHERIT (the logins the model rotates by Lambda, and their clones);
--   - creates `<login>_clone` of such a login once, with the same memberships;
--   - accepts only a SCRAM-SHA-256 verifier, never a clear-text password.
-- Anything else raises, naming the login. The schema ops_rotation is the admin's,
-- outside ops_audit, so the runner's adoption never hands the function to
-- ops_audit_owner (which has no CREATEROLE). ops_audit_rotator has no USAGE on
-- ops_audit: the rotator reads no row of the trail.

create schema if not exists ops_rotation;
revoke all on schema ops_rotation from public;
grant usage on schema ops_rotation to ops_audit_rotator;

-- True when `login` is a rotated login: LOGIN, no attribute beyond LOGIN/INHERIT,
-- member of a rotated group (ops_audit's writer, reader or checkpoint, ops_metrics' writer) and of nothing else.
create or replace function ops_rotation.is_rotated_login(login name)
    returns boolean
    language sql
    stable
    set search_path = ''
as $$
    select exists (
        select from pg_catalog.pg_roles as r
        where r.rolname = login
          and r.rolcanlogin
          and not (r.rolsuper or r.rolcreaterole or r.rolcreatedb or r.rolreplication or r.rolbypassrls)
          and exists (
              select from pg_catalog.pg_auth_members as m
              where m.member = r.oid
                and m.roleid in ('ops_audit_writer'::regrole, 'ops_audit_reader'::regrole, 'ops_audit_checkpoint'::regrole, 'ops_metrics_writer'::regrole)
          )
          and not exists (
              select from pg_catalog.pg_auth_members as m
              where m.member = r.oid
                and m.roleid not in ('ops_audit_writer'::regrole, 'ops_audit_reader'::regrole, 'ops_audit_checkpoint'::regrole, 'ops_metrics_writer'::regrole)
          )
    )
$$;

-- Sets the password of a rotated login from a SCRAM verifier, creating
-- `<base>_clone` (with the base login's memberships) on its first rotation.
-- SECURITY DEFINER: runs with the admin's CREATEROLE, inside the checks above.
create or replace function ops_rotation.set_login_password(login name, verifier text)
    returns void
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    base name := pg_catalog.regexp_replace(login, '_clone$', '');
    grp name;
begin
    if verifier is null or verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' then
        raise exception 'ops_rotation: the password of % must be a SCRAM-SHA-256 verifier', login
            using errcode = 'invalid_parameter_value';
    end if;
    if ops_rotation.is_rotated_login(login) then
        execute pg_catalog.format('alter role %I with login password %L', login, verifier);
        return;
    end if;
    if login <> base || '_clone' or base like '%\_clone' or not ops_rotation.is_rotated_login(base)
        or exists (select from pg_catalog.pg_roles where rolname = login) then
        raise exception 'ops_rotation: % is not a rotated login (nor the clone of one)', login
            using errcode = 'insufficient_privilege';
    end if;
    execute pg_catalog.format(
        'create role %I with login nosuperuser nocreaterole nocreatedb noreplication nobypassrls %s password %L',
        login,
        case when (select rolinherit from pg_catalog.pg_roles where rolname = base) then 'inherit' else 'noinherit' end,
        verifier
    );
    for grp in
        select g.rolname from pg_catalog.pg_auth_members as m
        join pg_catalog.pg_roles as g on g.oid = m.roleid
        join pg_catalog.pg_roles as u on u.oid = m.member
        where u.rolname = base
    loop
        execute pg_catalog.format('grant %I to %I', grp, login);
    end loop;
end
$$;

revoke all on function ops_rotation.is_rotated_login(name) from public;
revoke all on function ops_rotation.set_login_password(name, text) from public;
grant execute on function ops_rotation.set_login_password(name, text) to ops_audit_rotator;
