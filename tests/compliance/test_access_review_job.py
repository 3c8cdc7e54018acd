"""The access review Lambda against moto (AWS) and a loopback stand-in of the Auth0 Management API.

The tenant has more holders than one page, so role members and roles are read
across pages; the approvals come from the real derivation (review_input) of
the committed access model and a test approvals file.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.derive.compliance import CHECKPOINT_PREFIX, review_input
from infra.lambdas import access_review, audit_checkpoint
from infra.model.assignments import parse_assignments
from tests.compliance.auth0_standin import Auth0StandIn, Tenant
from tests.compliance.conftest import Archive

DOMAIN = "clarivum.eu.auth0.com"


def _key_pair() -> tuple[str, str]:
    """An RSA key pair as PEM (private PKCS#1, as pulumi-tls's private_key_pem, and public SPKI)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


CLIENT_KEY, CLIENT_PUBLIC_KEY = _key_pair()
NOW = dt.datetime.now(dt.UTC)
WEBAUTHN = {"id": "webauthn-roaming|dev_1", "type": "webauthn-roaming", "confirmed": True, "name": "YubiKey"}
TOTP = {"id": "totp|dev_2", "type": "totp", "confirmed": True}
UNCONFIRMED_TOTP = {"id": "totp|dev_3", "type": "totp", "confirmed": False}
APPROVER = "auth0|approver"
VIEWERS = [f"auth0|viewer-{i:03d}" for i in range(120)]  # more than two pages of role members


def _iso(days_ago: int) -> str:
    return (NOW - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _user(user_id: str, last_login_days: int | None = 3) -> dict:
    profile = {"user_id": user_id, "email": f"{user_id.split('|')[1]}@clarivum.test", "logins_count": 4, "created_at": _iso(400)}
    if last_login_days is not None:
        profile["last_login"] = _iso(last_login_days)
    return profile


def _tenant() -> Tenant:
    members = {
        "rol_viewer": VIEWERS,
        "rol_payments": ["auth0|pay-1", "auth0|pay-2"],
        "rol_auditor": ["auth0|pay-2"],
        "rol_admin": ["auth0|admin-1"],
        "rol_support": ["auth0|support-1"],  # not an ops role: out of scope
    }
    users = {u: _user(u) for u in VIEWERS + ["auth0|pay-1", "auth0|pay-2", "auth0|admin-1", "auth0|support-1"]}
    users["auth0|viewer-005"] = _user("auth0|viewer-005", last_login_days=200)
    users["auth0|viewer-006"] = _user("auth0|viewer-006", last_login_days=None)  # never logged in
    methods = {u: [TOTP] for u in VIEWERS}
    methods["auth0|viewer-007"] = [UNCONFIRMED_TOTP]  # enrolment never finished
    methods |= {"auth0|pay-1": [WEBAUTHN], "auth0|pay-2": [WEBAUTHN], "auth0|admin-1": [TOTP]}
    roles = {"rol_viewer": "ops-viewer", "rol_payments": "ops-payments", "rol_auditor": "ops-auditor", "rol_admin": "ops-admin", "rol_support": "Support"}
    roles |= {f"rol_other_{i}": f"Other {i}" for i in range(60)}  # the ops roles are not all on the first page
    return Tenant("review-client", CLIENT_PUBLIC_KEY, DOMAIN, roles, members, users, methods, rate_limit_once=True)


def _approvals(access_model) -> dict:
    future, past = (NOW.date() + dt.timedelta(days=300)).isoformat(), (NOW.date() - dt.timedelta(days=1)).isoformat()
    approved_on = (NOW.date() - dt.timedelta(days=200)).isoformat()
    approved = [{"user": u, "role": "ops-viewer", "approver": APPROVER, "approved": approved_on, "expires": future} for u in VIEWERS[:-1]]
    approved += [
        {"user": "auth0|pay-1", "role": "ops-payments", "approver": APPROVER, "approved": approved_on, "expires": past},
        {"user": "auth0|pay-2", "role": "ops-payments", "approver": APPROVER, "approved": approved_on, "expires": future},
        {"user": "auth0|admin-1", "role": "ops-admin", "approver": APPROVER, "approved": approved_on, "expires": future},
        {"user": "auth0|gone-1", "role": "ops-sre", "approver": APPROVER, "approved": approved_on, "expires": future},
    ]
    return review_input(access_model, parse_assignments({"assignments": approved}, access_model))


@pytest.fixture
def job(tmp_path, monkeypatch: pytest.MonkeyPatch, archive: Archive, access_model):
    """The Lambda's environment as ComplianceJobs sets it, its packaged input, and the client secret."""
    spec = tmp_path / "review_input.json"
    spec.write_text(json.dumps(_approvals(access_model)))
    monkeypatch.setattr(access_review, "INPUT_FILE", spec)
    secret = boto3.client("secretsmanager").create_secret(
        Name="ops-hub/test/auth0/access-review-client",
        SecretString=json.dumps({"client_id": "review-client", "private_key_pem": CLIENT_KEY, "algorithm": "RS256"}),
    )
    for key, value in {"AUTH0_DOMAIN": DOMAIN, "CLIENT_SECRET_ARN": secret["ARN"], "REVIEW_BUCKET": archive.bucket,
                       "NOTICE_TOPIC_ARN": archive.topic_arn, "CHECKPOINT_PREFIX": "audit-checkpoints", "DORMANT_DAYS": "90"}.items():
        monkeypatch.setenv(key, value)
    return SimpleNamespace(archive=archive, secret_arn=secret["ARN"])


def _run(tenant: Tenant, monkeypatch: pytest.MonkeyPatch, request_id: str) -> dict:
    with Auth0StandIn(tenant) as url:
        monkeypatch.setenv("AUTH0_MANAGEMENT_URL", url)
        return access_review.lambda_handler({}, SimpleNamespace(aws_request_id=request_id))


def test_review_finds_each_kind_of_problem_across_pages(job, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = _tenant()

    result = _run(tenant, monkeypatch, "req-1")

    review = json.loads(boto3.client("s3").get_object(Bucket=job.archive.bucket, Key=result["keys"][0])["Body"].read())
    found = review["findings"]
    assert len(review["holders"]) == 123, "every holder of an ops role, across pages, and nobody else"
    assert found["unapproved"] == [{"user": "auth0|pay-2", "role": "ops-auditor"}, {"user": "auth0|viewer-119", "role": "ops-viewer"}]
    assert [(e["user"], e["still_held"]) for e in found["expired"]] == [("auth0|pay-1", True)]
    assert [(m["user"], m["role"]) for m in found["mfa"]] == [("auth0|admin-1", "ops-admin"), ("auth0|viewer-007", "ops-viewer")], (
        "TOTP does not satisfy ops-admin, and an unconfirmed enrolment is no enrolment"
    )
    assert [d["user"] for d in found["dormant"]] == ["auth0|viewer-005", "auth0|viewer-006"]
    assert [(s["user"], s["permissions"]) for s in found["sod"]] == [
        ("auth0|pay-2", ["payments:refund", "audit:export"]),
        ("auth0|pay-2", ["payments:refund", "access:review"]),
    ]
    assert review["approved_not_held"] == ["auth0|gone-1 as ops-sre"]
    assert sum(c.startswith("GET /api/v2/roles/rol_viewer/users") for c in tenant.calls) == 3, "120 members are 3 pages of 50"
    assert "GET /api/v2/users/auth0|support-1" not in tenant.calls, "holders of non-ops roles are out of scope"


def test_review_is_written_locked_and_encrypted_and_a_ticket_is_sent(job, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(_tenant(), monkeypatch, "req-1")

    s3 = boto3.client("s3")
    assert [k.rsplit(".", 1)[1] for k in result["keys"]] == ["json", "md"]
    for key in result["keys"]:
        head = s3.head_object(Bucket=job.archive.bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE", f"{key} is not under a compliance-mode lock"
        assert head["ServerSideEncryption"] == "aws:kms"
    markdown = s3.get_object(Bucket=job.archive.bucket, Key=result["keys"][1])["Body"].read().decode()
    assert "## Holders without an approval (2)" in markdown and "auth0|viewer-119" in markdown
    (notice,) = job.archive.notices()
    assert notice["Subject"].startswith("[ticket] Ops Hub access review")
    assert notice["MessageAttributes"]["severity"]["Value"] == "ticket"
    assert result["keys"][0] in notice["Message"]


def test_a_later_review_never_replaces_or_deletes_an_earlier_one(job, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run(_tenant(), monkeypatch, "req-1")
    s3 = boto3.client("s3")
    before = s3.get_object(Bucket=job.archive.bucket, Key=first["keys"][0])["Body"].read()

    second = _run(_tenant(), monkeypatch, "req-2")

    assert set(first["keys"]).isdisjoint(second["keys"]), "each run writes new keys"
    assert job.archive.objects("access-reviews/") == sorted(first["keys"] + second["keys"])
    assert s3.get_object(Bucket=job.archive.bucket, Key=first["keys"][0])["Body"].read() == before
    stem = first["keys"][0].removesuffix(".json")
    with pytest.raises(ClientError, match="PreconditionFailed"):
        access_review.store(job.archive.bucket, stem, {"forged": True}, "forged")
    version = s3.head_object(Bucket=job.archive.bucket, Key=first["keys"][0])["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=job.archive.bucket, Key=first["keys"][0], VersionId=version)


def test_wrong_client_credentials_fail_before_anything_is_written(job, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = _tenant()
    tenant.public_key_pem = _key_pair()[1]  # the key was rotated in Auth0 but not in the secret

    with pytest.raises(access_review.ReviewError, match="HTTP 401"):
        _run(tenant, monkeypatch, "req-1")

    assert job.archive.objects("access-reviews/") == []
    assert job.archive.notices() == []


def test_a_secret_without_client_credentials_is_named(job, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId=job.secret_arn, SecretString='{"client_id": "x"}')

    with pytest.raises(access_review.ReviewError, match="client_id and private_key_pem"):
        _run(_tenant(), monkeypatch, "req-1")


def test_the_client_assertion_is_what_auth0_documents() -> None:
    """Auth0, "Authenticate with Private Key JWT": RS256, iss = sub = client id, aud = tenant with
    trailing slash, a unique jti, at most 5 minutes (advised: under one)."""
    tenant = _tenant()
    first = access_review.client_assertion("review-client", DOMAIN, CLIENT_KEY, int(dt.datetime.now(dt.UTC).timestamp()))
    second = access_review.client_assertion("review-client", DOMAIN, CLIENT_KEY, int(dt.datetime.now(dt.UTC).timestamp()))
    body = {"client_assertion_type": access_review.ASSERTION_TYPE}

    assert tenant.accepts(body | {"client_assertion": first})
    assert not tenant.accepts(body | {"client_assertion": first}), "an assertion is single-use"
    assert tenant.accepts(body | {"client_assertion": second}), "each assertion has its own jti"
    claims = json.loads(access_review.base64.urlsafe_b64decode(first.split(".")[1] + "=="))
    assert claims["aud"] == f"https://{DOMAIN}/" and claims["exp"] - claims["iat"] == 60
    stale = access_review.client_assertion("review-client", DOMAIN, CLIENT_KEY, 1_700_000_000)
    assert not tenant.accepts(body | {"client_assertion": stale}), "an expired assertion is refused"
    other = access_review.client_assertion("review-client", "other-tenant.eu.auth0.com", CLIENT_KEY, int(dt.datetime.now(dt.UTC).timestamp()))
    assert not tenant.accepts(body | {"client_assertion": other}), "an assertion for another tenant is refused"


def _store_checkpoint(bucket: str, taken: dt.datetime, owner_members: list[str], forced: bool) -> str:
    """A checkpoint as the checkpoint Lambda stores it (its own build_checkpoint and object_key), unsigned."""
    state = {
        "chain_seq": 7, "row_hash": "ab" * 32, "owner_members": owner_members, "superusers": ["supabase_admin"],
        "bypassrls_roles": ["postgres", "service_role", "supabase_admin"],
        "rls": {"ops_audit.events": {"enabled": True, "forced": forced}, "ops_audit.events_2026_12": {"enabled": True, "forced": True}},
    }
    expected = {"owner_members": ["postgres"], "bypassrls_roles": ["postgres", "service_role", "supabase_admin"], "superusers": ["supabase_admin"]}
    key = audit_checkpoint.object_key(taken, 7, "req")
    checkpoint = audit_checkpoint.build_checkpoint(state, expected, "prod", "db:5432/postgres", taken)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(checkpoint).encode())
    return key


def test_review_reports_what_the_latest_checkpoint_found(job, monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    _store_checkpoint(job.archive.bucket, now - dt.timedelta(days=1), ["postgres"], forced=True)
    latest = _store_checkpoint(job.archive.bucket, now - dt.timedelta(minutes=5), ["postgres", "supabase_storage_admin"], forced=False)

    result = _run(_tenant(), monkeypatch, "req-1")

    review = json.loads(boto3.client("s3").get_object(Bucket=job.archive.bucket, Key=result["keys"][0])["Body"].read())
    assert review["findings"]["trail"] == [
        {"checkpoint": latest, "problem": "unexpected member of ops_audit_owner", "role": "supabase_storage_admin"},
        {"checkpoint": latest, "problem": "RLS not enabled and forced", "table": "ops_audit.events", "enabled": True, "forced": False},
    ]
    markdown = boto3.client("s3").get_object(Bucket=job.archive.bucket, Key=result["keys"][1])["Body"].read().decode()
    assert "## Audit trail: principals and RLS beyond the expected (latest checkpoint) (2)" in markdown
    assert "supabase_storage_admin" in markdown


def test_review_reports_when_no_checkpoint_was_written(job, monkeypatch: pytest.MonkeyPatch) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=access_review.CHECKPOINT_LOOKBACK_DAYS)
    _store_checkpoint(job.archive.bucket, old, ["postgres"], forced=True)

    result = _run(_tenant(), monkeypatch, "req-1")

    review = json.loads(boto3.client("s3").get_object(Bucket=job.archive.bucket, Key=result["keys"][0])["Body"].read())
    assert review["findings"]["trail"] == [{"problem": "no checkpoint of the ops_audit trail in the last 3 days"}]


def test_the_review_and_the_checkpoint_job_agree_on_the_prefix() -> None:
    assert audit_checkpoint.PREFIX == CHECKPOINT_PREFIX
