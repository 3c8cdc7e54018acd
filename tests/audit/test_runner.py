"""The migration runner against a real PostgreSQL 15 (tests/support/pgcluster.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from infra.cli.main import main
from infra.migrations.files import MIGRATIONS_DIR, MigrationError, load_migrations
from infra.migrations.runner import migrate
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER

pytestmark = pytest.mark.postgres

# Every catalog row of the ops_audit schema's objects, with its xmin: a
# re-created or altered object gets a new oid or a new xmin.
CATALOG_SNAPSHOT = """
select 'class', c.oid::bigint, c.xmin::text, c.relname from pg_class c where c.relnamespace = 'ops_audit'::regnamespace
union all select 'proc', p.oid::bigint, p.xmin::text, p.proname from pg_proc p where p.pronamespace = 'ops_audit'::regnamespace
union all select 'trigger', t.oid::bigint, t.xmin::text, t.tgname from pg_trigger t
    join pg_class c on c.oid = t.tgrelid where c.relnamespace = 'ops_audit'::regnamespace
union all select 'policy', p.oid::bigint, p.xmin::text, p.polname from pg_policy p
    join pg_class c on c.oid = p.polrelid where c.relnamespace = 'ops_audit'::regnamespace
union all select 'role', r.oid::bigint, r.xmin::text, r.rolname from pg_authid r
union all select 'settings', 0, s.xmin::text, s.roles_claim from ops_audit.settings s
order by 1, 2
"""


def snapshot(db) -> list[tuple]:
    with db.superuser() as conn:
        return conn.execute(CATALOG_SNAPSHOT).fetchall()


def applied(db) -> list[tuple]:
    with db.superuser() as conn:
        return conn.execute("select filename, sha256 from ops_audit.schema_migrations order by 1").fetchall()


def copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    target.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(path, target / path.name)
    return target


def test_fresh_database_gets_every_migration_recorded_with_its_sha256(fresh_audit_db):
    expected = [(m.name, m.sha256) for m in load_migrations()]
    assert applied(fresh_audit_db) == expected, "each file must be recorded once with the sha256 of its text"


def test_second_migrate_is_a_no_op_and_recreates_nothing(fresh_audit_db, audit_decl):
    before = snapshot(fresh_audit_db)

    result = migrate(fresh_audit_db.admin_dsn, audit_decl.settings)

    assert not result.changed, f"second run must do nothing, did {result}"
    assert snapshot(fresh_audit_db) == before, "no catalog row of ops_audit (or any role) may change on a second run"


def test_changed_applied_file_is_refused_by_name_and_nothing_runs(fresh_audit_db, audit_decl, tmp_path):
    migrations = copy_migrations(tmp_path)
    changed = migrations / "0002_chain.sql"
    changed.write_text(changed.read_text() + "\n-- an innocent-looking edit\n")
    (migrations / "0099_new.sql").write_text("create table ops_audit.should_not_exist (x int);")

    with pytest.raises(MigrationError, match=r"0002_chain\.sql: was applied .* has changed"):
        migrate(fresh_audit_db.admin_dsn, audit_decl.settings, migrations)

    with fresh_audit_db.superuser() as conn:
        assert conn.execute("select to_regclass('ops_audit.should_not_exist')").fetchone() == (None,), \
            "a pending file must not run when an applied one changed"


def test_failed_migration_rolls_back_every_pending_file(fresh_audit_db, audit_decl, tmp_path):
    migrations = copy_migrations(tmp_path)
    (migrations / "0098_good.sql").write_text("create table ops_audit.first_new (x int);")
    (migrations / "0099_bad.sql").write_text("create table ops_audit.second_new (x int);\nselect 1/0;")
    before = applied(fresh_audit_db)

    with pytest.raises(MigrationError, match=r"0099_bad\.sql") as raised:
        migrate(fresh_audit_db.admin_dsn, audit_decl.settings, migrations)

    assert "division by zero" in raised.value.render()
    with fresh_audit_db.superuser() as conn:
        leftovers = conn.execute(
            "select to_regclass('ops_audit.first_new'), to_regclass('ops_audit.second_new')"
        ).fetchone()
    assert leftovers == (None, None), "the earlier pending file must be rolled back with the failing one"
    assert applied(fresh_audit_db) == before, "no failed run may be recorded"


def test_changed_claims_namespace_only_updates_the_settings_row(fresh_audit_db, settings_for):
    result = migrate(fresh_audit_db.admin_dsn, settings_for("https://other.example.com/roles"))

    assert result.applied == () and result.settings_changed
    with fresh_audit_db.superuser() as conn:
        assert conn.execute("select roles_claim from ops_audit.settings").fetchone() == ("https://other.example.com/roles",)


def test_database_without_supabase_objects_is_refused_naming_them(pg_cluster, audit_decl):
    with pg_cluster.connect() as conn:
        conn.execute("create database plain_pg")
    dsn = pg_cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, "plain_pg")

    with pytest.raises(MigrationError, match=r"auth\.jwt\(\) is missing") as raised:
        migrate(dsn, audit_decl.settings)

    with pg_cluster.connect("plain_pg") as conn:
        assert conn.execute("select to_regnamespace('ops_audit')").fetchone() == (None,), "nothing may be created"
    assert "never create" in raised.value.render()


def test_misnamed_migration_file_is_an_error(tmp_path):
    (tmp_path / "1_init.sql").write_text("select 1;")

    with pytest.raises(MigrationError, match=r"1_init\.sql: migration files must be named NNNN_name\.sql"):
        load_migrations(tmp_path)


def test_cli_migrate_twice_reports_then_no_op(pg_cluster, pg_database, audit_decl, capsys):
    dsn = pg_cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, pg_database)

    first = main(["db", "migrate", "--dsn", dsn])
    first_out = capsys.readouterr().out
    second = main(["db", "migrate", "--dsn", dsn])
    second_out = capsys.readouterr().out

    assert (first, second) == (0, 0)
    assert "applied 0001_events.sql" in first_out
    assert "applied 0014_action_catalogue.sql" in first_out
    actions = len(audit_decl.settings.actions)
    assert f"ops_audit.settings and action catalogue: roles claim 'https://ops.clarivum.com/roles', {actions} actions" in first_out
    assert "nothing to apply" in second_out, second_out


def test_cli_migrate_unreachable_database_exits_2_without_traceback(capsys):
    code = main(["db", "migrate", "--dsn", "postgresql://nobody@127.0.0.1:1/postgres?connect_timeout=2"])

    err = capsys.readouterr().err
    assert code == 2
    assert "cannot connect" in err and "Traceback" not in err, err


def test_admin_is_not_superuser_in_these_tests(fresh_audit_db):
    """The runner must work as Supabase's non-superuser `postgres`, so the tests use one."""
    with psycopg.connect(fresh_audit_db.admin_dsn) as conn:
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (False,)
