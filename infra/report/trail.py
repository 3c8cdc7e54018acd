"""Who can read or alter the ops_audit trail: the project's grants joined with Supabase's platform principals.

`trail_principals(resources, declared, platform)` lists every principal with a way
to the trail's rows, each way named:

- from the plan: the roles its row-level security policies let read rows (and the
  declared logins that are members of them), the owner role and every declared
  member of it, who can alter the trail: the owner may disable its triggers and RLS,
  then rewrite and re-seal rows (which the signed checkpoints catch);
- from infra/model/platform.yaml, what no grant of the project controls: superusers,
  BYPASSRLS holders with pg_read_all_data, REPLICATION (the write-ahead log carries
  every row), and CREATEROLE, with which a role can make itself a member of the owner
  under PostgreSQL 15 (from 16 on only of roles it administers).
"""

from __future__ import annotations

from collections import defaultdict

from infra.derive.audit import OWNER_ROLE, SCHEMA
from infra.model.platform import Platform, PlatformPrincipal
from infra.report.declared import PG_GRANT_ROLE, Declared

PROJECT = "project grant (declared in the plan)"
PLATFORM = "Supabase platform (no project grant controls it)"
TRAIL_TABLE = f"{SCHEMA}.events"
OWNER_ALTERS = "owns the trail: can disable its triggers and RLS, rewrite and re-seal rows (caught by the anchors)"


def _platform_ways(principal: PlatformPrincipal) -> tuple[list[str], list[str]]:
    reads, alters = [], []
    if "superuser" in principal.attributes:
        reads.append("superuser: every row")
        alters.append("superuser: everything, triggers off")
    if "bypassrls" in principal.attributes and "pg_read_all_data" in principal.member_of:
        reads.append("every row: pg_read_all_data and BYPASSRLS")
    if "replication" in principal.attributes:
        reads.append("every row written, from the write-ahead log (REPLICATION)")
    if "createrole" in principal.attributes and "superuser" not in principal.attributes:
        alters.append(f"CREATEROLE: can make itself a member of {OWNER_ROLE} under PostgreSQL 15 (16+: only of roles it administers)")
    return reads, alters


def _memberships(resources: list[dict], declared: Declared, platform: Platform) -> dict[str, set[str]]:
    """Role -> the roles it is a member of: declared Roles' `roles`, every GrantRole, and the platform's."""
    member_of: dict[str, set[str]] = defaultdict(set)
    for principal in platform.principals:
        member_of[principal.name] |= set(principal.member_of)
    for role in declared.db_roles or ():
        member_of[role.name] |= set(role.member_of)
    for grant in (r for r in resources if r.get("type") == PG_GRANT_ROLE):
        props = grant.get("properties") or {}
        member_of[props.get("role", "")].add(props.get("grantRole", ""))
    return member_of


def _members(group: str, member_of: dict[str, set[str]]) -> set[str]:
    """Every role that is a member of `group`, directly or through other roles."""
    found: set[str] = set()
    frontier = {group}
    while frontier:
        frontier = {role for role, groups in member_of.items() if groups & frontier} - found
        found |= frontier
    return found


def trail_principals(resources: list[dict], declared: Declared, platform: Platform) -> list[dict]:
    """One row per principal that can read or alter the trail, sorted by name."""
    reads: dict[str, list[str]] = defaultdict(list)
    alters: dict[str, list[str]] = defaultdict(list)
    controlled: dict[str, set[str]] = defaultdict(set)
    member_of = _memberships(resources, declared, platform)
    for policy in declared.rls_policies or ():
        if policy.table != TRAIL_TABLE or policy.command not in ("select", "all"):
            continue
        for role in policy.to:
            way = f"rows under RLS policy {policy.name}"
            for reader in (role, *sorted(_members(role, member_of))):
                reads[reader].append(way if reader == role else f"as a member of {role}: {way}")
                controlled[reader].add(PROJECT)
    for alterer in (OWNER_ROLE, *sorted(_members(OWNER_ROLE, member_of))):
        alters[alterer].append(OWNER_ALTERS if alterer == OWNER_ROLE else f"member of {OWNER_ROLE}: {OWNER_ALTERS}")
        controlled[alterer].add(PROJECT)
    sources = {}
    for principal in platform.principals:
        platform_reads, platform_alters = _platform_ways(principal)
        reads[principal.name] += platform_reads
        alters[principal.name] += platform_alters
        if principal.name in controlled or platform_reads or platform_alters:
            controlled[principal.name].add(PLATFORM)
            sources[principal.name] = f"{platform.source.repository} at {platform.source.commit[:12]}, migrations/db/: {principal.source}"
    return [
        {
            "principal": name,
            "reads": reads[name],
            "alters": alters[name],
            "controlled_by": sorted(controlled[name]),
            "source": sources.get(name, "the plan: OpsAudit roles and memberships, the RLS policies of its migrations"),
        }
        for name in sorted(controlled)
    ]
