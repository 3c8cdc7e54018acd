"""The runner's part for ops_metrics (migrations 0017-0019): its roles and schema where missing, and its settings row.

Pulumi declares the NOLOGIN roles, the schema and its USAGE grants
(infra/components/metrics.py); like `runner.ensure_ops_roles` for ops_audit, this
creates only what is missing, so a fresh local database migrates on its own. The
settings row (which ops roles read snapshots) comes from `AuditSettings.metrics_read_roles`.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

from infra.derive.metrics import OWNER_ROLE, READER_GROUP, SCHEMA, SCHEMA_USAGE_ROLES, WRITER_GROUP


def _exists(conn: psycopg.Connection, query: str, *params: object) -> bool:
    return conn.execute(query, params).fetchone() is not None


def ensure_metrics_objects(conn: psycopg.Connection) -> list[str]:
    """Create the missing NOLOGIN roles, the admin's membership in the owner, and the schema with its grants."""
    created = []
    for role in (OWNER_ROLE, WRITER_GROUP, READER_GROUP):
        if not _exists(conn, "select 1 from pg_roles where rolname = %s", role):
            conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
            created.append(f"role {role}")
    if not _exists(conn, "select 1 where pg_has_role(current_user, %s, 'MEMBER')", OWNER_ROLE):
        conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(OWNER_ROLE)))
        created.append(f"membership of the admin in {OWNER_ROLE}")
    if not _exists(conn, "select 1 from pg_namespace where nspname = %s", SCHEMA):
        conn.execute(sql.SQL("create schema {} authorization {}").format(sql.Identifier(SCHEMA), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(
            sql.Identifier(SCHEMA), sql.SQL(", ").join(map(sql.Identifier, SCHEMA_USAGE_ROLES))))
        created.append(f"schema {SCHEMA} (usage for {', '.join(SCHEMA_USAGE_ROLES)})")
    return created


def write_metrics_settings(conn: psycopg.Connection, read_roles: Sequence[str]) -> bool:
    """Upsert the row; True only if a value changed."""
    cur = conn.execute(
        """
        insert into ops_metrics.settings as s (read_roles) values (%s)
        on conflict (singleton) do update set read_roles = excluded.read_roles
            where s.read_roles is distinct from excluded.read_roles
        """,
        (list(read_roles),),
    )
    return cur.rowcount > 0
