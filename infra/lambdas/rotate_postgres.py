"""Secrets Manager rotation for a PostgreSQL login, alternating `<user>` and `<user>_clone`.

Handler: `rotate_postgres.lambda_handler` (package root infra/lambdas). Secrets
Manager calls it four times per rotation with `Step` = createSecret, setSecret,
testSecret, finishSecret, the secret's ARN as `SecretId` and the new version's
id as `ClientRequestToken`. Every step is idempotent: a retried rotation re-runs
all four steps with the same token, and re-invoking a step of a finished
rotation changes nothing.

The secret is AWS's PostgreSQL JSON (`engine`, `host`, `port`, `username`,
`password`, `dbname`, `masterarn`). `masterarn` names a secret of the same
shape: the rotator login, which may do one thing, call
`ops_rotation.set_login_password` (infra/migrations/0020_rotator.sql), which
sets a rotated login's password and creates its clone on first use.
Because each rotation changes the password of the user that is *not* current,
the previous credentials keep working until the rotation after next.

Passwords reach the server only as SCRAM verifiers, never as clear text, so no
statement log shows them.
Connections use TLS (`sslmode=require`), overridable only through PGSSLMODE.
Needs boto3 (in the Lambda runtime) and psycopg (the layer).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
from typing import Any

import boto3
import psycopg
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
CLONE_SUFFIX = "_clone"
REQUIRED_KEYS = ("engine", "host", "port", "username", "password", "dbname")
ENGINE = "postgres"
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 40
MAX_IDENTIFIER = 63


class MalformedSecretError(ValueError):
    """A secret's JSON breaks the expected shape; the message names the offending key."""


class RotationError(RuntimeError):
    """The rotation cannot proceed (wrong stage, failed login)."""


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = boto3.client("secretsmanager", region_name=region())
    if not rotation_pending(client, arn, token):
        logger.info("%s: version %s is not pending any more; %s is a no-op", arn, token, step)
        return
    steps = {"createSecret": create_secret, "setSecret": set_secret, "testSecret": test_secret, "finishSecret": finish_secret}
    if step not in steps:
        raise ValueError(f"unknown Step {step!r}; expected one of {sorted(steps)}")
    steps[step](client, arn, token)


def region() -> str:
    value = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not value:
        raise RuntimeError("neither AWS_REGION nor AWS_DEFAULT_REGION is set")
    return value


def sslmode() -> str:
    """TLS is required unless PGSSLMODE says otherwise (read here, explicitly, and checked)."""
    value = os.environ.get("PGSSLMODE", "require")
    if value not in SSLMODES:
        raise ValueError(f"PGSSLMODE {value!r} is not one of {SSLMODES}")
    return value


def rotation_pending(client: Any, arn: str, token: str) -> bool:
    """True while `token` is the pending version; False once its rotation finished (AWSCURRENT, or superseded)."""
    metadata = client.describe_secret(SecretId=arn)
    stages = metadata.get("VersionIdsToStages", {}).get(token)
    if stages is None:
        raise RotationError(f"{arn}: version {token} does not exist; Secrets Manager creates it before rotating")
    if CURRENT in stages or PENDING not in stages:
        return False
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"{arn}: rotation is not enabled on this secret")
    return True


# --- reading and checking secrets -------------------------------------------


def get_secret(client: Any, arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    """A version's JSON, checked; raises ClientError ResourceNotFoundException when it has no value."""
    kwargs = {"SecretId": arn, "VersionStage": stage} | ({"VersionId": token} if token else {})
    text = client.get_secret_value(**kwargs)["SecretString"]
    where = f"{arn} ({stage})"
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise MalformedSecretError(f"{where}: the secret is not JSON") from None
    return check_secret(value, where)


def check_secret(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedSecretError(f"{where}: the secret must be a JSON object")
    for key in REQUIRED_KEYS:
        if value.get(key) in (None, ""):
            raise MalformedSecretError(f"{where}: key {key!r} is missing or empty")
    if value["engine"] != ENGINE:
        raise MalformedSecretError(f"{where}: key 'engine' is {value['engine']!r}, expected {ENGINE!r}")
    if not str(value["port"]).isdigit():
        raise MalformedSecretError(f"{where}: key 'port' is {value['port']!r}, expected a number")
    if len(base_user(value["username"]) + CLONE_SUFFIX) > MAX_IDENTIFIER:
        raise MalformedSecretError(f"{where}: key 'username' is too long to add {CLONE_SUFFIX!r}")
    return value


def get_master(client: Any, arn: str, user_secret: dict[str, Any]) -> dict[str, Any]:
    """The master login of a user secret, which must point at the same server."""
    if not user_secret.get("masterarn"):
        raise MalformedSecretError(f"{arn}: key 'masterarn' is missing or empty")
    master = get_secret(client, user_secret["masterarn"], CURRENT)
    if (master["host"], str(master["port"])) != (user_secret["host"], str(user_secret["port"])):
        raise MalformedSecretError(
            f"{arn}: key 'host' is {user_secret['host']}:{user_secret['port']}, "
            f"but its master logs in to {master['host']}:{master['port']}"
        )
    return master


def base_user(username: str) -> str:
    return username.removesuffix(CLONE_SUFFIX)


def alternate_user(username: str) -> str:
    """`<user>` -> `<user>_clone` -> `<user>`: the user that is not current."""
    return base_user(username) if username.endswith(CLONE_SUFFIX) else username + CLONE_SUFFIX


def has_value(client: Any, arn: str, token: str) -> bool:
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


# --- database access ---------------------------------------------------------


def connect(secret: dict[str, Any]) -> psycopg.Connection:
    return psycopg.connect(
        host=secret["host"],
        port=int(secret["port"]),
        dbname=secret["dbname"],
        user=secret["username"],
        password=secret["password"],
        sslmode=sslmode(),
        connect_timeout=5,
        application_name="ops-hub-rotation",
    )


def can_log_in(secret: dict[str, Any]) -> bool:
    try:
        with connect(secret) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError:
        return False
    return True


def scram_verifier(conn: psycopg.Connection, user: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier libpq computes client-side; the server never sees the clear text."""
    return conn.pgconn.encrypt_password(password.encode(), user.encode(), b"scram-sha-256").decode()


def set_password(conn: psycopg.Connection, user: str, password: str) -> None:
    """Give `user` the password through the rotator's one function, which creates `<base>_clone` on first use."""
    conn.execute("select ops_rotation.set_login_password(%s, %s)", (user, scram_verifier(conn, user, password)))


# --- the four steps ----------------------------------------------------------


def create_secret(client: Any, arn: str, token: str) -> None:
    """Store the next credentials (the other user, a new password) as AWSPENDING, once per token."""
    current = get_secret(client, arn, CURRENT)
    get_master(client, arn, current)
    if has_value(client, arn, token):
        logger.info("%s: version %s already holds the pending credentials", arn, token)
        return
    pending = dict(current)
    pending["username"] = alternate_user(current["username"])
    pending["password"] = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(pending), VersionStages=[PENDING])
    logger.info("%s: stored pending credentials for %s in version %s", arn, pending["username"], token)


def set_secret(client: Any, arn: str, token: str) -> None:
    """Set the pending user's password in the database (creating `<user>_clone` on first use)."""
    current = get_secret(client, arn, CURRENT)
    pending = get_secret(client, arn, PENDING, token)
    master = get_master(client, arn, current)
    for key in ("host", "port", "dbname"):
        if str(pending[key]) != str(current[key]):
            raise MalformedSecretError(f"{arn} ({PENDING}): key {key!r} differs from AWSCURRENT")
    if base_user(pending["username"]) != base_user(current["username"]):
        raise MalformedSecretError(f"{arn} ({PENDING}): key 'username' is not {current['username']!r} or its clone")
    if can_log_in(pending):
        logger.info("%s: %s already logs in with the pending password", arn, pending["username"])
        return
    with connect(master) as conn:
        set_password(conn, pending["username"], pending["password"])
    logger.info("%s: set the password of %s", arn, pending["username"])


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = get_secret(client, arn, PENDING, token)
    if not can_log_in(pending):
        raise RotationError(f"{arn}: {pending['username']} cannot log in with the pending password")
    logger.info("%s: %s logs in with the pending password", arn, pending["username"])


def finish_secret(client: Any, arn: str, token: str) -> None:
    """Move AWSCURRENT to the new version; Secrets Manager moves AWSPREVIOUS to the old one."""
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next(v for v, stages in versions.items() if CURRENT in stages)
    client.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current)
    logger.info("%s: version %s is now AWSCURRENT (was %s)", arn, token, current)
