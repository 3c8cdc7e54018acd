"""Runs the pgTAP files in tests/audit/pgtap with pg_prove, as `supabase test db` users do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

PGTAP_DIR = Path(__file__).with_name("pgtap")


@pytest.mark.parametrize("path", sorted(PGTAP_DIR.glob("*.sql")), ids=lambda p: p.name)
def test_pgtap_file_passes_under_pg_prove(fresh_audit_db, path):
    pg_prove = shutil.which("pg_prove")
    assert pg_prove, "pg_prove is missing: run scripts/system-packages.sh (libtap-parser-sourcehandler-pgtap-perl)"
    cluster = fresh_audit_db.cluster
    with fresh_audit_db.superuser() as conn:
        conn.execute("create extension if not exists pgtap")

    result = subprocess.run(
        [pg_prove, "--host", str(cluster.sockdir), "--port", str(cluster.port), "--username", "supabase_admin",
         "--dbname", fresh_audit_db.name, "--verbose", str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )

    assert result.returncode == 0, f"pg_prove failed:\n{result.stdout}\n{result.stderr}"
    assert "All tests successful" in result.stdout, result.stdout
