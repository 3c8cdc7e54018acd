"""The access report's sign-in section: the /ops application, the connections feeding it, and who writes the archive."""

from __future__ import annotations

import json

from infra.config import StackConfig
from infra.derive.compliance import compliance_jobs
from infra.report.sections import sections


def test_the_report_shows_the_ops_application_and_the_connections_feeding_it(prod_report: dict, prod_config: StackConfig) -> None:
    (app,) = prod_report["sign_in"]["applications"]

    assert app["name"] == "ops-web" and app["app_type"] == "spa"
    assert app["grant_types"] == prod_config.ops_grant_types
    assert app["connections"] == ["ops-operators"]
    assert app["callbacks"] == prod_config.ops_callback_urls
    assert list(app["user_grants"]) == [prod_config.api_identifier]


def test_the_report_shows_exactly_the_jobs_as_archive_writers(prod_report: dict, prod_config: StackConfig) -> None:
    (archive,) = prod_report["sign_in"]["archives"]

    assert archive["writers"] == sorted(f"{job.identity}-prod" for job in compliance_jobs(prod_config.audit_checkpoint_minutes))
    assert archive["other_principals"] == 0


def test_an_archive_policy_without_the_write_deny_reads_as_open_to_the_account(prod_resources: list[dict], report_of) -> None:
    policy = next(r for r in prod_resources if r["type"] == "aws:s3/bucketPolicy:BucketPolicy")
    document = json.loads(policy["properties"]["policy"])
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyWritesByOthers"]
    policy["properties"]["policy"] = json.dumps(document)

    report = report_of(resources=prod_resources)

    assert report["sign_in"]["archives"][0]["writers"] is None
    section = next(s for s in sections(report) if s.anchor == "sign-in")
    assert section.tables[1].rows[0][1] == "anyone in the account (no deny)"


def test_a_hand_added_interactive_client_and_connection_show_up(prod_resources: list[dict], report_of) -> None:
    app = next(r for r in prod_resources if r["type"] == "auth0:index/client:Client" and r["properties"]["appType"] == "spa")
    legacy = {**app, "urn": app["urn"] + "-legacy", "name": "legacy", "properties": {**app["properties"], "name": "legacy-portal"}}
    prod_resources.append(legacy)

    report = report_of(resources=prod_resources)

    names = {(a["name"], tuple(a["connections"])) for a in report["sign_in"]["applications"]}
    assert names == {("ops-web", ("ops-operators",)), ("legacy-portal", ())}
