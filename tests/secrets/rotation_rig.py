"""The rotation driver for the secrets tests: one database login, its secrets in moto, and Secrets Manager's moves.

`RotationRig` drives rotation the way Secrets Manager does: `rotate_secret`
creates the pending version and "invokes" the rotation Lambda, whose four
steps run in-process (`rotate_postgres.lambda_handler`). Each workaround for a
moto 5.2.5 gap (see /work/shared/reference.md) is named where it is applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import psycopg

from infra.derive.audit import GROUP_ROLES, ROTATOR_GROUP, AuditSettings
from infra.lambdas import rotate_postgres
from infra.migrations.runner import migrate
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER, PgCluster

REGION = "eu-central-1"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def can_log_in(cluster: PgCluster, user: str, password: str, dbname: str) -> bool:
    try:
        with psycopg.connect(cluster.dsn(user, password, dbname), connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError:
        return False
    return True


# What the runner writes into ops_audit.settings; rotation reads none of it.
RIG_SETTINGS = AuditSettings(
    roles_claim="https://ops.test/roles", ops_roles=("ops-sre",), read_all_roles=(), actions=(), role_permissions=()
)


@dataclass
class RotationRig:
    """One database user, its secret and its master (rotator login) secret in moto, and a way to rotate them."""

    cluster: PgCluster
    dbname: str
    user: str
    group: str
    rotator: str
    sm: Any
    arn: str
    master_arn: str
    function_arn: str
    failures: list[tuple[str, BaseException]] = field(default_factory=list)

    def value(self, stage: str = "AWSCURRENT", token: str | None = None) -> dict:
        # moto gap 2: after a rotation its default version can be the empty pending one, so always name the stage.
        kwargs = {"SecretId": self.arn, "VersionStage": stage} | ({"VersionId": token} if token else {})
        return json.loads(self.sm.get_secret_value(**kwargs)["SecretString"])

    def stages(self) -> dict[str, list[str]]:
        return self.sm.describe_secret(SecretId=self.arn)["VersionIdsToStages"]

    def logs_in(self, secret: dict) -> bool:
        return can_log_in(self.cluster, secret["username"], secret["password"], self.dbname)

    def invoke(self, step: str, token: str) -> None:
        rotate_postgres.lambda_handler({"Step": step, "SecretId": self.arn, "ClientRequestToken": token}, None)

    def start_rotation(self) -> str:
        """`rotate_secret`, which runs the four steps through the patched Lambda invoke; returns the token."""
        self.failures.clear()
        token = self.sm.rotate_secret(
            SecretId=self.arn, RotationLambdaARN=self.function_arn, RotationRules={"AutomaticallyAfterDays": 30}
        )["VersionId"]
        if not self.failures:
            self.end_rotation(token)
        return token

    def retry(self, token: str) -> None:
        """Secrets Manager's retry: invoke all four steps again with the same token.

        moto gap: calling rotate_secret again with the same token would replace
        the stored pending version with an empty one, which AWS never does.
        """
        for step in STEPS:
            self.invoke(step, token)
        self.end_rotation(token)

    def end_rotation(self, token: str) -> None:
        """What Secrets Manager does after a successful finishSecret: drop AWSPENDING from the new current version.

        moto gap 3: its in-progress check is inverted and refuses the next
        rotate_secret while AWSPENDING and AWSCURRENT share a version, so the
        label is removed here as AWS itself would.
        """
        stages = self.stages()[token]
        if "AWSCURRENT" in stages and "AWSPENDING" in stages:
            self.sm.update_secret_version_stage(SecretId=self.arn, VersionStage="AWSPENDING", RemoveFromVersionId=token)

    def rotate(self) -> str:
        token = self.start_rotation()
        assert not self.failures, f"rotation failed: {self.failures}"
        return token

    def role_memberships(self, user: str) -> list[str]:
        with self.cluster.connect(self.dbname) as conn:
            rows = conn.execute(
                "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid"
                " join pg_roles u on u.oid = m.member where u.rolname = %s order by 1",
                (user,),
            ).fetchall()
        return [r[0] for r in rows]

    def role_attributes(self, user: str) -> tuple | None:
        with self.cluster.connect(self.dbname) as conn:
            return conn.execute(
                "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolpassword"
                " from pg_authid where rolname = %s",
                (user,),
            ).fetchone()


def create_rig(cluster: PgCluster, dbname: str, n: int) -> RotationRig:
    """The real migrations, a login `ops_writer_<n>` in ops_audit_writer, a rotator login `ops_rotator_<n>`
    in ops_audit_rotator, their secrets in moto (the rotator's as the master), and a Lambda record.

    Needs moto active. Roles are cluster-wide, so `n` must be unique per cluster.
    """
    user, group, rotator = f"ops_writer_{n}", GROUP_ROLES["writer"], f"ops_rotator_{n}"
    migrate(cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, dbname), RIG_SETTINGS)
    with cluster.connect(dbname) as conn:
        conn.execute(f"create role {user} login password 'initial-password-{n}' in role {group}")
        conn.execute(f"create role {rotator} login password 'rotator-password-{n}' in role {ROTATOR_GROUP}")
    sm = boto3.client("secretsmanager", region_name=REGION)
    server = {"engine": "postgres", "host": cluster.host, "port": cluster.port, "dbname": dbname}
    master_arn = sm.create_secret(
        Name=f"ops-hub/test/supabase/rotator-{n}",
        SecretString=json.dumps(server | {"username": rotator, "password": f"rotator-password-{n}"}),
    )["ARN"]
    arn = sm.create_secret(
        Name=f"ops-hub/test/supabase/writer-{n}",
        SecretString=json.dumps(server | {"username": user, "password": f"initial-password-{n}", "masterarn": master_arn}),
    )["ARN"]
    return RotationRig(cluster, dbname, user, group, rotator, sm, arn, master_arn, _rotation_function(n))


def _rotation_function(n: int) -> str:
    """A Lambda function record in moto, so rotate_secret accepts the rotation ARN."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"rotate-{n}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=f"rotate-{n}", Runtime="python3.12", Role=role, Handler="rotate_postgres.lambda_handler",
        Code={"ZipFile": b"in-process"},
    )["FunctionArn"]


def in_process_invoke(rig: RotationRig) -> Callable[..., bytes]:
    """A replacement for moto's LambdaBackend.invoke that runs the rotation handler in-process.

    moto gap 1: rotate_secret runs a Lambda only through Docker. Also: moto
    passes the secret's name as SecretId, where Secrets Manager passes the ARN
    (the contract the handler relies on), so the ARN is used. A failing step
    stops the rotation, as in Secrets Manager.
    """

    def invoke(self: object, function_name: str, qualifier: Any, body: str, **headers: Any) -> bytes:
        event = json.loads(body)
        if rig.failures:
            return b""
        try:
            rig.invoke(event["Step"], event["ClientRequestToken"])
        except Exception as exc:  # noqa: BLE001 - recorded for the test to inspect
            rig.failures.append((event["Step"], exc))
        return b""

    return invoke
