"""Security properties of the migrated schema, read from the catalog of a real database."""

from __future__ import annotations

import json
import re

import pytest

from infra.derive.audit import OWNER_ROLE

pytestmark = pytest.mark.postgres


def rows(db, query: str, *params) -> list[tuple]:
    with db.superuser() as conn:
        return conn.execute(query, params).fetchall()


def test_tables_and_partitions_are_owned_by_the_nologin_owner(shared_audit_db):
    owners = rows(shared_audit_db, """
        select c.relname, pg_get_userbyid(c.relowner) from pg_class c
        where c.relnamespace = 'ops_audit'::regnamespace and c.relkind in ('r', 'p')""")
    wrong = [(name, owner) for name, owner in owners if owner != OWNER_ROLE]
    assert len(owners) > 5 and wrong == [], f"owned by someone else: {wrong}"
    assert rows(shared_audit_db, "select rolcanlogin from pg_roles where rolname = %s", OWNER_ROLE) == [(False,)]


def test_every_partition_is_protected_on_its_own(shared_audit_db):
    partitions = rows(shared_audit_db, """
        select c.relname, c.relrowsecurity, c.relforcerowsecurity, coalesce(c.relacl::text, ''),
               exists (select 1 from pg_trigger t where t.tgrelid = c.oid and not t.tgisinternal
                       and (t.tgtype::int & 32) <> 0 and t.tgparentid = 0)
        from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'ops_audit.events'::regclass""")
    assert len(partitions) >= 12, "a year of monthly partitions must exist after migrating"
    unprotected = [p for p in partitions if p[1:3] != (True, True) or "=" in p[3].replace(f"{OWNER_ROLE}=", "") or not p[4]]
    assert unprotected == [], "each partition needs forced RLS, no grants and its own TRUNCATE trigger"


# Inlinable SQL expressions (0002_chain.sql says why): invoker rights, schema-qualified names.
INLINED = {"request_claims", "jwt_sub", "event_digest", "event_canonical"}


def test_every_function_pins_search_path_except_the_inlined_helpers(shared_audit_db):
    functions = rows(shared_audit_db, """
        select p.proname, p.prosecdef, l.lanname, coalesce(p.proconfig, '{}')
        from pg_proc p join pg_language l on l.oid = p.prolang
        where p.pronamespace = 'ops_audit'::regnamespace""")
    assert len(functions) >= 10
    unpinned = {name for name, _, _, config in functions if 'search_path=""' not in config}
    assert unpinned == INLINED, "every other function must set search_path = ''"
    inlined = [(name, definer, language) for name, definer, language, _ in functions if name in INLINED]
    assert all(not definer and language == "sql" for _, definer, language in inlined), inlined


def test_security_definer_functions_are_only_the_expected_three(shared_audit_db):
    definers = rows(shared_audit_db, """
        select p.proname from pg_proc p where p.pronamespace = 'ops_audit'::regnamespace and p.prosecdef order by 1""")
    assert definers == [("checkpoint_state",), ("create_month_partition",), ("seal_events",)]


def test_no_ops_audit_function_is_executable_by_public(shared_audit_db):
    public = rows(shared_audit_db, """
        select p.oid::regprocedure::text from pg_proc p
        where p.pronamespace = 'ops_audit'::regnamespace and has_function_privilege('public', p.oid, 'execute')""")
    assert public == []


@pytest.mark.parametrize("function", ["create_month_partition(date)", "ensure_partitions(integer)",
                                      "detach_partition(date,bigint,bytea)", "schedule_partition_job()",
                                      "seal_events()", "schedule_seal_job()"])
@pytest.mark.parametrize("role", ["authenticated", "anon", "service_role", "ops_audit_writer", "ops_audit_reader"])
def test_maintenance_routines_are_owner_only(shared_audit_db, function, role):
    assert rows(shared_audit_db, "select has_function_privilege(%s, %s, 'execute')", role, f"ops_audit.{function}") == [(False,)]


def test_no_views_or_only_security_invoker_views(shared_audit_db):
    views = rows(shared_audit_db, """
        select c.relname, coalesce(c.reloptions, '{}') from pg_class c
        where c.relnamespace = 'ops_audit'::regnamespace and c.relkind = 'v'""")
    assert [v for v in views if "security_invoker=true" not in v[1]] == []


def test_no_ops_audit_role_has_powers(shared_audit_db):
    powerful = rows(shared_audit_db, """
        select rolname from pg_roles where rolname like 'ops\\_%%'
        and (rolsuper or rolcreaterole or rolbypassrls or rolcreatedb or rolreplication)""")
    assert powerful == []


def test_supabase_roles_and_auth_functions_are_untouched(shared_audit_db):
    """As supabase/postgres leaves them: API roles INHERIT since 20230529180330_alter_api_roles_for_inherit.sql,
    auth functions owned by Auth's login (20211124212715_update-auth-owner.sql)."""
    supabase = rows(shared_audit_db, """
        select rolname, rolcanlogin, rolinherit, rolbypassrls from pg_roles
        where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by 1""")
    assert supabase == [
        ("anon", False, True, False),
        ("authenticated", False, True, False),
        ("authenticator", True, False, False),
        ("service_role", False, True, True),
    ]
    owners = rows(shared_audit_db, "select distinct pg_get_userbyid(proowner) from pg_proc where pronamespace = 'auth'::regnamespace")
    assert owners == [("supabase_auth_admin",)], "the auth functions must stay Supabase's"


@pytest.mark.parametrize("claims", [
    {"sub": "auth0|a", "https://ops.clarivum.com/roles": ["ops-sre"]},
    {"sub": "auth0|b"},
    "",
])
@pytest.mark.parametrize("setting", ["request.jwt.claims", "request.jwt.claim"])
def test_request_claims_reads_exactly_what_auth_jwt_reads(shared_audit_db, claims, setting):
    value = claims if isinstance(claims, str) else json.dumps(claims)
    with shared_audit_db.superuser() as conn, conn.transaction():
        conn.execute("select set_config(%s, %s, true)", (setting, value))
        ours, supabase = conn.execute("select ops_audit.request_claims(), auth.jwt()").fetchone()
    assert ours == supabase


def test_policies_wrap_the_jwt_in_a_subselect(shared_audit_db):
    policies = rows(shared_audit_db, """
        select policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') from pg_policies
        where schemaname = 'ops_audit'""")
    assert len(policies) == 6
    for name, expression in policies:
        calls = re.findall(r"(SELECT \(?)?(auth\.jwt\(\)|ops_audit\.jwt_\w+\(\))", expression)
        bare = [call for wrapper, call in calls if not wrapper]
        assert bare == [], f"{name}: {bare} must be wrapped in (select ...) to run once: {expression}"


@pytest.mark.parametrize("call", [
    "ops_audit.jwt_sub()",
    "ops_audit.request_claims()",
    "ops_audit.event_digest('\\x00'::bytea, 1, 1, now(), 'a', '{}', 'a', 'b', '{}')",
    "ops_audit.event_canonical(1, 1, now(), 'a', '{}', 'a', 'b', '{}')",
])
def test_the_inlined_helpers_are_inlined(shared_audit_db, call):
    """Why they have no SET search_path (0002_chain.sql); a SET would silently undo it."""
    plan = rows(shared_audit_db, f"explain (verbose, costs off) select {call}")
    output = " ".join(line for (line,) in plan)
    assert call.split("(")[0] not in output, f"{call} was not inlined: {output}"
