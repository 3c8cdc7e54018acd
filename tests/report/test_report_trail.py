"""The report's "Who can read or alter the audit trail" section: the plan's grants and RLS policies joined with
Supabase's platform principals (infra/model/platform.yaml), including those no project grant controls."""

from __future__ import annotations

import yaml

from infra.model.platform import DEFAULT_PLATFORM_PATH, parse_platform
from infra.report.declared import PG_GRANT_ROLE
from infra.report.render_csv import render_csv
from infra.report.render_md import render_md
from infra.report.trail import PLATFORM, PROJECT
from tests.report.conftest import resource


def _by_name(report: dict) -> dict[str, dict]:
    return {p["principal"]: p for p in report["trail_principals"]}


def test_platform_principals_no_grant_controls_are_named(prod_report: dict) -> None:
    trail = _by_name(prod_report)

    read_only = trail["supabase_read_only_user"]
    assert read_only["reads"] == ["every row: pg_read_all_data and BYPASSRLS"] and read_only["controlled_by"] == [PLATFORM]
    assert "supabase/postgres at 7db7e1a9e34b" in read_only["source"], "each platform principal cites its source"
    for creator in ("supabase_auth_admin", "supabase_storage_admin", "supabase_functions_admin", "dashboard_user"):
        assert any(w.startswith("CREATEROLE: can make itself a member of ops_audit_owner") for w in trail[creator]["alters"]), creator
    assert trail["supabase_admin"]["alters"] == ["superuser: everything, triggers off"]
    assert trail["supabase_replication_admin"]["reads"] == ["every row written, from the write-ahead log (REPLICATION)"]


def test_the_admin_alters_the_trail_through_the_declared_owner_membership(prod_report: dict) -> None:
    admin = _by_name(prod_report)["postgres"]

    assert admin["controlled_by"] == [PLATFORM, PROJECT]
    assert admin["alters"][0].startswith("member of ops_audit_owner: owns the trail: can disable its triggers and RLS")
    assert "every row: pg_read_all_data and BYPASSRLS" in admin["reads"]


def test_project_readers_follow_the_rls_policies_and_memberships(prod_report: dict) -> None:
    trail = _by_name(prod_report)

    assert trail["ops_audit_exporter"]["reads"] == ["as a member of ops_audit_reader: rows under RLS policy events_select_reader"]
    assert trail["authenticated"]["reads"] == ["rows under RLS policy events_select_all", "rows under RLS policy events_select_own"]
    assert any(w.startswith("as a member of authenticated") for w in trail["authenticator"]["reads"]), "PostgREST's login"
    assert any(w.startswith("as a member of authenticated") for w in trail["supabase_storage_admin"]["reads"]), (
        "Storage's login is a member of authenticator, hence of authenticated"
    )
    assert "ops_audit_checkpointer" not in trail and "ops_audit_checkpoint" not in trail, "the checkpoint reads no row"


def test_a_new_member_of_the_owner_in_the_plan_appears(prod_resources: list[dict], report_of) -> None:
    prod_resources.append(resource(PG_GRANT_ROLE, "ci-in-owner", {"role": "ci_deployer", "grantRole": "ops_audit_owner"}))

    report = report_of(resources=prod_resources)

    assert _by_name(report)["ci_deployer"]["alters"][0].startswith("member of ops_audit_owner")


def test_a_platform_principal_added_to_the_file_appears(report_of) -> None:
    data = yaml.safe_load(DEFAULT_PLATFORM_PATH.read_text())
    data["principals"].append({"name": "supabase_etl_admin", "login": True, "attributes": ["bypassrls"], "member_of": ["pg_read_all_data"],
                               "source": "migrations/x.sql", "note": "A future platform login."})

    report = report_of()
    with_etl = report_of(platform=parse_platform(data))

    assert "supabase_etl_admin" not in _by_name(report)
    assert _by_name(with_etl)["supabase_etl_admin"]["reads"] == ["every row: pg_read_all_data and BYPASSRLS"]
    assert with_etl["fingerprint"]["report_sha256"] != report["fingerprint"]["report_sha256"]


def test_the_section_is_rendered(prod_report: dict) -> None:
    markdown = render_md(prod_report)
    csv = render_csv(prod_report)

    assert "## Who can read or alter the audit trail" in markdown
    assert "| supabase_read_only_user | every row: pg_read_all_data and BYPASSRLS |" in markdown
    assert "trail,supabase_read_only_user,reads the trail,every row: pg_read_all_data and BYPASSRLS," in csv
