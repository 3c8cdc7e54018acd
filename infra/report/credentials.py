"""Who can reach each credential: every principal of the plan that can read or write each secret.

Built from the plan's resources alone, generically, so a role, job or secret another
change adds shows up without a change here:

- IAM roles and their policies (inline, `RolePolicy`, attached `Policy`), each
  secret's resource policy and its KMS key's policy decide who can read
  (`GetSecretValue`) or write (`PutSecretValue`, `UpdateSecret`,
  `UpdateSecretVersionStage`) it (infra/report/iam_eval.py);
- Lambda functions say what runs as a role, `SecretRotation` which function rotates
  which secret, and EventBridge schedules when a job runs;
- people reach a vendor's credential only through the identity that serves the /ops
  routes (`serves_routes` in the model): ops role -> route -> that identity -> the
  IAM statement that lets it read the secret; they never hold the credential;
- the deploy role (the AWS credentials `pulumi up` runs with, `opshub:deployRoleArn`)
  manages every secret, writes the values the plan declares (`SecretVersion`) and
  reads them back;
- principals a secret's resource policy names that are not roles of the plan, and
  the account's other IAM principals where neither the resource policy nor the key
  limits readers, are listed too, because the plan cannot rule them out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from infra.model.access import AccessModel
from infra.model.assignments import Assignments
from infra.report import iam_eval
from infra.report.declared import (
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT,
    SECRET,
    SECRET_ROTATION,
    _as_list,
    _linked,
    _name_of,
    _names_secret,
    _of_type,
    _props,
    _secret_key,
    _statements,
    DeclaredSecret,
)

SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KMS_KEY = "aws:kms/key:Key"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
SCHEDULE = "aws:scheduler/schedule:Schedule"

READ = "read"
WRITE = "write"
ACTIONS = {
    READ: ("secretsmanager:GetSecretValue",),
    WRITE: ("secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret", "secretsmanager:UpdateSecretVersionStage"),
}
# What the key must let the principal do for each kind of access (Secrets Manager calls KMS for it).
KMS_ACTIONS = {READ: "kms:Decrypt", WRITE: "kms:GenerateDataKey"}

Resource = dict[str, Any]


@dataclass
class Reach:
    """One principal's access to one secret, with every path that gives it."""

    principal: str
    kind: str  # people, runtime, job, deploy, account, external
    description: str
    access: set[str] = field(default_factory=set)
    paths: list[list[str]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "kind": self.kind,
            "description": self.description,
            "access": sorted(self.access),
            "paths": self.paths,
            "people": self.people,
        }


@dataclass(frozen=True)
class _Role:
    resource: Resource
    principal: iam_eval.Principal
    documents: tuple[tuple[str, Any], ...]  # (policy resource name, document)

    @property
    def name(self) -> str:
        return _name_of(self.resource)


def _account(resource: Resource) -> str | None:
    """The account the resource's provider is pinned to (`allowedAccountIds`, as the engine passes it)."""
    accounts = (resource.get("provider") or {}).get("properties", {}).get("allowedAccountIds")
    try:
        ids = json.loads(accounts) if isinstance(accounts, str) else accounts
    except ValueError:
        return None
    return str(ids[0]) if isinstance(ids, list) and ids else None


def _provider_setting(resource: Resource, key: str) -> str | None:
    value = (resource.get("provider") or {}).get("properties", {}).get(key)
    return value if isinstance(value, str) else None


def _role_arns(role: Resource, account: str | None) -> frozenset[str]:
    """The ARNs a role may be referred to by: its `arn` output (stack export), the real form, the offline plan's form."""
    props = _props(role)
    found = {props["arn"]} if isinstance(props.get("arn"), str) else set()
    if account:
        found.add(f"arn:aws:iam::{account}:role/{props.get('name') or role['name']}")
        # infra/offline/recorder.py gives every resource arn:aws:<service>:<region>:<account>:<logical name>.
        found.add(f"arn:aws:iam:{_provider_setting(role, 'region')}:{account}:{role['name']}")
    return frozenset(found)


def _role_documents(role: Resource, resources: list[Resource], by_urn: dict[str, Resource]) -> tuple[tuple[str, Any], ...]:
    docs = [(f"{_name_of(role)} inline policy {p.get('name', '')}".strip(), p.get("policy")) for p in _props(role).get("inlinePolicies") or []]
    docs += [(rp["name"], _props(rp).get("policy")) for rp in _of_type(resources, IAM_ROLE_POLICY) if role in _linked(rp, "role", by_urn)]
    for attachment in _of_type(resources, IAM_ROLE_POLICY_ATTACHMENT):
        if role in _linked(attachment, "role", by_urn):
            docs += [(p["name"], _props(p).get("policy")) for p in _linked(attachment, "policyArn", by_urn) if p["type"] == IAM_POLICY]
    return tuple(docs)


def _roles(resources: list[Resource], by_urn: dict[str, Resource]) -> list[_Role]:
    out = []
    for role in _of_type(resources, IAM_ROLE):
        account = _account(role)
        out.append(_Role(role, iam_eval.Principal(_role_arns(role, account), account), _role_documents(role, resources, by_urn)))
    return out


def _matches_arn(reference: str, resource: Resource) -> bool:
    """Whether a Resource entry of a policy covers this resource (its own ARN, a pattern, or `*`)."""
    return reference == "*" or reference.endswith(f":{resource['name']}") or reference == _props(resource).get("arn")


def _trusted_services(role: Resource) -> list[str]:
    return sorted({s for st in _statements(_props(role).get("assumeRolePolicy")) for s in _as_list((st.get("Principal") or {}).get("Service"))})


class _Plan:
    """The plan's resources, indexed for the questions below."""

    def __init__(self, resources: list[Resource], model: AccessModel) -> None:
        self.resources = resources
        self.model = model
        self.by_urn = {r["urn"]: r for r in resources if "urn" in r}
        self.roles = _roles(resources, self.by_urn)
        self.functions = _of_type(resources, LAMBDA_FUNCTION)

    def linked_to(self, type_: str, prop: str, target: Resource) -> list[Resource]:
        return [r for r in _of_type(self.resources, type_) if target in _linked(r, prop, self.by_urn)]

    def functions_of(self, role: _Role) -> list[Resource]:
        return [f for f in self.functions if role.resource in _linked(f, "role", self.by_urn)]

    def schedule_of(self, function: Resource) -> str | None:
        for schedule in _of_type(self.resources, SCHEDULE):
            if function in _linked(schedule, "target", self.by_urn):
                props = _props(schedule)
                return f"{props.get('scheduleExpression')} {props.get('scheduleExpressionTimezone', 'UTC')}".strip()
        return None

    def rotated_by(self, function: Resource) -> list[str]:
        """Keys of the secrets a function is the rotation Lambda of."""
        return [
            _secret_key(_name_of(s))
            for rotation in self.linked_to(SECRET_ROTATION, "rotationLambdaArn", function)
            for s in _linked(rotation, "secretId", self.by_urn)
        ]

    def identity_of(self, role: _Role) -> str | None:
        """The model identity a role belongs to (its name carries the identity's)."""
        names = (role.name, role.resource["name"])
        return next((i.name for i in self.model.identities if any(i.name in n for n in names)), None)

    def describe(self, role: _Role) -> tuple[str, str]:
        """(kind, description) of what runs as the role."""
        identity = self.identity_of(role)
        serves = identity is not None and any(i.serves_routes and i.name == identity for i in self.model.identities)
        services = ", ".join(_trusted_services(role.resource)) or "no service"
        parts = [f"IAM role {role.name} (trusts {services})"]
        for function in self.functions_of(role):
            what = f"Lambda {_name_of(function)}"
            rotates = self.rotated_by(function)
            if rotates:
                what += f", rotation Lambda of {', '.join(rotates)}"
            schedule = self.schedule_of(function)
            if schedule:
                what += f", runs {schedule}"
            parts.append(what)
        if identity:
            parts.append(f"model identity {identity}")
        return ("runtime" if serves else "job"), "; ".join(parts)


def _kms_paths(plan: _Plan, secret: Resource, role: _Role, access: str) -> list[str] | None:
    """How the secret's key lets the role do `access`: path steps, [] for an AWS managed key, None if it does not."""
    keys = [k for k in _linked(secret, "kmsKeyId", plan.by_urn) if k["type"] == KMS_KEY]
    if not keys:
        return [] if not _props(secret).get("kmsKeyId") else None
    key = keys[0]
    action = KMS_ACTIONS[access]
    document = _props(key).get("policy")
    direct = iam_eval.resource_policy_allows(document, key["name"], action, role.principal)
    if direct:
        return [f"KMS key {key['name']}, key policy statement {direct[0].sid}"]
    if iam_eval.delegates_to_account(document, action, role.principal.account):
        grants = [g for name, doc in role.documents for g in iam_eval.allows(doc, name, action, lambda r: _matches_arn(r, key))]
        if grants:
            return [f"KMS key {key['name']} (key policy delegates to the account), {grants[0].describe()}"]
    return None


def _role_reach(plan: _Plan, secret: Resource, declared: DeclaredSecret, policy_doc: Any, role: _Role) -> tuple[dict[str, list[str]], list[str]]:
    """Per access kind, the path that lets the role do it; and notes on paths a key or a Deny blocks."""
    found: dict[str, list[str]] = {}
    notes = []
    for access, actions in ACTIONS.items():
        for action in actions:
            identity = [g for name, doc in role.documents for g in iam_eval.allows(doc, name, action, lambda r: _names_secret(r, declared))]
            resource = iam_eval.resource_policy_allows(policy_doc, "resource policy", action, role.principal)
            if not identity and not resource:
                continue
            denied = iam_eval.denies(policy_doc, action, role.principal) + [
                d for _, doc in role.documents for d in iam_eval.denies(doc, action, role.principal, lambda r: _names_secret(r, declared))
            ]
            if denied:
                notes.append(f"{role.name}: {action} is allowed but denied by statement {denied[0].sid}")
                continue
            kms = _kms_paths(plan, secret, role, access)
            if kms is None:
                notes.append(f"{role.name}: {action} is allowed but the KMS key policy does not let it {KMS_ACTIONS[access]}")
                continue
            grant = (identity or resource)[0]
            found[access] = [f"IAM role {role.name}", grant.describe(), *kms]
            break
    return found, notes


def _paths(found: dict[str, list[str]]) -> list[list[str]]:
    """Each distinct path once (one statement often grants both read and write)."""
    return [list(p) for p in dict.fromkeys(tuple(p) for p in found.values())]


def _people(plan: _Plan, key: str, runtime: Reach, ops_roles: list[dict], assignments: Assignments | None) -> list[Reach]:
    """Ops roles whose permissions let the runtime use this vendor's credential for them."""
    vendor = key.split("/")[0]
    grants = {p: (i.title, level) for i in plan.model.integrations if i.name == vendor for p, level in i.grants.items()}
    holders: dict[str, list[str]] = defaultdict(list)
    for a in assignments.assignments if assignments else ():
        holders[a.role].append(a.user)
    out = []
    for role in ops_roles:
        paths = [
            [f"ops role {role['name']}", f"{r.method} {r.path} ({perm}, {grants[perm][0]}: {grants[perm][1]})", f"{runtime.principal} acts for the person", *runtime.paths[0][1:]]
            for perm in role["permissions"]
            if perm in grants
            for r in plan.model.routes
            if r.permission == perm
        ]
        if paths:
            levels = sorted({grants[p][1] for p in role["permissions"] if p in grants})
            description = f"people holding {role['name']} use it through {runtime.principal} ({', '.join(levels)}); they never hold it"
            out.append(Reach(role["name"], "people", description, {"use"}, paths, sorted(holders.get(role["name"], []))))
    return out


def _deploy(plan: _Plan, secret: Resource, reads_denied: bool, role_arn: str | None) -> Reach:
    """`pulumi up`'s own credentials: they manage every secret, write the values the plan declares and read them back."""
    provider = (secret.get("provider") or {}).get("name") or "the default AWS provider"
    versions = plan.linked_to(SECRET_VERSION, "secretId", secret)
    reach = Reach(
        "deploy role",
        "deploy",
        f"the AWS credentials `pulumi up` runs with ({role_arn or 'role not stated'}, provider {provider}): "
        "manages the secret, its resource policy and rotation",
        {"manage"},
        [[f"Pulumi provider {provider}", f"aws:secretsmanager/secret:Secret {secret['name']}"]],
    )
    for version in versions:
        reach.access.add(WRITE)
        reach.paths.append([f"Pulumi provider {provider}", f"{SECRET_VERSION.split(':')[-1]} {version['name']} declares the value"])
        if not reads_denied:
            reach.access.add(READ)
    return reach


def _reads_denied(policy_doc: Any, account: str | None, arn: str | None = None) -> bool:
    """Whether the resource policy denies reads to `arn` (default: a principal of the account it does not name)."""
    caller = iam_eval.Principal(frozenset({arn or f"arn:aws:iam::{account or '000000000000'}:role/not-in-this-plan"}), account)
    return bool(iam_eval.denies(policy_doc, ACTIONS[READ][0], caller))


def credential_reach(
    resources: list[Resource],
    model: AccessModel,
    declared: dict[str, DeclaredSecret] | None,
    ops_roles: list[dict],
    assignments: Assignments | None,
    deploy_role_arn: str | None = None,
) -> list[dict[str, Any]]:
    """One entry per declared secret: its rotation plan and every principal that can read or write it."""
    if not declared:
        return []
    plan = _Plan(resources, model)
    out = []
    for secret in _of_type(resources, SECRET):
        key = _secret_key(_name_of(secret))
        spec = declared[key]
        policies = plan.linked_to(SECRET_POLICY, "secretArn", secret)
        policy_doc = {"Statement": [st for p in policies for st in _statements(_props(p).get("policy"))]}
        reaches: list[Reach] = []
        notes: list[str] = []
        runtime_reach = None
        for role in plan.roles:
            found, blocked = _role_reach(plan, secret, spec, policy_doc, role)
            notes += blocked
            if not found:
                continue
            kind, description = plan.describe(role)
            reach = Reach(plan.identity_of(role) or role.name, kind, description, set(found), _paths(found))
            reaches.append(reach)
            if kind == "runtime" and READ in found:
                runtime_reach = reach
        if runtime_reach is not None:
            reaches += _people(plan, key, runtime_reach, ops_roles, assignments)
        limited = _reads_denied(policy_doc, _account(secret))
        deploy_denied = limited and (deploy_role_arn is None or _reads_denied(policy_doc, _account(secret), deploy_role_arn))
        reaches.append(_deploy(plan, secret, deploy_denied, deploy_role_arn))
        reaches += _outsiders(plan, secret, policy_doc, limited, deploy_role_arn)
        model_spec = model.secret_by_key.get(key)
        out.append(
            {
                "key": key,
                "name": spec.name,
                "urn": spec.urn,
                "rotation": _rotation(plan, secret, spec, model_spec),
                "principals": [r.as_dict() for r in reaches],
                "notes": notes,
            }
        )
    return sorted(out, key=lambda c: c["key"])


def _outsiders(plan: _Plan, secret: Resource, policy_doc: Any, limited: bool, deploy_role_arn: str | None) -> list[Reach]:
    out = [
        Reach(arn, "external", "named in the secret's resource policy; not a role of this plan, so its own IAM policies decide", {"named"}, [["secret resource policy"]])
        for arn in iam_eval.foreign_principals(policy_doc, [r.principal for r in plan.roles])
        if arn != deploy_role_arn
    ]
    keys = [k for k in _linked(secret, "kmsKeyId", plan.by_urn) if k["type"] == KMS_KEY]
    account = _account(secret)
    delegated = not keys or iam_eval.delegates_to_account(_props(keys[0]).get("policy"), KMS_ACTIONS[READ], account)
    if not limited and delegated:
        via = f"key policy of {keys[0]['name']} delegates to the account" if keys else "AWS managed key"
        out.append(
            Reach(
                f"other IAM principals of account {account or '?'}",
                "account",
                f"any principal whose own IAM policy allows it: the resource policy has no read allowlist and the {via}",
                {READ, WRITE},
                [["IAM policies outside this plan"]],
            )
        )
    return out


def _rotation(plan: _Plan, secret: Resource, spec: DeclaredSecret, model_spec: Any) -> dict[str, Any]:
    rotations = plan.linked_to(SECRET_ROTATION, "secretId", secret)
    functions = [f for r in rotations for f in _linked(r, "rotationLambdaArn", plan.by_urn)]
    return {
        "plan": model_spec.rotation if model_spec else None,
        "days": model_spec.rotation_days if model_spec else None,
        "declared_days": spec.rotation_days,
        "lambda": _name_of(functions[0]) if functions else None,
        "master": model_spec.master if model_spec else None,
    }
