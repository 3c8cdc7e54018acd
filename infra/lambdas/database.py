"""The ops_audit jobs' database login: AWS's PostgreSQL secret in Secrets Manager, to a psycopg connection.

Shared by the audit export and the checkpoint Lambdas, which package it as
`infra/lambdas/database.py` beside their own module (their handlers are
`infra.lambdas.<module>.lambda_handler`). The secret is AWS's PostgreSQL JSON
(`host`, `port`, `username`, `password`, `dbname`); connections use TLS
(`sslmode=require`) unless PGSSLMODE says otherwise.
"""

from __future__ import annotations

import json
import os

import boto3
import psycopg

CONNECT_TIMEOUT_SECONDS = 10


class SecretShapeError(Exception):
    """The secret does not hold a database login; nothing was read."""


def login(secret_arn: str) -> dict:
    """The connection parameters the secret's AWSCURRENT version holds."""
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")
    try:
        s = json.loads(value["SecretString"])
        return {"host": s["host"], "port": int(s["port"]), "user": s["username"], "password": s["password"], "dbname": s["dbname"]}
    except (KeyError, TypeError, ValueError):
        raise SecretShapeError(f"secret {secret_arn} must hold host, port, username, password and dbname") from None


def connect(params: dict) -> psycopg.Connection:
    return psycopg.connect(**params, sslmode=os.environ.get("PGSSLMODE", "require"), connect_timeout=CONNECT_TIMEOUT_SECONDS)
