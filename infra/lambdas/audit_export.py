"""The monthly audit export: last month's ops_audit.events, with its hash chain, to the locked archive.

AWS Lambda handler `infra.lambdas.audit_export.lambda_handler` (packaged with
infra/lambdas/database.py, psycopg from the layer VendorSecrets builds), started
monthly by EventBridge Scheduler. It connects as the `ops_audit_exporter` login (a
member of `ops_audit_reader`: it reads the whole trail and nothing else) with the
AWS standard PostgreSQL secret in `EXPORTER_SECRET_ARN`, over TLS (`sslmode=require`
unless PGSSLMODE says otherwise).

The file (JSON Lines, `audit-exports/YYYY/MM/events_YYYY_MM-<UTC timestamp>.jsonl`):

1. a header: month, first and last chain_seq, row counts, and `anchor_hash`
   (the prev_hash of the first row = the last hash of the chain before it);
2. one line per sealed event in chain_seq order (the chain lives in
   ops_audit.seals), with `canonical` = the exact text
   `ops_audit.event_digest` hashes after prev_hash (`ops_audit.event_canonical`). The run covers the whole
   chain_seq range of the month, so events whose occurred_at falls in the
   neighbouring month but whose chain_seq lies inside are included, marked
   `in_month: false`, and the chain in the file has no gap;
3. a trailer: the month's last hash and the database's chain head at export.

A month with events the sealer has not linked yet is refused (nothing is
uploaded; the job fails and is retried). Before uploading, every line is checked (`sha256(prev_hash || canonical) == row_hash`,
linked, contiguous); a mismatch fails the run and uploads nothing. The upload
uses If-None-Match, so an earlier export is never replaced, and the bucket's
Object Lock (compliance mode) keeps it. A ticket-severity notice carries the
head hash, so it also lives outside the bucket. `opshub audit verify-export FILE`
re-verifies a file on its own.

Environment: EXPORTER_SECRET_ARN, ARCHIVE_BUCKET, NOTICE_TOPIC_ARN, PGSSLMODE
(optional). The event may name the month to export: {"month": "2026-10"}.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from typing import Any

import boto3
import psycopg

from infra.lambdas import database

PREFIX = "audit-exports"
FORMAT = "opshub.ops_audit.export/1"

# The chain lives in ops_audit.seals (infra/migrations/0010_async_seal.sql): the month's
# range is that of its events' seals. `canonical` is the text the chain hashes
# (ops_audit.event_canonical, 0007_canonical_row.sql); every row's hash is recomputed
# from it before upload.
EXPORT_SQL = """
with bounds as (
    select min(s.chain_seq) as lo, max(s.chain_seq) as hi
    from ops_audit.events as e
    join ops_audit.seals as s on s.event_id = e.id
    where e.occurred_at >= %(start)s and e.occurred_at < %(end)s
)
select s.chain_seq,
       e.id,
       e.actor_sub,
       e.actor_roles,
       e.action,
       e.target,
       e.payload,
       encode(s.prev_hash, 'hex'),
       encode(s.row_hash, 'hex'),
       ops_audit.event_canonical(
           s.chain_seq, e.id, e.occurred_at, e.actor_sub, e.actor_roles, e.action, e.target, e.payload
       ),
       e.occurred_at >= %(start)s and e.occurred_at < %(end)s
from ops_audit.seals as s
cross join bounds as b
join ops_audit.events as e on e.id = s.event_id
where s.chain_seq between b.lo and b.hi
order by s.chain_seq
"""

# Events of the month the sealer has not linked yet: the export would leave them out.
UNSEALED_SQL = """
select count(*)
from ops_audit.events as e
where e.occurred_at >= %(start)s and e.occurred_at < %(end)s
  and not exists (select from ops_audit.seals as s where s.event_id = e.id)
"""

HEAD_SQL = "select last_seq, encode(last_hash, 'hex') from ops_audit.chain_head"


class ExportError(Exception):
    """The export cannot be made or does not verify; nothing was uploaded."""


def month_bounds(month: str | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of `month` (YYYY-MM), or of the month before `now`."""
    if month:
        try:
            start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
        except ValueError:
            raise ExportError(f"month must be YYYY-MM, got {month!r}") from None
    else:
        first_of_this = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        start = (first_of_this - dt.timedelta(days=1)).replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def read_month(conn: psycopg.Connection, start: dt.datetime, end: dt.datetime) -> tuple[list[dict], dict]:
    """The month's chain range and the chain head, from one read-only snapshot; refuses a month not wholly sealed."""
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        (unsealed,) = conn.execute(UNSEALED_SQL, {"start": start, "end": end}).fetchone()
        rows = conn.execute(EXPORT_SQL, {"start": start, "end": end}).fetchall()
        head_seq, head_hash = conn.execute(HEAD_SQL).fetchone()
    if unsealed:
        raise ExportError(f"{unsealed} events of {start:%Y-%m} are not sealed yet; is the sealer job `ops-audit-seal` "
                          "running? Export again once `opshub audit verify` reports no old unsealed events")
    events = [
        {
            "chain_seq": r[0],
            "id": r[1],
            "occurred_at": json.loads(r[9])[2],
            "actor_sub": r[2],
            "actor_roles": list(r[3] or []),
            "action": r[4],
            "target": r[5],
            "payload": r[6],
            "prev_hash": r[7],
            "row_hash": r[8],
            "canonical": r[9],
            "in_month": r[10],
        }
        for r in rows
    ]
    return events, {"seq": head_seq, "hash": head_hash}


def first_break(events: list[dict]) -> tuple[int, str] | None:
    """The first event whose hash, link or sequence is wrong, as (chain_seq, reason)."""
    previous: dict | None = None
    for event in events:
        digest = hashlib.sha256(bytes.fromhex(event["prev_hash"]) + event["canonical"].encode("utf-8")).hexdigest()
        if digest != event["row_hash"]:
            return event["chain_seq"], "row_hash does not match the canonical rendering"
        if previous is not None and event["chain_seq"] != previous["chain_seq"] + 1:
            return previous["chain_seq"] + 1, "the event is missing from the export"
        if previous is not None and event["prev_hash"] != previous["row_hash"]:
            return event["chain_seq"], "prev_hash does not link to the previous event"
        previous = event
    return None


def build_export(events: list[dict], head: dict, start: dt.datetime, now: dt.datetime) -> str:
    if not events:
        raise ExportError(f"no events in {start:%Y-%m}; nothing to export")
    broken = first_break(events)
    if broken:
        raise ExportError(f"the chain read from the database is broken at chain_seq {broken[0]}: {broken[1]}")
    header = {
        "kind": "header",
        "format": FORMAT,
        "month": f"{start:%Y-%m}",
        "exported_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "first_seq": events[0]["chain_seq"],
        "last_seq": events[-1]["chain_seq"],
        "rows": len(events),
        "rows_in_month": sum(1 for e in events if e["in_month"]),
        "anchor_hash": events[0]["prev_hash"],
    }
    trailer = {
        "kind": "chain_head",
        "last_seq": events[-1]["chain_seq"],
        "last_hash": events[-1]["row_hash"],
        "database_head_seq": head["seq"],
        "database_head_hash": head["hash"],
    }
    lines = [header, *({"kind": "event", **e} for e in events), trailer]
    return "".join(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n" for line in lines)


def lambda_handler(event: dict, context: Any) -> dict:
    env = os.environ
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = month_bounds((event or {}).get("month"), now)
    with database.connect(database.login(env["EXPORTER_SECRET_ARN"])) as conn:
        events, head = read_month(conn, start, end)
    body = build_export(events, head, start, now)
    bucket = env["ARCHIVE_BUCKET"]
    key = f"{PREFIX}/{start:%Y/%m}/events_{start:%Y_%m}-{now:%Y%m%dT%H%M%SZ}.jsonl"
    boto3.client("s3").put_object(
        Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/x-ndjson", IfNoneMatch="*"
    )
    last_hash = events[-1]["row_hash"]
    boto3.client("sns").publish(
        TopicArn=env["NOTICE_TOPIC_ARN"],
        Subject=f"[ticket] ops_audit export {start:%Y-%m}: {len(events)} events"[:100],
        Message=f"Exported s3://{bucket}/{key}\nchain_seq {events[0]['chain_seq']}..{events[-1]['chain_seq']}, "
        f"last hash {last_hash}\nVerify: opshub audit verify-export FILE",
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "ticket"}},
    )
    return {"key": key, "rows": len(events), "last_hash": last_hash}
