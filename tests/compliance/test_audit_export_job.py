"""The audit export against a real throwaway PostgreSQL 15 (migrated ops_audit) and moto, and
`opshub audit verify-export` on what it wrote: intact exports pass, every kind of tampering is named."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import boto3
import pytest
from psycopg.types.json import Jsonb

from infra.cli.main import main
from infra.lambdas import audit_export
from infra.migrations.verify import verify
from tests.audit.conftest import LOGIN_PASSWORD, AuditDb, claims_for
from tests.compliance.conftest import Archive

pytestmark = pytest.mark.postgres
MONTH = dt.datetime.now(dt.UTC).strftime("%Y-%m")


def _events(db: AuditDb, count: int, sealed: bool = True) -> None:
    for i in range(count):
        roles, action = (("ops-sre",), "incidents:ack") if i % 2 else (("ops-payments",), "payments:refund:stripe")
        db.insert(claims_for(f"auth0|user-{i % 3}", *roles), action=action, target=f"INC-{i}",
                  payload=Jsonb({"note": f"ack {i}", "unicode": "żółw ✓", "n": i, "nested": {"b": [1, 2.5], "a": None}}))
    if sealed:
        db.seal()


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch, archive: Archive, audit_db: AuditDb) -> AuditDb:
    """The job's environment as ComplianceJobs sets it; its secret is the AWS PostgreSQL JSON of the exporter login."""
    cluster = audit_db.cluster
    secret = boto3.client("secretsmanager").create_secret(
        Name="ops-hub/test/supabase/ops-audit-exporter",
        SecretString=json.dumps({"engine": "postgres", "host": cluster.host, "port": cluster.port, "username": "ops_audit_exporter",
                                 "password": LOGIN_PASSWORD, "dbname": audit_db.name}),
    )
    monkeypatch.setenv("EXPORTER_SECRET_ARN", secret["ARN"])
    monkeypatch.setenv("ARCHIVE_BUCKET", archive.bucket)
    monkeypatch.setenv("NOTICE_TOPIC_ARN", archive.topic_arn)
    monkeypatch.setenv("PGSSLMODE", "disable")  # the loopback test cluster has no TLS; production uses require
    return audit_db


def _export(archive: Archive, tmp_path: Path) -> tuple[dict, Path]:
    result = audit_export.lambda_handler({"month": MONTH}, None)
    path = tmp_path / "export.jsonl"
    path.write_bytes(boto3.client("s3").get_object(Bucket=archive.bucket, Key=result["key"])["Body"].read())
    return result, path


def _rewrite(path: Path, change) -> None:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(line) + "\n" for line in change(lines)))


def test_export_holds_the_month_with_its_chain_head_and_verifies(exporter: AuditDb, archive: Archive, tmp_path: Path, capsys) -> None:
    _events(exporter, 12)

    result, path = _export(archive, tmp_path)

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    header, trailer = lines[0], lines[-1]
    assert (header["rows"], header["first_seq"], header["last_seq"]) == (12, 1, 12)
    assert header["anchor_hash"] == "00" * 32, "the first month links to the genesis hash"
    assert trailer["last_hash"] == trailer["database_head_hash"] == result["last_hash"]
    assert verify(exporter.admin_dsn).intact, "the database itself agrees the chain is intact"
    head = boto3.client("s3").head_object(Bucket=archive.bucket, Key=result["key"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    (notice,) = archive.notices()
    assert result["last_hash"] in notice["Message"] and notice["MessageAttributes"]["severity"]["Value"] == "ticket"

    assert main(["audit", "verify-export", str(path)]) == 0
    assert f"12 events, chain_seq up to 12, last hash {result['last_hash']}" in capsys.readouterr().out


def _edit_payload(lines: list[dict]) -> list[dict]:
    lines[5]["payload"]["note"] = "edited"
    return lines


def _edit_canonical_too(lines: list[dict]) -> list[dict]:
    lines[5]["payload"]["note"] = "edited"
    lines[5]["canonical"] = lines[5]["canonical"].replace('"ack 4"', '"edited"')
    return lines


def _reseal_row(lines: list[dict]) -> list[dict]:
    """A forger who also recomputes the edited row's hash: the next row no longer links."""
    import hashlib

    lines = _edit_canonical_too(lines)
    lines[5]["row_hash"] = hashlib.sha256(bytes.fromhex(lines[5]["prev_hash"]) + lines[5]["canonical"].encode()).hexdigest()
    return lines


@pytest.mark.parametrize(
    ("change", "broken_seq", "reason"),
    [
        (_edit_payload, 5, "payload differ from the hashed canonical rendering"),
        (_edit_canonical_too, 5, "row_hash does not match the canonical rendering"),
        (_reseal_row, 6, "prev_hash does not link to the previous event"),
        (lambda lines: lines[:4] + lines[5:], 4, "the event is missing from the export"),
        (lambda lines: lines[:-2] + lines[-1:], 12, "the last event of the export is missing"),
    ],
    ids=["payload-edited", "canonical-edited", "row-resealed", "row-removed", "last-row-removed"],
)
def test_tampering_with_an_export_names_the_first_broken_chain_seq(
    exporter: AuditDb, archive: Archive, tmp_path: Path, capsys, change, broken_seq: int, reason: str
) -> None:
    _events(exporter, 12)
    _, path = _export(archive, tmp_path)
    _rewrite(path, change)

    assert main(["audit", "verify-export", str(path)]) == 1

    out = capsys.readouterr().out
    assert f"broken at chain_seq {broken_seq}: {reason}" in out, out


def test_anchor_links_consecutive_exports(exporter: AuditDb, archive: Archive, tmp_path: Path, capsys) -> None:
    _events(exporter, 3)
    _, path = _export(archive, tmp_path)

    assert main(["audit", "verify-export", str(path), "--anchor", "00" * 32]) == 0
    assert main(["audit", "verify-export", str(path), "--anchor", "ab" * 32]) == 1
    assert "does not link to the given --anchor" in capsys.readouterr().out


def test_an_unreadable_file_exits_2_naming_it(tmp_path: Path, capsys) -> None:
    garbage = tmp_path / "not-an-export.jsonl"
    garbage.write_text('{"kind": "header"}\nnot json\n')

    assert main(["audit", "verify-export", str(garbage)]) == 2
    assert f"{garbage}: 1 problem" in capsys.readouterr().err


def test_a_chain_broken_in_the_database_is_not_exported(exporter: AuditDb, archive: Archive) -> None:
    _events(exporter, 4)
    with exporter.superuser() as conn:  # a superuser edit with triggers off, as only verification can catch
        conn.execute("set session_replication_role = replica")
        conn.execute("update ops_audit.events set target = 'INC-forged' where id = 2")

    with pytest.raises(audit_export.ExportError, match="broken at chain_seq 2"):
        audit_export.lambda_handler({"month": MONTH}, None)

    assert archive.objects("audit-exports/") == [] and archive.notices() == []


def test_a_month_with_unsealed_events_is_not_exported(exporter: AuditDb, archive: Archive) -> None:
    _events(exporter, 3)
    _events(exporter, 2, sealed=False)

    with pytest.raises(audit_export.ExportError, match="2 events of .* are not sealed yet"):
        audit_export.lambda_handler({"month": MONTH}, None)

    assert archive.objects("audit-exports/") == [] and archive.notices() == []


@pytest.mark.parametrize(
    ("now", "expected"),
    [("2026-03-01T04:00:00", ("2026-02-01", "2026-03-01")), ("2026-01-02T04:00:00", ("2025-12-01", "2026-01-01"))],
    ids=["previous-month", "across-new-year"],
)
def test_default_month_is_the_previous_one(now: str, expected: tuple[str, str]) -> None:
    start, end = audit_export.month_bounds(None, dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC))
    assert (start.date().isoformat(), end.date().isoformat()) == expected
