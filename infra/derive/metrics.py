"""The engineering metrics job as plain declarations (pure, no Pulumi).

From the access model, the metrics catalogue and the stack config:

- `MetricsDecl`: the job's identity and its three secrets (GitHub token, PagerDuty
  key, the ops_metrics login), the database login(s) of the `metrics_writer` group,
  the ops roles that read snapshots (holders of the catalogue's read permission),
  the schedule, the bucket and the S3 keys the job writes;
- the IAM and KMS documents of the job and its bucket, built with the typed
  builder of infra/derive/iam.py;
- the freshness alert: a Grafana rule over ops_metrics.snapshots that opens a
  ticket when no good snapshot is newer than `publication.freshness_hours`.

The SQL objects (schema, table, RLS, grants) are migrations 0017-0019; the role
names here and there are checked to agree by tests/metrics/test_declarations.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.derive import iam
from infra.derive.audit import GROUP_ROLES as AUDIT_GROUPS
from infra.derive.audit import LOGIN_CONNECTION_LIMIT, SUPABASE_USER_ROLE, DbRole, DefaultPrivilege, SchemaGrant
from infra.derive.iam import ANYONE, Condition, PolicyDocument, Principal, Statement
from infra.errors import ModelError
from infra.metrics.keys import LATEST_KEY, SNAPSHOT_PREFIX
from infra.model.access import AccessModel
from infra.model.metrics import MetricsCatalogue

SCHEMA = "ops_metrics"
OWNER_ROLE = "ops_metrics_owner"
WRITER_GROUP = "ops_metrics_writer"
READER_GROUP = "ops_metrics_reader"
DATABASE_GROUP = "metrics_writer"  # the access model's `database_group` of the job's login
# Who may use the schema: the groups, PostgREST's signed-in users, and the Ops Hub backend's
# login group (it reads snapshots with a user's claims, as it does ops_audit).
SCHEMA_USAGE_ROLES = (WRITER_GROUP, READER_GROUP, SUPABASE_USER_ROLE, AUDIT_GROUPS["writer"])
JOB_IDENTITY = "metrics-job"
# What the job's secrets hold, by model key suffix (vendor/purpose).
GITHUB_SECRET = "github/metrics-token"
PAGERDUTY_SECRET = "pagerduty/metrics-api-key"
FRESHNESS_ALERT = "EngineeringMetricsStale"


@dataclass(frozen=True)
class MetricsDecl:
    """The job and its database objects: NOLOGIN owner and groups, the login, schema grants (the table is migrations 0017-0019)."""

    identity: str
    github_secret: str
    pagerduty_secret: str
    database_secret: str
    logins: tuple[DbRole, ...]
    read_roles: tuple[str, ...]
    schedule: str
    freshness_hours: int
    bucket: str
    # The daily Lambda's name (the identity's role trusts only it).
    function_name: str
    schema: str = SCHEMA
    owner: DbRole = DbRole(OWNER_ROLE, login=False, purpose="owns ops_metrics and its objects")
    groups: tuple[DbRole, ...] = (
        DbRole(WRITER_GROUP, login=False, purpose="appends snapshots (the job's login)"),
        DbRole(READER_GROUP, login=False, purpose="reads every snapshot (the Grafana datasource's login)"),
    )
    schema_grants: tuple[SchemaGrant, ...] = tuple(SchemaGrant(role, ("USAGE",)) for role in SCHEMA_USAGE_ROLES)
    # No EXECUTE for PUBLIC on the owner's functions (PostgreSQL's default would grant it).
    default_privileges: tuple[DefaultPrivilege, ...] = (DefaultPrivilege("public", "function", ()),)

    @property
    def login(self) -> DbRole:
        return self.logins[0]


def read_roles(model: AccessModel, catalogue: MetricsCatalogue) -> tuple[str, ...]:
    """The ops roles whose holders read snapshots: those holding the catalogue's read permission."""
    permission = catalogue.publication.read_permission
    return tuple(sorted(r.name for r in model.roles if permission in r.permissions))


def derive_metrics(model: AccessModel, catalogue: MetricsCatalogue, environment: str, account_id: str) -> MetricsDecl:
    """The job's declarations; a model without the job's identity, secrets or login is a model error."""
    problems = []
    identity = next((i for i in model.identities if i.name == JOB_IDENTITY), None)
    if identity is None:
        problems.append(f"identity {JOB_IDENTITY!r}: the metrics job needs it (reads_secrets: its GitHub, PagerDuty and database secrets)")
    logins = tuple(
        DbRole(name=s.database_user, login=True, member_of=(WRITER_GROUP,), connection_limit=LOGIN_CONNECTION_LIMIT,
               purpose=f"login of secret {s.key}")
        for s in model.secrets
        if s.database_user and s.database_group == DATABASE_GROUP
    )
    if len(logins) != 1:
        problems.append(f"secrets: exactly one secret needs database_group {DATABASE_GROUP!r} (the metrics job's login), found {len(logins)}")
    database_secret = next((s.key for s in model.secrets if s.database_group == DATABASE_GROUP), "")
    wanted = {GITHUB_SECRET, PAGERDUTY_SECRET, database_secret} - {""}
    if identity is not None and set(identity.reads_secrets) != wanted:
        problems.append(f"identity {JOB_IDENTITY!r}: must read exactly {sorted(wanted)}, reads {sorted(identity.reads_secrets)}")
    problems += [f"secret {key!r}: the metrics job needs it" for key in (GITHUB_SECRET, PAGERDUTY_SECRET) if key not in model.secret_by_key]
    if catalogue.publication.read_permission not in model.permission_by_name:
        problems.append(f"metrics catalogue publication.read_permission {catalogue.publication.read_permission!r}: not a permission of the access model")
    if problems:
        raise ModelError("access model and metrics catalogue", problems)
    return MetricsDecl(
        identity=JOB_IDENTITY,
        github_secret=GITHUB_SECRET,
        pagerduty_secret=PAGERDUTY_SECRET,
        database_secret=database_secret,
        logins=logins,
        read_roles=read_roles(model, catalogue),
        schedule=catalogue.publication.schedule,
        freshness_hours=catalogue.publication.freshness_hours,
        bucket=f"ops-hub-{environment}-metrics-{account_id}",
        function_name=f"ops-hub-{environment}-metrics-snapshot",
    )


# --- IAM -----------------------------------------------------------------------------


def _via_s3(region: str) -> Condition:
    return Condition("StringEquals", "kms:ViaService", (f"s3.{region}.amazonaws.com",))


def job_policy(bucket_arn: str, key_arn: str, log_group_arn: str, region: str) -> PolicyDocument:
    """The job: put its snapshots and latest.json (never read, list or delete), encrypt them via S3, log.

    Its secrets come from the identity's reader policy (VendorSecrets).
    """
    return PolicyDocument((
        Statement("WriteOwnPrefix", "Allow", ("s3:PutObject",), (f"{bucket_arn}/{SNAPSHOT_PREFIX}/*", f"{bucket_arn}/{LATEST_KEY}")),
        # Single-part puts need only a data key; nothing here reads a snapshot back (no kms:Decrypt).
        Statement("EncryptViaS3", "Allow", ("kms:GenerateDataKey",), (key_arn,), conditions=(_via_s3(region),)),
        Statement("WriteOwnLogs", "Allow", ("logs:CreateLogStream", "logs:PutLogEvents"), (iam.log_streams(log_group_arn),)),
    ))


def bucket_policy(bucket_arn: str, account_id: str) -> PolicyDocument:
    """TLS only, this account only, and no deletes: versions keep every snapshot ever published."""
    objects = f"{bucket_arn}/*"
    return PolicyDocument((
        Statement("DenyWithoutTls", "Deny", ("s3:*",), (bucket_arn, objects), principals=(ANYONE,),
                  conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),)),
        Statement("DenyOutsideAccount", "Deny", ("s3:*",), (bucket_arn, objects), principals=(ANYONE,),
                  conditions=(Condition("StringNotEquals", "aws:PrincipalAccount", (account_id,)),)),
        Statement("DenyDeletes", "Deny", ("s3:DeleteObject", "s3:DeleteObjectVersion"), (objects,), principals=(ANYONE,)),
    ))


def key_policy(account_id: str, region: str, job_role_arn: str) -> PolicyDocument:
    """The bucket's key: the account administers it; the job uses it only through S3."""
    return PolicyDocument((
        Statement("AccountAdministersKey", "Allow", ("kms:*",), ("*",), principals=(Principal("AWS", (iam.account_root(account_id),)),)),
        Statement("JobEncryptsViaS3", "Allow", ("kms:GenerateDataKey",), ("*",),
                  principals=(Principal("AWS", (job_role_arn,)),), conditions=(_via_s3(region),)),
    ))


# --- freshness --------------------------------------------------------------------------


def freshness_sql() -> str:
    """Hours since the newest good snapshot's as_of; a huge number when there is none (so it fires)."""
    return (
        f"select extract(epoch from now() - coalesce(max(as_of), 'epoch'::timestamptz)) / 3600 as hours_since_snapshot "
        f"from {SCHEMA}.snapshots"
    )


@dataclass(frozen=True)
class FreshnessRule:
    alert: str
    hours: int
    sql: str
    labels: dict[str, str]
    annotations: dict[str, str]


def freshness_rule(decl: MetricsDecl, team: str, runbook_url: str) -> FreshnessRule:
    """A ticket (routed like the SLO tickets: severity=ticket -> Slack) when snapshots go stale."""
    return FreshnessRule(
        alert=FRESHNESS_ALERT,
        hours=decl.freshness_hours,
        sql=freshness_sql(),
        labels={"severity": "ticket", "team": team, "service": "engineering-metrics"},
        annotations={
            "summary": f"No good engineering metrics snapshot for {decl.freshness_hours} h",
            "description": "The daily metrics job has not appended a complete snapshot to ops_metrics.snapshots.",
            "runbook_url": f"{runbook_url}#engineering-metrics",
        },
    )
