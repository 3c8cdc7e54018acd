"""`opshub audit verify --anchors` against a real PostgreSQL 15 and the checkpoints the real checkpoint
Lambda wrote to moto's S3 (signed with moto's KMS): a consistent rewrite by the admin `postgres` passes
the chain walk and is caught by the checkpoints; bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from infra.cli.main import main
from tests.audit.conftest import AuditDb, claims_for
from tests.compliance.conftest import Archive
from tests.support.pgcluster import ADMIN_PASSWORD, ADMIN_USER

pytestmark = pytest.mark.postgres

ANCHORS = "s3://ops-hub-test-compliance-123456789012/audit-checkpoints/"

# What `postgres` can do on Supabase without being a superuser: as a member of ops_audit_owner it may
# disable the trail's triggers, then rewrite an event and re-seal every later one and the head
# (the tamper helpers of tests/audit/test_chain.py, done by the owner instead of a superuser).
CONSISTENT_REWRITE = """
alter table ops_audit.events disable trigger user;
alter table ops_audit.seals disable trigger user;
update ops_audit.events set payload = '{"rewritten": true}'
where id = (select event_id from ops_audit.seals where chain_seq = %(seq)s);
do $$
declare
    s    record;
    prev bytea := coalesce((select row_hash from ops_audit.seals where chain_seq = %(seq)s - 1),
                           decode(repeat('00', 32), 'hex'));
begin
    for s in select x.chain_seq, e.* from ops_audit.seals as x join ops_audit.events as e on e.id = x.event_id
             where x.chain_seq >= %(seq)s order by x.chain_seq loop
        update ops_audit.seals
        set prev_hash = prev,
            row_hash = ops_audit.event_digest(prev, s.chain_seq, s.id, s.occurred_at, s.actor_sub, s.actor_roles,
                                              s.action, s.target, s.payload)
        where chain_seq = s.chain_seq
        returning row_hash into prev;
    end loop;
    update ops_audit.chain_head set last_hash = prev where singleton;
end
$$;
alter table ops_audit.seals enable trigger user;
alter table ops_audit.events enable trigger user;
"""


def _events(db: AuditDb, count: int) -> None:
    """`count` events, sealed (as the sealer job would before the next checkpoint)."""
    for i in range(count):
        db.insert(claims_for(f"auth0|user-{i % 2}", "ops-sre"), target=f"INC-{i}")
    db.seal()


def _verify(db: AuditDb, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["audit", "verify", "--dsn", db.admin_dsn, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _download(archive: Archive, into: Path) -> Path:
    """A copy of the checkpoints, as an auditor makes with `aws s3 sync`."""
    s3 = boto3.client("s3")
    for key in archive.objects("audit-checkpoints/"):
        target = into / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=archive.bucket, Key=key)["Body"].read())
    return into / "audit-checkpoints"


def _public_key_file(signing_key: str, path: Path) -> Path:
    path.write_bytes(boto3.client("kms").get_public_key(KeyId=signing_key)["PublicKey"])
    return path


@pytest.fixture
def anchored(checkpoint_job, audit_db: AuditDb) -> list[dict]:
    """Ten events and a checkpoint, three more and another: two anchors of one chain."""
    _events(audit_db, 10)
    first = checkpoint_job()
    _events(audit_db, 3)
    return [first, checkpoint_job()]


def test_an_intact_chain_holds_every_anchor(anchored, audit_db: AuditDb, capsys) -> None:
    code, out, _ = _verify(audit_db, capsys, "--anchors", ANCHORS)

    assert code == 0, out
    assert "ops_audit chain intact: 13 events" in out
    assert "anchors hold: 2 checkpoints under s3://" in out and "signatures valid (KMS arn:aws:kms:" in out
    assert f"latest: checkpoint s3://ops-hub-test-compliance-123456789012/{anchored[1]['key']}" in out
    assert "chain_seq 13), 0 deviations" in out


def test_a_consistent_rewrite_by_postgres_is_caught_only_by_the_anchors(anchored, audit_db: AuditDb, capsys) -> None:
    with audit_db.login(ADMIN_USER, ADMIN_PASSWORD) as conn:
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (False,)
        conn.execute(CONSISTENT_REWRITE % {"seq": 4})

    without_anchors = _verify(audit_db, capsys)
    code, out, _ = _verify(audit_db, capsys, "--anchors", ANCHORS)

    assert without_anchors[0] == 0 and "intact: 13 events" in without_anchors[1], "the rewrite is consistent: the walk alone passes"
    assert code == 1
    assert f"checkpoint s3://ops-hub-test-compliance-123456789012/{anchored[0]['key']}" in out, "the first checkpoint is named"
    assert "chain_seq 10) no longer matches: the database has row_hash" in out
    assert "the chain was rewritten at or before chain_seq 10" in out


def test_a_rewrite_after_the_last_checkpoint_is_caught_by_the_next_one(anchored, checkpoint_job, audit_db: AuditDb, capsys) -> None:
    with audit_db.login(ADMIN_USER, ADMIN_PASSWORD) as conn:
        conn.execute(CONSISTENT_REWRITE % {"seq": 12})

    code, out, _ = _verify(audit_db, capsys, "--anchors", ANCHORS)

    assert code == 1 and f"{anchored[1]['key']} (taken" in out and "chain_seq 13) no longer matches" in out
    assert anchored[0]["key"] not in out, "the rows up to chain_seq 10 were not touched"


def test_rows_removed_from_the_end_are_named(anchored, audit_db: AuditDb, capsys) -> None:
    with audit_db.superuser() as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute("delete from ops_audit.events where id in (select event_id from ops_audit.seals where chain_seq > 9)")
        conn.execute("delete from ops_audit.seals where chain_seq > 9")
        conn.execute("update ops_audit.chain_head set last_seq = 9, last_hash = "
                     "(select row_hash from ops_audit.seals where chain_seq = 9)")

    code, out, _ = _verify(audit_db, capsys, "--anchors", ANCHORS)

    assert code == 1 and "chain_seq 10) no longer matches: chain_seq 10 is no longer in the chain (rows removed)" in out


def test_a_copied_folder_verifies_with_the_public_key_file(anchored, archive: Archive, signing_key: str, audit_db: AuditDb,
                                                           tmp_path: Path, capsys) -> None:
    folder = _download(archive, tmp_path / "copy")
    key = _public_key_file(signing_key, tmp_path / "checkpoints.der")

    code, out, _ = _verify(audit_db, capsys, "--anchors", str(folder), "--public-key", str(key))

    assert code == 0, out
    assert f"2 checkpoints under {folder}, signatures valid ({key})" in out


def test_an_altered_checkpoint_fails_its_signature(anchored, archive: Archive, signing_key: str, audit_db: AuditDb,
                                                   tmp_path: Path, capsys) -> None:
    folder = _download(archive, tmp_path / "copy")
    forged = folder / anchored[1]["key"].removeprefix("audit-checkpoints/")
    checkpoint = json.loads(forged.read_text())
    checkpoint["signed"]["state"]["owner_members"] = []
    forged.write_text(json.dumps(checkpoint))

    code, out, _ = _verify(audit_db, capsys, "--anchors", str(folder), "--public-key", str(_public_key_file(signing_key, tmp_path / "k.der")))

    assert code == 1
    assert f"checkpoint {forged} (taken" in out and "its signature does not verify" in out


def test_a_checkpoint_signed_by_another_key_fails(anchored, archive: Archive, audit_db: AuditDb, tmp_path: Path, capsys) -> None:
    other = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    folder = _download(archive, tmp_path / "copy")

    code, out, _ = _verify(audit_db, capsys, "--anchors", str(folder), "--public-key", str(_public_key_file(other, tmp_path / "o.der")))

    assert code == 1 and "its signature does not verify" in out and anchored[0]["key"].rsplit("/", 1)[1] in out


def test_checkpoints_stay_checkable_after_their_month_is_detached(anchored, audit_db: AuditDb, capsys) -> None:
    """After the month's export, the owner detaches it (ops_audit.detach_partition): the seals outlive the
    month's events, so both checkpoints are still checked against the chain."""
    with audit_db.login(ADMIN_USER, ADMIN_PASSWORD) as conn:
        rows, last_hash = conn.execute("select count(*), (select row_hash from ops_audit.seals where chain_seq = 13) from ops_audit.events").fetchone()
        conn.execute("call ops_audit.detach_partition(now()::date, %s, %s)", (rows, last_hash))

    code, out, _ = _verify(audit_db, capsys, "--anchors", ANCHORS)

    assert code == 0, out
    assert "ops_audit chain intact: 0 events" in out
    assert "anchors hold: 2 checkpoints" in out and "each head still in the chain" in out


@pytest.mark.parametrize(
    ("anchors", "extra", "message"),
    [
        ("missing-folder", [], "not a folder of checkpoints"),
        ("empty-folder", [], "holds no checkpoint"),
        ("garbage", [], "x.json: not a checkpoint (JSONDecodeError"),
        ("s3://no-such-bucket/audit-checkpoints/", [], "cannot read the checkpoints"),
        ("copy", ["--public-key", "not-a-key.pem"], "not a readable public key"),
    ],
    ids=["missing-folder", "empty-folder", "not-json", "no-bucket", "bad-public-key"],
)
def test_unreadable_input_exits_2_naming_it_without_traceback(anchored, archive: Archive, audit_db: AuditDb, tmp_path: Path, capsys,
                                                               anchors: str, extra: list[str], message: str) -> None:
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "x.json").write_text("not json")
    (tmp_path / "garbage" / "y.json").write_text('{"format": "opshub.ops_audit.checkpoint/1"}')
    (tmp_path / "not-a-key.pem").write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    _download(archive, tmp_path / "copy")
    source = anchors if anchors.startswith("s3://") else str(tmp_path / anchors)
    extra = [str(tmp_path / e) if e.endswith(".pem") else e for e in extra]

    code, out, err = _verify(audit_db, capsys, "--anchors", source, *extra)

    assert code == 2, out + err
    assert message in err and "Traceback" not in err, err
    assert "intact" not in out, "nothing is verified when the input cannot be read"
    if anchors == "garbage":
        assert "y.json: not a checkpoint (KeyError" in err, "every bad file is named at once"


def test_public_key_without_anchors_is_a_usage_error(audit_db: AuditDb, tmp_path: Path, capsys) -> None:
    code, _, err = _verify(audit_db, capsys, "--public-key", str(tmp_path / "k.pem"))

    assert code == 2 and "needs --anchors" in err
