"""Walks the ops_audit hash chain and names the first broken link.

The walk runs in the database, in one read-only repeatable-read snapshot,
with the same `ops_audit.event_digest` the append trigger uses. It starts at
the anchor left by the last detached partition (or at the genesis hash) and
checks, in chain_seq order, that every row follows the previous one
(no gap, no duplicate), links to it (prev_hash) and is sealed (row_hash
recomputes). Then it checks the end of the chain against ops_audit.chain_head,
which catches a removed or an added last row.

What it cannot catch alone: a rewrite of the rows from some point on AND of
chain_head, done consistently. A superuser can do that, and so can any member of
ops_audit_owner, which on Supabase includes the everyday admin `postgres`: the
owner may disable the trail's triggers. The checkpoints signed outside the
database catch it (`opshub audit verify --anchors`, infra/migrations/anchors.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from infra.errors import UsageError

WALK_SQL = """
with anchor as (
    select coalesce(max(d.last_seq), 0) as seq,
           coalesce((select d2.last_hash from ops_audit.detached_partitions as d2
                     order by d2.last_seq desc limit 1), decode(repeat('00', 32), 'hex')) as hash
    from ops_audit.detached_partitions as d
),
walked as (
    select e.chain_seq,
           lag(e.chain_seq, 1, a.seq) over w as before_seq,
           e.prev_hash = lag(e.row_hash, 1, a.hash) over w as linked,
           e.row_hash = ops_audit.event_digest(
               e.prev_hash, e.chain_seq, e.id, e.occurred_at,
               e.actor_sub, e.actor_roles, e.action, e.target, e.payload
           ) as sealed
    from ops_audit.events as e
    cross join anchor as a
    window w as (order by e.chain_seq)
)
select case when chain_seq > before_seq + 1 then before_seq + 1 else chain_seq end as break_seq,
       case when chain_seq > before_seq + 1 then 'the event is missing (removed)'
            when chain_seq <= before_seq then 'chain_seq repeats or goes back (inserted out of band)'
            when not linked then 'prev_hash does not link to the previous event (inserted or removed out of band)'
            else 'row_hash does not match the event (changed out of band)'
       end as reason
from walked
where chain_seq <> before_seq + 1 or not linked or not sealed
order by break_seq
limit 1
"""

SUMMARY_SQL = """
select (select count(*) from ops_audit.events),
       (select max(chain_seq) from ops_audit.events),
       (select row_hash from ops_audit.events order by chain_seq desc limit 1),
       (select coalesce(max(last_seq), 0) from ops_audit.detached_partitions),
       h.last_seq, h.last_hash
from ops_audit.chain_head as h
"""


class VerifyError(UsageError):
    """The chain could not be read (connection, permissions, not migrated)."""


@dataclass(frozen=True)
class Verification:
    count: int
    first_broken: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def _head_break(max_seq: int | None, last_hash: bytes | None, anchor_seq: int,
                head_seq: int, head_hash: bytes) -> tuple[int, str] | None:
    """Compare the end of the attached chain with chain_head."""
    end_seq = max_seq if max_seq is not None else anchor_seq
    if end_seq < head_seq:
        return end_seq + 1, "the event is missing (removed from the end of the chain)"
    if end_seq > head_seq:
        return head_seq + 1, "the event is past the chain head (inserted out of band)"
    if max_seq is not None and last_hash != head_hash:
        return max_seq, "row_hash differs from the chain head (the chain was rewritten)"
    return None


def verify_chain(conn: psycopg.Connection) -> Verification:
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        count, max_seq, last_hash, anchor_seq, head_seq, head_hash = conn.execute(SUMMARY_SQL).fetchone()
        walk = conn.execute(WALK_SQL).fetchone()
    breaks = [b for b in (walk, _head_break(max_seq, last_hash, anchor_seq, head_seq, head_hash)) if b]
    if not breaks:
        return Verification(count=count)
    first_broken, reason = min(breaks)
    return Verification(count=count, first_broken=first_broken, reason=reason)


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
