"""Walks the ops_audit hash chain, names the first broken link, and reports the unsealed tail.

Events are appended unlinked; `ops_audit.seal_events()` (every second, as the
trail's owner) links them into `ops_audit.seals` (infra/migrations/
0010_async_seal.sql). The walk runs in the database, in one read-only
repeatable-read snapshot, with the same `ops_audit.event_digest` the sealer
uses. It starts at the anchor left by the last detached partition (or at the
genesis hash) and checks, in chain_seq order, that every seal follows the
previous one (no gap) and links to it (prev_hash); then, in any order (so the
digests can be computed in parallel), that every seal still has its event
and is sealed (row_hash recomputes from the event). Then it checks the end of the
chain against ops_audit.chain_head, which catches a removed or an added last
seal, and that no event older than the sealer's horizon was left out of the
chain (one inserted out of band).

Events not sealed yet (the tail) are reported with their count and the age of
the oldest: the chain cannot vouch for them until the sealer has run.

What it cannot catch: anyone who can act as the trail's owner rewriting the
events and the seals from some point on AND chain_head consistently. On
Supabase that is not only a superuser: the everyday admin `postgres`, the
login behind the dashboard's SQL editor, is a member of ops_audit_owner and
can do it. Only a copy of the head kept outside the database catches that:
the checkpoints (`opshub audit verify --anchors`) and the monthly export.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from infra.errors import UsageError

ANCHOR_CTE = """
anchor as (
    select coalesce(max(d.last_seq), 0) as seq,
           coalesce((select d2.last_hash from ops_audit.detached_partitions as d2
                     order by d2.last_seq desc limit 1), decode(repeat('00', 32), 'hex')) as hash
    from ops_audit.detached_partitions as d
)
"""

# The links, from the seals alone, in chain_seq order (their primary key: no sort).
LINKS_SQL = f"""
with {ANCHOR_CTE},
walked as (
    select s.chain_seq,
           lag(s.chain_seq, 1, a.seq) over w as before_seq,
           s.prev_hash = lag(s.row_hash, 1, a.hash) over w as linked
    from ops_audit.seals as s
    cross join anchor as a
    where s.chain_seq > a.seq
    window w as (order by s.chain_seq)
)
select case when chain_seq > before_seq + 1 then before_seq + 1 else chain_seq end as break_seq,
       case when chain_seq > before_seq + 1 then 'the seal is missing (removed)'
            else 'prev_hash does not link to the previous seal (inserted or removed out of band)'
       end as reason
from walked
where chain_seq <> before_seq + 1 or not linked
order by break_seq
limit 1
"""

# Each seal past the anchor's chain_seq against its event, in no particular
# order, so the digests can be computed by parallel workers (the anchor is a
# parameter: a subquery there would keep the plan serial): the first seal
# whose event is gone, and the first whose row_hash no longer recomputes (the
# event changed, or another event was given its id).
EVENTS_SQL = """
select min(s.chain_seq) filter (where e.id is null),
       min(s.chain_seq) filter (where s.row_hash <> ops_audit.event_digest(
           s.prev_hash, s.chain_seq, e.id, e.occurred_at,
           e.actor_sub, e.actor_roles, e.action, e.target, e.payload))
from ops_audit.seals as s
left join ops_audit.events as e on e.id = s.event_id
where s.chain_seq > %(anchor_seq)s
"""

# Sealed events walked, the end of the chain and the head; then the events
# without a seal: below the sealer's horizon they are strays (the first one is
# named), at or above it they are the tail.
SUMMARY_SQL = f"""
with {ANCHOR_CTE},
unsealed as (
    select e.id, e.occurred_at, e.xact_id < h.sealed_below as stray
    from ops_audit.events as e
    cross join ops_audit.chain_head as h
    where not exists (select from ops_audit.seals as s where s.event_id = e.id)
)
select (select count(*) from ops_audit.seals as s, anchor as a where s.chain_seq > a.seq),
       (select max(chain_seq) from ops_audit.seals),
       (select row_hash from ops_audit.seals order by chain_seq desc limit 1),
       (select seq from anchor),
       h.last_seq, h.last_hash,
       (select min(id) from unsealed where stray),
       (select count(*) from unsealed where not stray),
       (select extract(epoch from statement_timestamp() - min(occurred_at)) from unsealed where not stray)
from ops_audit.chain_head as h
"""


class VerifyError(UsageError):
    """The chain could not be read (connection, permissions, not migrated)."""


@dataclass(frozen=True)
class Verification:
    count: int  # sealed events walked (attached, past the last detached partition)
    first_broken: int | None = None
    reason: str = ""
    stray_event: int | None = None  # id of the first event left out of the chain
    unsealed: int = 0  # the tail: events not sealed yet
    oldest_unsealed_seconds: float | None = None

    @property
    def intact(self) -> bool:
        return self.first_broken is None and self.stray_event is None


def _head_break(max_seq: int | None, last_hash: bytes | None, anchor_seq: int,
                head_seq: int, head_hash: bytes) -> tuple[int, str] | None:
    """Compare the end of the attached chain with chain_head."""
    end_seq = max_seq if max_seq is not None else anchor_seq
    if end_seq < head_seq:
        return end_seq + 1, "the seal is missing (removed from the end of the chain)"
    if end_seq > head_seq:
        return head_seq + 1, "the seal is past the chain head (inserted out of band)"
    if max_seq is not None and last_hash != head_hash:
        return max_seq, "row_hash differs from the chain head (the chain was rewritten)"
    return None


def verify_chain(conn: psycopg.Connection) -> Verification:
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        (count, max_seq, last_hash, anchor_seq, head_seq, head_hash,
         stray, unsealed, oldest) = conn.execute(SUMMARY_SQL).fetchone()
        links = conn.execute(LINKS_SQL).fetchone()
        missing, changed = conn.execute(EVENTS_SQL, {"anchor_seq": anchor_seq}).fetchone()
    breaks = [b for b in (
        links,
        (missing, "the event is missing (removed)") if missing else None,
        (changed, "row_hash does not match the event (changed, or its id given to another event, out of band)")
        if changed else None,
        _head_break(max_seq, last_hash, anchor_seq, head_seq, head_hash),
    ) if b]
    first_broken, reason = min(breaks) if breaks else (None, "")
    return Verification(count=count, first_broken=first_broken, reason=reason, stray_event=stray,
                        unsealed=unsealed, oldest_unsealed_seconds=float(oldest) if oldest is not None else None)


@contextmanager
def reading(dsn: str) -> Iterator[psycopg.Connection]:
    """A connection to read the trail with; VerifyError when it cannot be read."""
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            yield conn
    except psycopg.errors.UndefinedTable:
        raise VerifyError("database", ["ops_audit is not migrated here; run `opshub db migrate --dsn URI` first"]) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise VerifyError("database", [f"the user may not read the whole chain: {str(exc).strip()}"]) from None
    except psycopg.Error as exc:
        raise VerifyError("--dsn", [f"cannot verify: {str(exc).strip()}"]) from None


def verify(dsn: str) -> Verification:
    """Verify the chain of the database at `dsn`; VerifyError when it cannot be read."""
    with reading(dsn) as conn:
        return verify_chain(conn)
