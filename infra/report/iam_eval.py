"""Just enough of AWS's policy evaluation to say which principal of a plan can use a secret.

Pure functions over policy documents as the plan declares them (JSON strings or
objects). They follow AWS's documented logic ("Policy evaluation logic", IAM User
Guide): an explicit Deny in any applicable policy wins; otherwise access needs an
Allow from the identity's policies or, in the same account, from the resource's
policy; a customer managed KMS key must also let the principal use it, either by
naming it in the key policy or by delegating to the account, whose IAM policies
then decide.

Conditions are evaluated only for the request facts a plan can know (the
principal's ARN and account, TLS, not an AWS service). A Deny whose condition
cannot be decided is not applied and an Allow's condition is assumed met, so the
report errs towards showing more reach, never less.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from infra.report.declared import _as_list, _statements


@dataclass(frozen=True)
class Grant:
    """One statement of one policy that allows (or denies) something."""

    policy: str  # where the statement lives: a role policy, a key policy, a secret's resource policy
    sid: str
    actions: tuple[str, ...]

    def describe(self) -> str:
        short = ", ".join(a.split(":", 1)[-1] for a in self.actions)
        return f"{self.policy}, statement {self.sid or '(no Sid)'}: {short}"


@dataclass(frozen=True)
class Principal:
    """What a request is known to carry: the candidate ARNs of the caller and its account."""

    arns: frozenset[str]
    account: str | None


def _matches(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


def action_allowed(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not _matches(action, _as_list(statement["NotAction"]))
    return _matches(action, _as_list(statement.get("Action")))


def names_principal(entries: Iterable[str], principal: Principal) -> bool:
    """Whether a list of ARNs (or ARN patterns) names the principal."""
    return any(fnmatch.fnmatchcase(arn, entry) for entry in entries for arn in principal.arns)


def principal_entries(statement: dict[str, Any]) -> list[str]:
    """The AWS principals of a resource-policy statement (`*` for anyone)."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return _as_list(principal.get("AWS"))
    return []


def is_account_root(entry: str, account: str | None) -> bool:
    return account is not None and entry in (account, f"arn:aws:iam::{account}:root")


_STRING_TESTS = {
    "StringEquals": lambda v, p: v == p,
    "StringLike": lambda v, p: fnmatch.fnmatchcase(v, p),
    "ArnEquals": lambda v, p: fnmatch.fnmatchcase(v, p),
    "ArnLike": lambda v, p: fnmatch.fnmatchcase(v, p),
    "Bool": lambda v, p: v.lower() == str(p).lower(),
}


def _facts(principal: Principal) -> dict[str, list[str]]:
    facts = {"aws:principalarn": sorted(principal.arns), "aws:securetransport": ["true"], "aws:principalisawsservice": ["false"]}
    if principal.account:
        facts["aws:principalaccount"] = [principal.account]
    return facts


def _test(operator: str, values: list[str], wanted: list[str]) -> bool | None:
    negated = operator.replace("IfExists", "").replace("Not", "", 1) if "Not" in operator else None
    base = negated or operator.replace("IfExists", "")
    test = _STRING_TESTS.get(base)
    if test is None:
        return None
    hit = any(test(v, str(w)) for v in values for w in wanted)
    return not hit if negated else hit


def condition_holds(conditions: dict[str, Any] | None, principal: Principal) -> bool | None:
    """True or False when every test can be decided from what the plan knows, else None."""
    facts = _facts(principal)
    verdict: bool | None = True
    for operator, tests in (conditions or {}).items():
        for key, wanted in (tests or {}).items():
            values = facts.get(key.lower())
            result = None if values is None else _test(operator, values, _as_list(wanted) or [str(wanted)])
            if result is False:
                return False
            if result is None:
                verdict = None
    return verdict


ResourceTest = Callable[[str], bool]


def allows(document: Any, policy: str, action: str, resource_matches: ResourceTest) -> list[Grant]:
    """The Allow statements of an identity policy that grant `action` on a resource."""
    return [
        Grant(policy, str(st.get("Sid", "")), tuple(_as_list(st.get("Action"))) or ("(NotAction)",))
        for st in _statements(document)
        if st.get("Effect") == "Allow" and action_allowed(st, action) and any(resource_matches(r) for r in _as_list(st.get("Resource")))
    ]


def denies(document: Any, action: str, principal: Principal, resource_matches: ResourceTest | None = None) -> list[Grant]:
    """Deny statements that certainly apply to this principal's `action` (identity or resource policy)."""
    found = []
    for st in _statements(document):
        if st.get("Effect") != "Deny" or not action_allowed(st, action):
            continue
        if resource_matches is not None and not any(resource_matches(r) for r in _as_list(st.get("Resource"))):
            continue
        entries = principal_entries(st)
        if entries and entries != ["*"] and not names_principal(entries, principal):
            continue
        if condition_holds(st.get("Condition"), principal) is True:
            found.append(Grant("", str(st.get("Sid", "")), tuple(_as_list(st.get("Action")))))
    return found


def resource_policy_allows(document: Any, policy: str, action: str, principal: Principal) -> list[Grant]:
    """Allow statements of a resource policy that name the principal itself (not only its account)."""
    return [
        Grant(policy, str(st.get("Sid", "")), tuple(_as_list(st.get("Action"))))
        for st in _statements(document)
        if st.get("Effect") == "Allow"
        and action_allowed(st, action)
        and names_principal([e for e in principal_entries(st) if e != "*"], principal)
        and condition_holds(st.get("Condition"), principal) is not False
    ]


def delegates_to_account(document: Any, action: str, account: str | None) -> list[Grant]:
    """Key-policy statements that hand `action` to the account's IAM policies."""
    return [
        Grant("", str(st.get("Sid", "")), tuple(_as_list(st.get("Action"))))
        for st in _statements(document)
        if st.get("Effect") == "Allow" and action_allowed(st, action) and any(is_account_root(e, account) for e in principal_entries(st))
    ]


def foreign_principals(document: Any, known: Iterable[Principal]) -> list[str]:
    """AWS principals a resource policy names (in Principal or in an aws:PrincipalArn test) that are none of `known`."""
    named: set[str] = set()
    for st in _statements(document):
        named |= {e for e in principal_entries(st) if e != "*"}
        for tests in (st.get("Condition") or {}).values():
            for key, wanted in (tests or {}).items():
                if key.lower() == "aws:principalarn":
                    named |= set(_as_list(wanted))
    known = list(known)
    return sorted(e for e in named if not any(names_principal([e], p) for p in known) and ":root" not in e and not e.isdigit())
