"""pg-safeupdate's rule on the trail: no UPDATE or DELETE without a WHERE clause in anything an API
role's transaction can reach.

Supabase preloads pg-safeupdate for PostgREST's login (supabase/postgres migration
20220118070449_enable-safeupdate-postgrest.sql), and it refuses such a statement with
`[21000] UPDATE requires a WHERE clause`, inside functions and triggers too. It has no Debian
package, so the rule is tested both ways:

- BEHAVIOURALLY, on the test cluster, whose `authenticator` preloads the stand-in built from
  tests/support/safeupdate (tests/support/pgcluster.py);
- STATICALLY, with pglast (PostgreSQL's own parser, PL/pgSQL included), over every function an
  API role can reach in a migrated database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pglast
import psycopg
import pytest
from pglast.parser import ParseError, parse_sql_json

from infra.migrations.files import MIGRATIONS_DIR
from infra.migrations.runner import migrate
from tests.audit.conftest import AuditDb, claims_for, migrations_before
from tests.support import pgcluster
from tests.support.pgcluster import PgClusterError

pytestmark = pytest.mark.postgres

SRE = claims_for("auth0|sre", "ops-sre")
API_ROLES = ("anon", "authenticated", "service_role", "ops_audit_writer", "ops_audit_reader")
REFUSAL = "UPDATE requires a WHERE clause"


# -- behaviourally: the stand-in module, preloaded for authenticator ----------

def test_behavioural_authenticator_sessions_refuse_updates_without_where_even_inside_plpgsql(shared_audit_db):
    """BEHAVIOURAL. The cluster enforces the rule where Supabase does, and only there."""
    body = "create function pg_temp.touch() returns void language plpgsql as $$ begin update scratch set n = 1; end $$"
    with shared_audit_db.request(SRE) as conn:
        conn.execute("create temp table scratch (n int)")
        conn.execute(body)
        with pytest.raises(psycopg.errors.CardinalityViolation, match=REFUSAL), conn.transaction():
            conn.execute("update scratch set n = 2")
        with pytest.raises(psycopg.errors.CardinalityViolation, match=REFUSAL), conn.transaction():
            conn.execute("select pg_temp.touch()")
        with pytest.raises(psycopg.errors.CardinalityViolation, match="DELETE requires a WHERE clause"), \
                conn.transaction():
            conn.execute("with gone as (delete from scratch returning n) select count(*) from gone")
        conn.execute("update scratch set n = 3 where true")
    with psycopg.connect(shared_audit_db.admin_dsn) as admin:  # not preloaded for other logins
        admin.execute("create temp table scratch (n int)")
        admin.execute("update scratch set n = 1")


def test_behavioural_before_the_fix_every_append_through_postgrest_failed(pg_cluster, pg_database, audit_decl, tmp_path):
    """BEHAVIOURAL. The defect of issue 13, reproduced: 0006's link_event updated chain_head without WHERE."""
    db = AuditDb(pg_cluster, pg_database)
    migrate(db.admin_dsn, audit_decl.settings, migrations_before("0009", tmp_path / "before-fix"))

    with pytest.raises(psycopg.errors.CardinalityViolation, match=REFUSAL):
        db.insert(SRE)

    migrate(db.admin_dsn, audit_decl.settings)
    db.insert(SRE)
    assert db.seal() == 1


@pytest.mark.parametrize("role", ["authenticated", "ops_audit_writer"])
def test_behavioural_appends_and_the_sealer_pass_with_safeupdate_loaded(fresh_audit_db, role):
    """BEHAVIOURAL. The API path appends; the sealer, run in a session that loaded safeupdate too, seals."""
    if role == "authenticated":
        fresh_audit_db.insert(SRE)
    else:  # the backend's writer login, with safeupdate loaded as on PostgREST's sessions
        with fresh_audit_db.superuser() as conn:
            conn.execute("load 'safeupdate'")
            with conn.transaction():
                conn.execute("set local role ops_audit_writer")
                conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(SRE),))
                conn.execute("insert into ops_audit.events (action, target) values ('incidents:ack', 'INC-1')")
    with fresh_audit_db.superuser() as conn:
        conn.execute("load 'safeupdate'")
        conn.execute("set role postgres")
        assert conn.execute("select ops_audit.seal_events()").fetchone() == (1,)


def test_a_missing_build_toolchain_fails_with_what_to_install(monkeypatch, tmp_path):
    """Without PGXS the test clusters must not start (and so no test skips silently): the error says why."""
    monkeypatch.setattr(pgcluster.shutil, "which", lambda name: None)

    with pytest.raises(PgClusterError, match="install postgresql-server-dev-15"):
        pgcluster.build_safeupdate(tmp_path / "lib")


# -- statically: pglast over every function an API role can reach --------------

REACHABLE_SQL = """
with recursive roots as (
    -- trigger functions on the trail's tables
    select t.tgfoid as oid from pg_trigger as t
    join pg_class as c on c.oid = t.tgrelid
    where c.relnamespace = 'ops_audit'::regnamespace and not t.tgisinternal
    union
    -- functions the API roles may execute, in the trail's and Supabase's auth schema
    select p.oid from pg_proc as p, unnest(%(roles)s::text[]) as r(role)
    where p.pronamespace in ('ops_audit'::regnamespace, 'auth'::regnamespace)
      and has_function_privilege(r.role, p.oid, 'execute')
)
select p.oid::regprocedure::text, l.lanname, p.prosrc, pg_get_functiondef(p.oid)
from roots join pg_proc as p on p.oid = roots.oid join pg_language as l on l.oid = p.prolang
"""

POLICY_SQL = "select coalesce(qual, '') || ' ' || coalesce(with_check, '') from pg_policies where schemaname = 'ops_audit'"


def _nodes(tree: object) -> Iterator[tuple[str, dict]]:
    """Every (node type, node) pair of a pglast JSON parse tree."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if isinstance(value, dict):
                yield key, value
            yield from _nodes(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _nodes(item)


# A DECLAREd variable of a table's row type: pglast's PL/pgSQL parser resolves types only in
# pg_catalog and public, and the type does not matter to the rule.
ROW_TYPED_VARIABLE = re.compile(r"^(\s*\w+\s+)(?!pg_catalog\.)\w+\.\w+(\s*;)", re.MULTILINE | re.IGNORECASE)


def _declared_as_records(definition: str) -> str:
    declare, begin, body = re.split(r"(?i)\b(begin)\b", definition, maxsplit=1)
    return ROW_TYPED_VARIABLE.sub(r"\1record\2", declare) + begin + body


def _plpgsql_statements(function_definition: str) -> Iterator[str]:
    """The SQL of every statement and expression of a PL/pgSQL function, as parseable statements."""
    for kind, node in _nodes(pglast.parse_plpgsql(_declared_as_records(function_definition))):
        if kind == "PLpgSQL_stmt_dynexecute":
            raise AssertionError("EXECUTE of a built string cannot be checked statically")
        if kind != "PLpgSQL_expr":
            continue
        query, mode = node["query"], node.get("parseMode", 0)
        if mode == 0:  # a whole statement
            yield query
        elif mode == 2:  # an expression
            yield f"select {query}"
        else:  # an assignment: target := expression
            yield f"select {query.split(':=', 1)[1]}"


def statements_of(language: str, source: str, definition: str) -> list[str]:
    if language == "sql":
        return [source]
    if language == "plpgsql":
        return list(_plpgsql_statements(definition))
    return []  # C and internal functions hold no SQL


def unqualified_changes(statement: str) -> list[str]:
    """pg-safeupdate's rule: every UPDATE and DELETE, top-level or in a WITH, has a WHERE clause."""
    tree = json.loads(parse_sql_json(statement))
    return [
        f"{kind} of {node['relation'].get('relname')} without WHERE"
        for kind, node in _nodes(tree)
        if kind in ("UpdateStmt", "DeleteStmt") and "whereClause" not in node
    ]


def called_functions(statement: str) -> set[str]:
    tree = json.loads(parse_sql_json(statement))
    return {".".join(part["String"]["sval"] for part in node["funcname"]) for kind, node in _nodes(tree)
            if kind == "FuncCall"}


def test_static_every_statement_an_api_role_can_reach_has_a_where_clause(shared_audit_db):
    """STATIC (pglast). Roots: triggers on ops_audit tables, functions the API roles may execute, RLS helpers."""
    with shared_audit_db.superuser() as conn:
        functions = conn.execute(REACHABLE_SQL, {"roles": list(API_ROLES)}).fetchall()
        policy_calls = set().union(*(called_functions(f"select {e}") for (e,) in conn.execute(POLICY_SQL)))
    checked = {name.split("(")[0]: statements_of(language, source, definition)
               for name, language, source, definition in functions}

    problems = {name: found for name, statements in checked.items()
                if (found := [p for s in statements for p in unqualified_changes(s)])}
    assert problems == {}, f"pg-safeupdate would refuse these: {problems}"
    calls = set().union(*(called_functions(s) for statements in checked.values() for s in statements), policy_calls)
    unchecked = {c for c in calls if c.startswith(("ops_audit.", "auth.")) and c not in checked}
    assert unchecked == set(), f"functions reached from checked code or policies but not checked: {unchecked}"
    expected = {"ops_audit.stamp_actor", "ops_audit.refuse_change", "ops_audit.jwt_ops_roles",
                "ops_audit.jwt_reads_all", "ops_audit.jwt_sub", "ops_audit.request_claims", "auth.jwt"}
    assert expected <= checked.keys(), f"the reachable set is incomplete: {sorted(checked)}"


def test_static_check_catches_the_link_that_broke_the_trail():
    """STATIC (pglast). The check fails on 0006's link_event, the UPDATE without WHERE of issue 13."""
    migration = (MIGRATIONS_DIR / "0006_chain_queue.sql").read_text()
    definition = next(s for s in pglast.split(migration) if "function ops_audit.link_event" in s)

    found = [p for s in statements_of("plpgsql", "", definition) for p in unqualified_changes(s)]

    assert found == ["UpdateStmt of chain_head without WHERE"]


@pytest.mark.parametrize("statement", [
    "delete from t",
    "with x as (update t set a = 1 returning a) select * from x",
    "update t set a = 1 from u",
])
def test_static_check_flags_each_unqualified_form(statement):
    """STATIC (pglast). The forms pg-safeupdate refuses, nested ones included."""
    assert len(unqualified_changes(statement)) == 1


def test_static_check_refuses_what_it_cannot_read():
    """STATIC (pglast). Dynamic SQL and unparseable bodies fail the check instead of passing it."""
    dynamic = ("create function f() returns void language plpgsql as $$ begin execute 'delete from t'; end $$")
    with pytest.raises(AssertionError, match="cannot be checked statically"):
        statements_of("plpgsql", "", dynamic)
    with pytest.raises(ParseError):
        unqualified_changes("updat t set a = 1")
