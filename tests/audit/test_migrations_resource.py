"""The OpsAuditMigrations dynamic provider, round-tripped through Pulumi's own provider
serialisation (as `pulumi up` ships it to the dynamic provider process) and run
against a real database. Under the offline plan's mocks `create` never runs."""

from __future__ import annotations

import base64

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.components.audit_migrations import MigrationsProvider, settings_inputs
from infra.migrations.files import file_digests, load_migrations
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER

pytestmark = pytest.mark.postgres


@pytest.fixture
def provider() -> MigrationsProvider:
    return dill.loads(base64.b64decode(serialize_provider(MigrationsProvider())))


@pytest.fixture
def props(pg_cluster, pg_database, audit_decl) -> dict:
    return {
        "dsn": pg_cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, pg_database),
        "digests": file_digests(),
        **settings_inputs(audit_decl.settings),
    }


def test_create_applies_every_migration_and_keeps_the_dsn_out_of_state(provider, props):
    result = provider.create(props)

    assert result.outs["lastApplied"] == [m.name for m in load_migrations()]
    assert "dsn" not in result.outs, "the admin password must not be stored in the resource's state"


def test_what_the_files_said_reaches_the_outputs_the_program_exports(provider, props):
    """This database has no pg_cron, so 0005 says that no job keeps the partitions ahead."""
    result = provider.create(props)

    assert any("pg_cron is not enabled" in notice for notice in result.outs["notices"]), result.outs

    assert provider.update("ops_audit-migrations", props, props).outs["notices"] == [], \
        "nothing applied, nothing said: an old notice must not linger in the outputs"


def test_update_with_nothing_pending_applies_nothing(provider, props):
    provider.create(props)

    result = provider.update("ops_audit-migrations", props, props)

    assert result.outs["lastApplied"] == []


CHANGED_INPUTS = {
    "digests": {"0005_new.sql": "x"},
    "rolesClaim": "https://other.example.com/roles",
    "opsRoles": ["other"],
    "readAllRoles": ["other"],
    "actions": {"payments:refund:stripe": "payments:read"},
    "rolePermissions": {"ops-viewer": ["payments:refund"]},
}


@pytest.mark.parametrize("changed", CHANGED_INPUTS)
def test_diff_is_a_change_only_when_files_settings_or_catalogue_change(provider, props, changed):
    olds = {k: v for k, v in props.items() if k != "dsn"}
    news = {**props, changed: CHANGED_INPUTS[changed]}

    assert provider.diff("id", olds, props).changes is False, "same files and settings: no update"
    assert provider.diff("id", olds, news).changes is True
    assert provider.diff("id", olds, news).replaces == [], "never replace: that would mean delete + create"


def test_delete_keeps_the_trail(provider, props, pg_cluster, pg_database):
    provider.create(props)

    provider.delete("ops_audit-migrations", props)

    with pg_cluster.connect(pg_database) as conn:
        assert conn.execute("select to_regclass('ops_audit.events') is not null").fetchone() == (True,)


def test_a_changed_catalogue_reaches_the_database_on_update(provider, props, pg_cluster, pg_database):
    provider.create(props)
    news = {**props, "actions": {**props["actions"], "incidents:ack": "incidents:read"}}

    provider.update("ops_audit-migrations", props, news)

    with pg_cluster.connect(pg_database) as conn:
        assert conn.execute("select permission from ops_audit.actions where action = 'incidents:ack'").fetchone() == ("incidents:read",)
