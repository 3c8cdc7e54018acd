"""rotate_postgres against moto's Secrets Manager and a real PostgreSQL 15 with scram-sha-256 logins.

The cluster refuses a wrong password, so every "logs in" here is a real
SCRAM authentication over TCP.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass

import boto3
import psycopg
import pytest

from infra.lambdas import rotate_postgres
from tests.secrets.rotation_rig import STEPS, RotationRig

pytestmark = pytest.mark.postgres


def test_each_rotation_keeps_current_and_previous_working(rig: RotationRig) -> None:
    first = rig.value()

    for n in range(1, 4):
        rig.rotate()
        current, previous = rig.value("AWSCURRENT"), rig.value("AWSPREVIOUS")
        assert rig.logs_in(current), f"rotation {n}: AWSCURRENT ({current['username']}) cannot log in"
        assert rig.logs_in(previous), f"rotation {n}: AWSPREVIOUS ({previous['username']}) no longer logs in"
        assert current["username"] != previous["username"], f"rotation {n}: users must alternate"
        if n == 2:
            assert not rig.logs_in(first), "after two rotations the first password must no longer work"


def test_users_alternate_between_user_and_clone(rig: RotationRig) -> None:
    users = []
    for _ in range(3):
        rig.rotate()
        users.append(rig.value()["username"])

    assert users == [f"{rig.user}_clone", rig.user, f"{rig.user}_clone"]


def test_clone_is_a_plain_login_with_exactly_the_users_groups(rig: RotationRig) -> None:
    rig.rotate()

    clone = f"{rig.user}_clone"
    login, superuser, createrole, createdb, replication, bypassrls, verifier = rig.role_attributes(clone)
    assert login and not (superuser or createrole or createdb or replication or bypassrls), "clone must be a plain LOGIN role"
    assert rig.role_memberships(clone) == rig.role_memberships(rig.user) == [rig.group]
    assert verifier.startswith("SCRAM-SHA-256$"), "the password must be stored as a SCRAM verifier"


def test_password_never_reaches_the_server_in_clear_text(rig: RotationRig) -> None:
    """The statement log shows the rotator's function call, but only with the SCRAM verifier as its argument."""
    with rig.cluster.connect(rig.dbname) as conn:
        conn.execute("alter system set log_statement = 'all'")
        conn.execute("select pg_reload_conf()")
    try:
        rig.rotate()
        rig.rotate()
    finally:
        with rig.cluster.connect(rig.dbname) as conn:
            conn.execute("alter system reset log_statement")
            conn.execute("select pg_reload_conf()")
    log = rig.cluster.logfile.read_text(errors="replace")
    for stage in ("AWSCURRENT", "AWSPREVIOUS"):
        password = rig.value(stage)["password"]
        assert password not in log, f"the {stage} password appears in the server log"
    assert "SCRAM-SHA-256$" in log, "expected the verifier in the logged statement (is log_statement on?)"


def test_without_pgsslmode_the_handler_insists_on_tls(rig: RotationRig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test cluster has no TLS: with the default sslmode=require, the first connection must fail."""
    monkeypatch.delenv("PGSSLMODE")

    token = rig.start_rotation()

    assert [step for step, _ in rig.failures] == ["setSecret"], rig.failures
    assert isinstance(rig.failures[0][1], psycopg.OperationalError), repr(rig.failures[0][1])
    assert "AWSCURRENT" not in rig.stages()[token]


def test_an_invalid_pgsslmode_is_refused(rig: RotationRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSSLMODE", "sometimes")
    with pytest.raises(ValueError, match="PGSSLMODE 'sometimes'"):
        rotate_postgres.sslmode()


# --- crashes and retries --------------------------------------------------------


class Crash(Exception):
    """Stands for the Lambda dying (timeout, out of memory) at the injected point."""


@dataclass(frozen=True)
class CrashPoint:
    test_id: str
    target: str  # attribute of rotate_postgres to wrap
    when: str  # "before" or "after" the wrapped call


CRASH_POINTS = [
    CrashPoint("createSecret-before-storing", "create_secret", "before"),
    CrashPoint("createSecret-after-storing", "create_secret", "after"),
    CrashPoint("setSecret-before-connecting", "set_secret", "before"),
    CrashPoint("setSecret-mid-transaction", "set_password", "after"),
    CrashPoint("setSecret-after-commit", "set_secret", "after"),
    CrashPoint("testSecret-before-login", "test_secret", "before"),
    CrashPoint("testSecret-after-login", "test_secret", "after"),
    CrashPoint("finishSecret-before-moving-label", "finish_secret", "before"),
    CrashPoint("finishSecret-after-moving-label", "finish_secret", "after"),
]


def inject_crash(monkeypatch: pytest.MonkeyPatch, point: CrashPoint) -> None:
    original = getattr(rotate_postgres, point.target)
    fired = []

    def crashing(*args: object) -> object:
        if fired:
            return original(*args)
        fired.append(True)
        if point.when == "before":
            raise Crash(point.test_id)
        original(*args)
        raise Crash(point.test_id)

    # The handler looks its steps up by module-level name on every call, so the wrapper is what runs.
    monkeypatch.setattr(rotate_postgres, point.target, crashing)


@pytest.mark.parametrize("point", CRASH_POINTS, ids=[p.test_id for p in CRASH_POINTS])
def test_a_crash_in_any_step_then_a_retry_completes_with_nothing_lost(
    rig: RotationRig, monkeypatch: pytest.MonkeyPatch, point: CrashPoint
) -> None:
    before = rig.value()
    inject_crash(monkeypatch, point)

    token = rig.start_rotation()
    assert rig.failures and isinstance(rig.failures[0][1], Crash), f"the crash at {point.test_id} did not fire"
    assert rig.logs_in(rig.value("AWSCURRENT")), "AWSCURRENT must keep working while a rotation is broken"
    stored = _pending_value(rig, token)
    rig.retry(token)

    current = rig.value("AWSCURRENT")
    assert rig.stages()[token] == ["AWSCURRENT"], f"the retried token must end as AWSCURRENT: {rig.stages()}"
    if stored is not None:
        assert current == stored, "createSecret stored a different value under a token that already had one"
    assert rig.logs_in(current), "the new AWSCURRENT cannot log in"
    assert rig.logs_in(rig.value("AWSPREVIOUS")), "the old credentials must still log in"
    assert rig.value("AWSPREVIOUS") == before, "AWSPREVIOUS must be the value before the rotation"


def _pending_value(rig: RotationRig, token: str) -> dict | None:
    try:
        return rig.value("AWSPENDING", token)
    except rig.sm.exceptions.ResourceNotFoundException:
        return None


@pytest.mark.parametrize("step", STEPS)
def test_reinvoking_a_step_of_a_finished_rotation_changes_nothing(rig: RotationRig, step: str) -> None:
    token = rig.rotate()
    stages, current = rig.stages(), rig.value()
    verifiers = {u: rig.role_attributes(u)[-1] for u in (rig.user, f"{rig.user}_clone")}

    rig.invoke(step, token)

    assert rig.stages() == stages, f"{step} moved staging labels"
    assert rig.value() == current, f"{step} changed AWSCURRENT"
    assert {u: rig.role_attributes(u)[-1] for u in verifiers} == verifiers, f"{step} changed a password"


def test_reinvoking_a_step_of_a_superseded_rotation_changes_nothing(rig: RotationRig) -> None:
    old = rig.rotate()
    rig.rotate()
    stages, current = rig.stages(), rig.value()

    for step in STEPS:
        rig.invoke(step, old)

    assert rig.stages() == stages and rig.value() == current


# --- logins during rotation ------------------------------------------------------


def test_a_login_loop_never_fails_during_rotations(rig: RotationRig) -> None:
    """An application that fetches AWSCURRENT and logs in, in a loop, while three rotations run."""
    failures: list[str] = []
    logins = []
    stop = threading.Event()

    def login_loop() -> None:
        sm = boto3.client("secretsmanager", region_name="eu-central-1")
        while not stop.is_set():
            secret = json.loads(sm.get_secret_value(SecretId=rig.arn, VersionStage="AWSCURRENT")["SecretString"])
            if not rig.logs_in(secret):
                failures.append(secret["username"])
            logins.append(secret["username"])

    worker = threading.Thread(target=login_loop)
    worker.start()
    try:
        for _ in range(3):
            rig.rotate()
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=30)

    assert len(set(logins)) == 2, f"the loop should have seen both users log in, saw {set(logins)}"
    assert failures == [], f"{len(failures)} of {len(logins)} logins failed during rotation"


# --- malformed secrets ----------------------------------------------------------


@dataclass(frozen=True)
class Malformation:
    test_id: str
    key: str
    change: str  # "drop" the key or set it to `value`
    value: object = None
    in_master: bool = False


MALFORMATIONS = [
    Malformation("missing-password", "password", "drop"),
    Malformation("missing-username", "username", "drop"),
    Malformation("wrong-engine", "engine", "set", "mysql"),
    Malformation("host-not-the-masters", "host", "set", "localhost"),
    Malformation("missing-masterarn", "masterarn", "drop"),
    Malformation("master-missing-password", "password", "drop", in_master=True),
]


@pytest.mark.parametrize("case", MALFORMATIONS, ids=[m.test_id for m in MALFORMATIONS])
def test_a_malformed_secret_fails_naming_the_key_and_changes_nothing(rig: RotationRig, case: Malformation) -> None:
    target = rig.master_arn if case.in_master else rig.arn
    value = json.loads(rig.sm.get_secret_value(SecretId=target, VersionStage="AWSCURRENT")["SecretString"])
    bad = copy.deepcopy(value)
    if case.change == "drop":
        bad.pop(case.key)
    else:
        bad[case.key] = case.value
    rig.sm.put_secret_value(SecretId=target, SecretString=json.dumps(bad), VersionStages=["AWSCURRENT"])
    current_before = rig.value()
    roles_before = {u: rig.role_attributes(u) for u in (rig.user, f"{rig.user}_clone")}

    token = rig.start_rotation()

    assert rig.failures, "a malformed secret must fail the rotation"
    step, error = rig.failures[0]
    assert step == "createSecret", f"expected createSecret to refuse it, {step} failed: {error}"
    assert isinstance(error, rotate_postgres.MalformedSecretError), repr(error)
    assert f"'{case.key}'" in str(error), f"the error must name key {case.key!r}: {error}"
    assert rig.value() == current_before, "AWSCURRENT changed"
    assert "AWSCURRENT" not in rig.stages()[token]
    assert _pending_value(rig, token) is None, "nothing may be stored as AWSPENDING"
    assert {u: rig.role_attributes(u) for u in roles_before} == roles_before, "a database role changed"



def test_an_abandoned_rotation_is_replaced_by_a_new_one_as_the_runbook_says(
    rig: RotationRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/runbook.md: remove the stuck AWSPENDING label, then rotate-secret again."""
    before = rig.value()
    inject_crash(monkeypatch, CrashPoint("stuck-after-set", "set_secret", "after"))
    stuck = rig.start_rotation()
    assert rig.failures, "the injected crash did not fire"
    abandoned = rig.value("AWSPENDING", stuck)

    rig.sm.update_secret_version_stage(SecretId=rig.arn, VersionStage="AWSPENDING", RemoveFromVersionId=stuck)
    rig.rotate()

    current = rig.value()
    assert current["username"] == abandoned["username"] == f"{rig.user}_clone"
    assert current["password"] != abandoned["password"], "the new rotation sets a fresh password"
    assert not rig.logs_in(abandoned), "the abandoned password no longer works"
    assert rig.logs_in(current) and rig.logs_in(before), "the new and the previous credentials both log in"


def test_region_comes_from_aws_region_then_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert rotate_postgres.region() == "eu-west-1"

    monkeypatch.delenv("AWS_REGION")
    assert rotate_postgres.region() == "us-east-1"

    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(RuntimeError, match="AWS_REGION"):
        rotate_postgres.region()
