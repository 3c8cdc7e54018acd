"""The ops_metrics settings row (infra/migrations/0017_metrics_schema.sql): which ops roles read snapshots.

The runner keeps it current in the same transaction as the migrations, from
`AuditSettings.metrics_read_roles` (infra/derive/metrics.py derives them from the
access model and the metrics catalogue), and creates ops_metrics' roles and schema
where missing (`runner.ensure_ops_roles`), as it does ops_audit's.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg


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
