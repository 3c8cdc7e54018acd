"""The rotator login (infra/migrations/0020_rotator.sql) on a real PostgreSQL 15: it can rotate, and nothing else.

PostgreSQL 15's CREATEROLE may alter and grant every non-superuser role, so the
rotator has no attribute at all; it may only call ops_rotation.set_login_password,
which the admin owns. Each refusal here is a real statement run as the rotator over
TCP with scram-sha-256, against the real migrations.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql

from infra.lambdas.rotate_postgres import scram_verifier
from tests.secrets.rotation_rig import RotationRig

pytestmark = pytest.mark.postgres


def rotator_session(rig: RotationRig) -> psycopg.Connection:
    master = rig.sm.get_secret_value(SecretId=rig.master_arn, VersionStage="AWSCURRENT")["SecretString"]
    assert rig.rotator in master, "the rig's master secret must be the rotator login"
    n = rig.rotator.removeprefix("ops_rotator_")
    return psycopg.connect(rig.cluster.dsn(rig.rotator, f"rotator-password-{n}", rig.dbname), autocommit=True)


def set_login_password(conn: psycopg.Connection, login: str, verifier: str | None = None) -> None:
    if verifier is None:
        verifier = scram_verifier(conn, login, "Another-long-password-1234567890")
    conn.execute("select ops_rotation.set_login_password(%s, %s)", (login, verifier))


def test_the_rotator_rotates_its_logins_through_the_function(rig: RotationRig) -> None:
    rig.rotate()  # creates the clone
    rig.rotate()  # sets the base user's password
    assert rig.logs_in(rig.value("AWSCURRENT")) and rig.logs_in(rig.value("AWSPREVIOUS"))
    assert rig.role_memberships(f"{rig.user}_clone") == [rig.group]


def test_the_rotator_holds_no_role_attribute(rig: RotationRig) -> None:
    attributes = rig.role_attributes(rig.rotator)
    assert attributes is not None and attributes[0] is True, "the rotator logs in"
    assert attributes[1:6] == (False, False, False, False, False), "no SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS"


def test_the_rotator_reads_nothing_of_ops_audit(rig: RotationRig) -> None:
    with rotator_session(rig) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select count(*) from ops_audit.events")


@pytest.mark.parametrize(
    "statement",
    [
        "alter role postgres with password 'taken-over'",
        "alter role authenticator with password 'taken-over'",
        "alter role {user} with password 'taken-over'",
        "create role intruder login password 'intruder'",
        "grant ops_audit_writer to {rotator}",
        "grant ops_audit_reader to {rotator}",
        "alter role {rotator} createrole",
    ],
    ids=["alter-admin", "alter-authenticator", "alter-rotated-login-directly", "create-role", "join-writer",
         "join-reader", "grant-itself-createrole"],
)
def test_the_rotator_cannot_touch_roles_directly(rig: RotationRig, statement: str) -> None:
    with rotator_session(rig) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement.format(user=rig.user, rotator=rig.rotator))


@pytest.mark.parametrize(
    "login",
    ["postgres", "authenticator", "supabase_admin", "ops_audit_owner", "service_role", "{rotator}",
     "authenticator_clone", "{user}_clone_clone", "nobody_clone"],
    ids=["admin", "authenticator", "superuser", "audit-owner", "service-role", "itself", "clone-of-other-role",
         "clone-of-a-clone", "clone-of-nobody"],
)
def test_the_function_refuses_every_login_but_the_rotated_ones(rig: RotationRig, login: str) -> None:
    login = login.format(user=rig.user, rotator=rig.rotator)
    with rotator_session(rig) as conn:
        with pytest.raises(errors.InsufficientPrivilege, match="is not a rotated login"):
            set_login_password(conn, login)
        created = conn.execute("select 1 from pg_roles where rolname = %s and rolname like '%%clone'", (login,)).fetchone()
    assert created is None, f"{login} must not have been created"


def test_a_login_with_another_membership_is_not_a_rotated_login(rig: RotationRig) -> None:
    """A writer login that someone also made a member of service_role is refused, not rotated."""
    with rig.cluster.connect(rig.dbname) as conn:
        conn.execute(sql.SQL("grant service_role to {}").format(sql.Identifier(rig.user)))
    with rotator_session(rig) as conn, pytest.raises(errors.InsufficientPrivilege, match="is not a rotated login"):
        set_login_password(conn, rig.user)


@pytest.mark.parametrize("password", ["plain-text-password", "md5" + "0" * 32, ""], ids=["clear-text", "md5", "empty"])
def test_the_function_takes_only_a_scram_verifier(rig: RotationRig, password: str) -> None:
    with rotator_session(rig) as conn, pytest.raises(errors.InvalidParameterValue, match="SCRAM-SHA-256 verifier"):
        set_login_password(conn, rig.user, password)
