"""RLS policies are read from SQL text: who they apply to, for which command, which ops roles they name."""

from infra.report.rls import parse_grants, parse_policies

SQL = """
-- readers: auditors and admins see every row
create policy events_select_all on ops_audit.events
    as permissive
    for select
    to authenticated
    using ((select auth.jwt()) -> 'https://ops.clarivum.com/roles' ?| array['ops-auditor', 'ops-admin']);

create policy "events insert own" on ops_audit.events for insert to authenticated, service_role
    with check (actor_sub = ((select auth.jwt()) ->> 'sub') and ops_audit.has_ops_role());

CREATE POLICY deny_anon ON ops_audit.events AS RESTRICTIVE FOR ALL TO anon USING (false);
select 'create policy in a string; is not a statement';
"""


def test_each_create_policy_statement_is_parsed_with_its_target_and_command() -> None:
    policies = {p.name: p for p in parse_policies(SQL)}

    assert set(policies) == {"events_select_all", "events insert own", "deny_anon"}, "a policy was missed or invented"
    select_all = policies["events_select_all"]
    assert (select_all.table, select_all.command, select_all.to) == ("ops_audit.events", "select", ("authenticated",))
    assert select_all.ops_roles == ("ops-admin", "ops-auditor"), "the ops roles named in USING were not found"
    assert "array['ops-auditor', 'ops-admin']" in select_all.using, "the USING expression lost its nested parentheses"


def test_check_expression_roles_and_defaults_are_read() -> None:
    policies = {p.name: p for p in parse_policies(SQL)}

    insert = policies["events insert own"]
    assert insert.to == ("authenticated", "service_role")
    assert insert.check.startswith("actor_sub = ((select auth.jwt())"), f"WITH CHECK was {insert.check!r}"
    assert insert.using == "" and insert.ops_roles == ()
    deny = policies["deny_anon"]
    assert (deny.kind, deny.command, deny.using) == ("restrictive", "all", "false"), "upper-case SQL was misread"


def test_sql_without_policies_yields_none() -> None:
    assert parse_policies("create table t (id int); -- create policy in a comment") == []


GRANTS_SQL = """
revoke all on ops_audit.events from public;
grant select on ops_audit.events, ops_audit.settings to authenticated, "ops_audit_reader";
grant insert (actor_sub, action, target) on table ops_audit.events to authenticated with grant option;
grant execute on function
    ops_audit.jwt_sub(), ops_audit.event_digest(bytea, bigint)
    to ops_audit_reader;
-- grant delete on ops_audit.events to anon;  (a comment, not a grant)
"""


def test_grants_are_read_per_role_and_object_with_column_lists_and_function_signatures() -> None:
    rows = sorted(parse_grants(GRANTS_SQL))

    assert rows == [
        ("authenticated", ("INSERT (actor_sub, action, target)",), "table ops_audit.events"),
        ("authenticated", ("SELECT",), "table ops_audit.events"),
        ("authenticated", ("SELECT",), "table ops_audit.settings"),
        ("ops_audit_reader", ("EXECUTE",), "function ops_audit.event_digest(bytea, bigint)"),
        ("ops_audit_reader", ("EXECUTE",), "function ops_audit.jwt_sub()"),
        ("ops_audit_reader", ("SELECT",), "table ops_audit.events"),
        ("ops_audit_reader", ("SELECT",), "table ops_audit.settings"),
    ], "a revoke, a comment or a `with grant option` suffix was read as a grant"


def test_a_grant_in_the_text_of_dynamic_sql_is_not_read_as_a_grant() -> None:
    """As in 0020_rotator: `execute format('grant %I to %I', ...)` grants only when it runs, to roles it computes."""
    sql = """
do $$ declare grp text; begin
    for grp in select unnest(array['ops_audit_writer']) loop
        execute pg_catalog.format('grant %I to %I', grp, 'login_clone');
    end loop;
end $$;
grant usage on schema ops_rotation to ops_audit_rotator;
"""

    assert parse_grants(sql) == [("ops_audit_rotator", ("USAGE",), "schema ops_rotation")]
