"""Who can reach each credential: every principal, from the plan's IAM, secret and key policies, generically.

Evaluation follows AWS's documented policy logic (IAM User Guide, "Policy evaluation logic"):
an explicit Deny wins, access needs an Allow, and a customer managed key must let the
principal use it (AWS KMS Developer Guide, "Key policies"; Secrets Manager calls kms:Decrypt
for GetSecretValue and kms:GenerateDataKey for PutSecretValue).
"""

from __future__ import annotations

import copy
import json

from infra.report.render_md import render_md
from tests.report.conftest import resource

ACCOUNT, REGION = "210987654321", "eu-central-1"
STRIPE = "stripe/secret-key"


def _credential(report: dict, key: str) -> dict:
    return next(c for c in report["credentials"] if c["key"] == key)


def _principal(credential: dict, name: str) -> dict | None:
    return next((p for p in credential["principals"] if p["principal"] == name), None)


def _arn(name: str, service: str = "iam") -> str:
    """The ARN the offline plan gives a resource (infra/offline/recorder.py)."""
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"


def _new_job(resources: list[dict], reads: str = STRIPE) -> list[dict]:
    """A job another change might add: a Lambda role that reads one secret, and its function."""
    template = next(r for r in resources if r["type"] == "aws:iam/role:Role")
    secret = next(r for r in resources if r["type"] == "aws:secretsmanager/secret:Secret" and r["properties"]["name"].endswith(reads))
    role = {**resource("aws:iam/role:Role", "metrics-job-role", {"name": "ops-hub-prod-metrics-job", "assumeRolePolicy": template["properties"]["assumeRolePolicy"]}), "provider": template["provider"]}
    statement = {"Sid": "ReadVendorKey", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": _arn(secret["name"], "secretsmanager")}
    policy = resource("aws:iam/rolePolicy:RolePolicy", "metrics-job-reads", {"policy": json.dumps({"Statement": [statement]}), "role": "x"}, {"role": [role["urn"]]})
    function = resource("aws:lambda/function:Function", "metrics-job", {"name": "ops-hub-prod-metrics"}, {"role": [role["urn"]]})
    return [role, policy, function]


def _let_key_decrypt_for(resources: list[dict], role_name: str) -> None:
    key = next(r for r in resources if r["type"] == "aws:kms/key:Key" and r["name"] == "vendor-secrets-key")
    policy = json.loads(key["properties"]["policy"])
    readers = next(s for s in policy["Statement"] if s["Sid"] == "ReadersDecryptViaSecretsManager")
    readers["Principal"]["AWS"].append(_arn(role_name))
    key["properties"]["policy"] = json.dumps(policy)


def test_the_master_credential_is_read_by_both_rotation_lambdas(prod_report: dict) -> None:
    master = _credential(prod_report, "supabase/master")

    rotators = [p for p in master["principals"] if "rotation Lambda" in p["description"]]
    assert sorted(p["principal"] for p in rotators) == [
        "ops-hub-prod-rotate-supabase-ops-audit-exporter",
        "ops-hub-prod-rotate-supabase-ops-hub-writer",
    ]
    assert all(p["access"] == ["read"] and "ReadMasterSecret" in " ".join(p["paths"][0]) for p in rotators)
    readers = next(s["readers"] for s in prod_report["secrets"] if s["key"] == "supabase/master")
    assert set(readers) >= {p["principal"] for p in rotators}, "the secrets table no longer shows — for the master"


def test_each_rotation_lambda_reads_and_writes_its_own_secret_through_its_key_grant(prod_report: dict) -> None:
    for key in ("supabase/ops-hub-writer", "supabase/ops-audit-exporter"):
        credential = _credential(prod_report, key)
        rotator = next(p for p in credential["principals"] if f"rotation Lambda of {key}" in p["description"])

        assert rotator["access"] == ["read", "write"], key
        (path,) = rotator["paths"]
        assert "statement RotateOwnSecret" in path[1] and "RotatorsUseViaSecretsManager" in path[2], path
        assert credential["rotation"]["lambda"] == rotator["principal"] and credential["rotation"]["declared_days"] == 30


def test_people_reach_the_stripe_key_only_through_the_runtime(prod_report: dict) -> None:
    stripe = _credential(prod_report, STRIPE)

    runtime = _principal(stripe, "ops-hub-runtime")
    assert runtime["kind"] == "runtime" and runtime["access"] == ["read"]
    payments = _principal(stripe, "ops-payments")
    assert payments["kind"] == "people" and payments["access"] == ["use"] and "never hold it" in payments["description"]
    assert payments["people"] == ["auth0|6553a1f0c2d4e1a9b7f3c203"]
    refund = next(p for p in payments["paths"] if "POST /ops/payments/refunds" in p[1])
    assert refund[0] == "ops role ops-payments" and "Stripe: edit" in refund[1]
    assert refund[2] == "ops-hub-runtime acts for the person" and "statement ReadOwnSecrets" in refund[3]
    assert _principal(stripe, "ops-editorial") is None, "no editorial permission grants Stripe"


def test_the_deploy_role_manages_every_secret_and_writes_the_values_it_declares(prod_report: dict) -> None:
    stripe = _principal(_credential(prod_report, STRIPE), "deploy role")
    routing_key = _principal(_credential(prod_report, "pagerduty/routing-key"), "deploy role")

    assert stripe["access"] == ["manage"], "the plan declares no Stripe value, and the read allowlist keeps it out"
    assert routing_key["access"] == ["manage", "read", "write"], "it declares the routing key's value (a SecretVersion)"


def test_where_no_allowlist_limits_readers_the_accounts_other_principals_are_listed(prod_report: dict) -> None:
    assert _principal(_credential(prod_report, "pagerduty/routing-key"), f"other IAM principals of account {ACCOUNT}") is not None
    assert _principal(_credential(prod_report, STRIPE), f"other IAM principals of account {ACCOUNT}") is None


def test_a_job_another_change_adds_appears_without_code_changes(prod_resources: list[dict], report_of) -> None:
    resources = prod_resources + _new_job(prod_resources, reads="pagerduty/routing-key")
    _let_key_decrypt_for(resources, "metrics-job-role")

    job = _principal(_credential(report_of(resources=resources), "pagerduty/routing-key"), "ops-hub-prod-metrics-job")

    assert job is not None and job["kind"] == "job" and job["access"] == ["read"]
    assert "Lambda ops-hub-prod-metrics" in job["description"]
    assert job["paths"] == [[
        "IAM role ops-hub-prod-metrics-job",
        "metrics-job-reads, statement ReadVendorKey: GetSecretValue",
        "KMS key vendor-secrets-key, key policy statement ReadersDecryptViaSecretsManager",
    ]]


def test_a_key_that_does_not_let_a_role_decrypt_blocks_its_read(prod_resources: list[dict], report_of) -> None:
    resources = prod_resources + _new_job(prod_resources, reads="pagerduty/routing-key")

    credential = _credential(report_of(resources=resources), "pagerduty/routing-key")

    assert _principal(credential, "ops-hub-prod-metrics-job") is None
    assert any("ops-hub-prod-metrics-job" in n and "does not let it kms:Decrypt" in n for n in credential["notes"])


def test_the_stripe_read_allowlist_denies_a_new_reader(prod_resources: list[dict], report_of) -> None:
    resources = prod_resources + _new_job(prod_resources)
    _let_key_decrypt_for(resources, "metrics-job-role")

    stripe = _credential(report_of(resources=resources), STRIPE)

    assert _principal(stripe, "ops-hub-prod-metrics-job") is None
    assert any("denied by statement DenyReadsByOtherPrincipals" in n for n in stripe["notes"]), stripe["notes"]


def test_a_principal_named_in_a_resource_policy_but_not_in_the_plan_is_listed(prod_resources: list[dict], report_of) -> None:
    """E.g. a deploy-role allowlist: the role lives outside the stack, so its own IAM decides."""
    policy = next(r for r in prod_resources if r["type"] == "aws:secretsmanager/secretPolicy:SecretPolicy" and "stripe" in r["name"])
    document = json.loads(policy["properties"]["policy"])
    deploy_arn = f"arn:aws:iam::{ACCOUNT}:role/github-deploy"
    document["Statement"].append({
        "Sid": "DenyWritesByOthers", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:PutSecretValue", "Resource": "*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [deploy_arn]}},
    })
    policy["properties"]["policy"] = json.dumps(document)

    outsider = _principal(_credential(report_of(resources=copy.deepcopy(prod_resources)), STRIPE), deploy_arn)

    assert outsider is not None and outsider["kind"] == "external"


def test_the_section_shows_one_row_per_secret_with_principals_paths_and_rotation(prod_report: dict) -> None:
    md = render_md(prod_report)
    section = md[md.index("## Who can reach each credential") : md.index("## People")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| credential")]

    assert len(rows) == len(prod_report["credentials"]) == len(prod_report["secrets"])
    stripe = next(r for r in rows if r.startswith("| stripe/secret-key"))
    assert "reminder every 90 days" in stripe and "ops-payments [people: use]" in stripe
    assert "ops-payments: ops role ops-payments → POST /ops/payments/refunds" in stripe
    master = next(r for r in rows if r.startswith("| supabase/master"))
    assert "ops-hub-prod-rotate-supabase-ops-hub-writer [job: read]" in master
