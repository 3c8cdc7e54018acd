"""Who can reach each credential: every principal, from the plan's IAM, secret and key policies, generically.

Evaluation follows AWS's documented policy logic (IAM User Guide, "Policy evaluation logic"):
an explicit Deny wins, access needs an Allow, and a customer managed key must let the
principal use it (AWS KMS Developer Guide, "Key policies"; Secrets Manager calls kms:Decrypt
for GetSecretValue and kms:GenerateDataKey for PutSecretValue).
"""

from __future__ import annotations

import copy
import json

from infra.model.access import AccessModel
from infra.report.render_md import render_md
from tests.report.conftest import resource

ACCOUNT, REGION = "210987654321", "eu-central-1"
STRIPE = "stripe/secret-key"
ROTATOR = "supabase/rotator"
ROUTING_KEY = "pagerduty/routing-key"


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
    role = {**resource("aws:iam/role:Role", "vendor-sync-role", {"name": "ops-hub-prod-vendor-sync", "assumeRolePolicy": template["properties"]["assumeRolePolicy"]}), "provider": template["provider"]}
    statement = {"Sid": "ReadVendorKey", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": _arn(secret["name"], "secretsmanager")}
    policy = resource("aws:iam/rolePolicy:RolePolicy", "vendor-sync-reads", {"policy": json.dumps({"Statement": [statement]}), "role": "x"}, {"role": [role["urn"]]})
    function = resource("aws:lambda/function:Function", "vendor-sync", {"name": "ops-hub-prod-vendor-sync-fn"}, {"role": [role["urn"]]})
    return [role, policy, function]


def _drop_read_allowlist(resources: list[dict], key: str) -> None:
    """Remove the secret's deny of reads by principals it does not name: the hardening a careless change undoes."""
    policy = next(r for r in resources if r["type"] == "aws:secretsmanager/secretPolicy:SecretPolicy" and key.replace("/", "-") in r["name"])
    document = json.loads(policy["properties"]["policy"])
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyReadsByOtherPrincipals"]
    policy["properties"]["policy"] = json.dumps(document)


def _let_key_decrypt_for(resources: list[dict], role_name: str) -> None:
    key = next(r for r in resources if r["type"] == "aws:kms/key:Key" and r["name"] == "vendor-secrets-key")
    policy = json.loads(key["properties"]["policy"])
    readers = next(s for s in policy["Statement"] if s["Sid"] == "ReadersDecryptViaSecretsManager")
    readers["Principal"]["AWS"].append(_arn(role_name))
    key["properties"]["policy"] = json.dumps(policy)


def _rotation_lambdas(model: AccessModel, master: str) -> list[str]:
    return sorted(f"ops-hub-prod-rotate-{s.key.replace('/', '-')}" for s in model.secrets if s.master == master)


def test_the_rotator_login_is_read_by_every_rotation_lambda_and_the_admin_by_none(prod_report: dict, access_model: AccessModel) -> None:
    rotator = _credential(prod_report, ROTATOR)

    rotators = [p for p in rotator["principals"] if "rotation Lambda" in p["description"]]
    assert sorted(p["principal"] for p in rotators) == _rotation_lambdas(access_model, ROTATOR) != []
    assert all(p["access"] == ["read"] and "ReadMasterSecret" in " ".join(p["paths"][0]) for p in rotators)
    readers = next(s["readers"] for s in prod_report["secrets"] if s["key"] == ROTATOR)
    assert set(readers) >= {p["principal"] for p in rotators}, "the secrets table shows the rotator's readers"
    admin = _credential(prod_report, "supabase/master")
    assert [p["principal"] for p in admin["principals"] if p["kind"] not in ("deploy",)] == [], "no job reads the admin login"


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
    refund = next(p for p in payments["paths"] if "POST /ops/payments/stripe/refunds" in p[1])
    assert refund[0] == "ops role ops-payments" and "Stripe: edit" in refund[1]
    assert refund[2] == "ops-hub-runtime acts for the person" and "statement ReadOwnSecrets" in refund[3]
    assert _principal(stripe, "ops-editorial") is None, "no editorial permission grants Stripe"


def test_the_deploy_role_manages_every_secret_and_writes_the_values_it_declares(prod_report: dict, prod_config) -> None:
    stripe = _principal(_credential(prod_report, STRIPE), "deploy role")
    routing_key = _principal(_credential(prod_report, ROUTING_KEY), "deploy role")

    assert stripe["access"] == ["manage"], "the plan declares no Stripe value, and the read allowlist keeps it out"
    assert routing_key["access"] == ["manage", "read", "write"], "it declares the routing key's value and its allowlist names it"
    assert prod_config.deploy_role_arn in routing_key["description"]
    assert _principal(_credential(prod_report, ROUTING_KEY), prod_config.deploy_role_arn) is None, "not listed again as an outsider"


def test_where_no_allowlist_limits_readers_the_accounts_other_principals_are_listed(prod_resources: list[dict], report_of) -> None:
    everyone = f"other IAM principals of account {ACCOUNT}"
    _drop_read_allowlist(prod_resources, ROUTING_KEY)

    opened = report_of(resources=prod_resources)

    assert _principal(_credential(opened, ROUTING_KEY), everyone) is not None
    assert _principal(_credential(opened, STRIPE), everyone) is None


def test_a_job_another_change_adds_appears_without_code_changes(prod_resources: list[dict], report_of) -> None:
    resources = prod_resources + _new_job(prod_resources, reads=ROUTING_KEY)
    _drop_read_allowlist(resources, ROUTING_KEY)
    _let_key_decrypt_for(resources, "vendor-sync-role")

    job = _principal(_credential(report_of(resources=resources), ROUTING_KEY), "ops-hub-prod-vendor-sync")

    assert job is not None and job["kind"] == "job" and job["access"] == ["read"]
    assert "Lambda ops-hub-prod-vendor-sync-fn" in job["description"]
    assert job["paths"] == [[
        "IAM role ops-hub-prod-vendor-sync",
        "vendor-sync-reads, statement ReadVendorKey: GetSecretValue",
        "KMS key vendor-secrets-key, key policy statement ReadersDecryptViaSecretsManager",
    ]]


def test_a_key_that_does_not_let_a_role_decrypt_blocks_its_read(prod_resources: list[dict], report_of) -> None:
    resources = prod_resources + _new_job(prod_resources, reads=ROUTING_KEY)
    _drop_read_allowlist(resources, ROUTING_KEY)

    credential = _credential(report_of(resources=resources), ROUTING_KEY)

    assert _principal(credential, "ops-hub-prod-vendor-sync") is None
    assert any("ops-hub-prod-vendor-sync" in n and "does not let it kms:Decrypt" in n for n in credential["notes"])


def test_the_stripe_read_allowlist_denies_a_new_reader(prod_resources: list[dict], report_of) -> None:
    resources = prod_resources + _new_job(prod_resources)
    _let_key_decrypt_for(resources, "vendor-sync-role")

    stripe = _credential(report_of(resources=resources), STRIPE)

    assert _principal(stripe, "ops-hub-prod-vendor-sync") is None
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
    assert "ops-payments: ops role ops-payments → POST /ops/payments/stripe/refunds" in stripe
    stripe_scopes = next(s["vendor_scopes"] for s in prod_report["secrets"] if s["key"] == STRIPE)
    assert "<br>".join(stripe_scopes) in stripe, "what the key can do at the vendor, under the credential"
    rotator = next(r for r in rows if r.startswith(f"| {ROTATOR}"))
    assert "ops-hub-prod-rotate-supabase-ops-hub-writer [job: read]" in rotator
