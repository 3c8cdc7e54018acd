"""What a vendor credential may do at its vendor, in each vendor's own words.

A model secret declares `vendor_scopes`: the credential's `key_type`, and where
the vendor has them, its `grants` (permissions, scopes, content-type actions)
and its `role`. Each vendor's vocabulary below lists the values the vendor
itself uses, with the page they come from, and says which of them let the
credential change something at the vendor (`writes`), so the policy pack can
refuse write scopes on a credential only read routes use (OPS-VEND-001).

The secret in AWS carries them as tags (`scope_tags`): `vendor-key-type`,
`vendor-role` and the grants, space-separated, in `vendor-grants`,
`vendor-grants-2`, ... so that no value exceeds AWS's 256 characters.

Adding a secret of a vendor listed here means adding its `vendor_scopes`; adding
a vendor means adding its vocabulary here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


# AWS tag values: at most 256 characters of letters, digits, spaces and _ . : / = + - @
# (Secrets Manager's TagResource; a resource holds at most 50 tags, the provider's default tags included).
TAG_VALUE_MAX = 256
TAG_VALUE_PATTERN = r"[\w .:/=+\-@]*"
TAG_KEY_TYPE = "vendor-key-type"
TAG_ROLE = "vendor-role"
TAG_GRANTS = "vendor-grants"
# Grant tags one secret may use, leaving most of the 50 for the rest.
MAX_GRANT_TAGS = 10


class VendorScopes(BaseModel):
    """A secret's declared powers at its vendor (access.yaml `secrets[].vendor_scopes`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_type: str
    role: str | None = None
    grants: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyType:
    description: str
    # True or False when the type alone decides; None when its grants or role decide.
    writes: bool | None
    takes_grants: bool = False


@dataclass(frozen=True)
class Vocabulary:
    vendor: str
    # What the vendor calls its grants ("restricted-key permissions", "OAuth grant types").
    grants_are: str
    source: str
    key_types: Mapping[str, KeyType]
    # Grants the vendor knows (a full match), and those of them that write.
    grant_pattern: str | None = None
    write_grant_pattern: str | None = None
    # Roles the vendor knows, each with whether it writes; or a pattern for role names
    # the vendor lets you choose (their grants then decide).
    roles: Mapping[str, bool] | None = None
    role_pattern: str | None = None

    def grant_writes(self, grant: str) -> bool:
        return self.write_grant_pattern is not None and re.fullmatch(self.write_grant_pattern, grant) is not None

    def writing_scopes(self, scopes: VendorScopes) -> list[str]:
        """Every declared value that lets the credential change something at the vendor."""
        found = [f"key type {scopes.key_type}"] if self.key_types[scopes.key_type].writes else []
        if self.roles and scopes.role is not None and self.roles.get(scopes.role):
            found.append(f"role {scopes.role}")
        return found + [f"grant {g}" for g in scopes.grants if self.grant_writes(g)]

    def problems(self, scopes: VendorScopes) -> list[str]:
        """Values outside the vendor's vocabulary, as readable problems (empty when valid)."""
        key_type = self.key_types.get(scopes.key_type)
        if key_type is None:
            return [f"key_type {scopes.key_type!r} is not a {self.vendor} credential type; use one of {sorted(self.key_types)}"]
        problems = self._grant_problems(scopes, key_type) + self._role_problems(scopes)
        repeated = sorted({g for g in scopes.grants if scopes.grants.count(g) > 1})
        return problems + [f"grant {g!r} is listed twice" for g in repeated]

    def _grant_problems(self, scopes: VendorScopes, key_type: KeyType) -> list[str]:
        if not key_type.takes_grants:
            return [f"key_type {scopes.key_type!r} takes no grants; remove {list(scopes.grants)}"] if scopes.grants else []
        if not scopes.grants:
            return [f"key_type {scopes.key_type!r} needs grants ({self.grants_are}, see {self.source})"]
        return [
            f"grant {g!r} is not one of {self.vendor}'s {self.grants_are} (see {self.source})"
            for g in scopes.grants
            if self.grant_pattern is None or re.fullmatch(self.grant_pattern, g) is None
        ]

    def _role_problems(self, scopes: VendorScopes) -> list[str]:
        if self.roles is None and self.role_pattern is None:
            return [f"{self.vendor} credentials have no role; remove role {scopes.role!r}"] if scopes.role is not None else []
        if scopes.role is None:
            return [f"{self.vendor} credentials need a role"]
        if self.roles is not None and scopes.role not in self.roles:
            return [f"role {scopes.role!r} is not a {self.vendor} role; use one of {sorted(self.roles)}"]
        if self.role_pattern is not None and re.fullmatch(self.role_pattern, scopes.role) is None:
            return [f"role {scopes.role!r} must match {self.role_pattern}"]
        return []


def _grant_tag_key(index: int) -> str:
    return TAG_GRANTS if index == 0 else f"{TAG_GRANTS}-{index + 1}"


def scope_tags(scopes: VendorScopes) -> dict[str, str]:
    """The scopes as AWS tags: key type, role, and the grants packed into values of at most 256 characters."""
    tags = {TAG_KEY_TYPE: scopes.key_type}
    if scopes.role is not None:
        tags[TAG_ROLE] = scopes.role
    chunks: list[str] = []
    for grant in scopes.grants:
        if chunks and len(chunks[-1]) + 1 + len(grant) <= TAG_VALUE_MAX:
            chunks[-1] += f" {grant}"
        else:
            chunks.append(grant)
    tags.update({_grant_tag_key(i): chunk for i, chunk in enumerate(chunks)})
    return tags


def tag_problems(scopes: VendorScopes) -> list[str]:
    """Why the scopes cannot be written as AWS tags (empty when they can)."""
    tags = scope_tags(scopes)
    problems = [
        f"tag {key} = {value!r} is not a valid AWS tag value (at most {TAG_VALUE_MAX} of letters, digits, spaces, _ . : / = + - @)"
        for key, value in tags.items()
        if len(value) > TAG_VALUE_MAX or re.fullmatch(TAG_VALUE_PATTERN, value) is None
    ]
    grant_tags = len([k for k in tags if k.startswith(TAG_GRANTS)])
    if grant_tags > MAX_GRANT_TAGS:
        problems.append(f"the grants need {grant_tags} tags, more than {MAX_GRANT_TAGS}; split the key or use a broader grant")
    return problems


def policy_vocabularies() -> dict[str, dict[str, object]]:
    """What the policy pack needs to tell write scopes from tags: per vendor, the writing
    key types and roles, and an anchored pattern of writing grants."""
    return {
        v.vendor: {
            "write_key_types": sorted(name for name, t in v.key_types.items() if t.writes),
            "write_roles": sorted(name for name, writes in (v.roles or {}).items() if writes),
            "write_grant_pattern": f"^({v.write_grant_pattern})$" if v.write_grant_pattern else None,
        }
        for v in VOCABULARIES.values()
    }


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in words)


# Resources of Stripe restricted keys as Stripe names them in permission slugs
# (`rak_<resource>_read` / `_write`, the values of the dashboard's `permissions[]`).
STRIPE_RESOURCES = (
    "application_fee", "balance", "balance_transaction", "balance_transaction_source", "charge",
    "checkout_session", "connected_account", "coupon", "credit_note", "customer", "dispute", "event",
    "file", "invoice", "invoice_item", "payment_intent", "payment_link", "payment_method", "payout",
    "plan", "price", "product", "refund", "setup_intent", "subscription", "tax_id", "tax_rate",
    "transfer", "webhook",
)  # fmt: skip
# Listmonk's user-role permissions (listmonk permissions.json); those that change data write.
LISTMONK_READ_PERMISSIONS = (
    "lists:get_all", "subscribers:get", "subscribers:get_all", "subscribers:sql_query", "campaigns:get",
    "campaigns:get_all", "campaigns:get_analytics", "bounces:get", "media:get", "templates:get",
    "users:get", "roles:get", "settings:get",
)  # fmt: skip
LISTMONK_WRITE_PERMISSIONS = (
    "lists:manage_all", "subscribers:manage", "subscribers:import", "tx:send", "campaigns:manage",
    "campaigns:manage_all", "campaigns:send", "bounces:manage", "webhooks:post_bounce", "media:manage",
    "templates:manage", "users:manage", "roles:manage", "settings:manage", "settings:maintain",
)  # fmt: skip
# Repository and organisation permissions of GitHub fine-grained tokens (`<permission>:read|write`).
GITHUB_PERMISSIONS = (
    "actions", "administration", "checks", "contents", "deployments", "environments", "issues",
    "members", "metadata", "packages", "pages", "pull_requests", "secrets", "security_events",
    "statuses", "workflows",
)  # fmt: skip

VOCABULARIES: dict[str, Vocabulary] = {
    v.vendor: v
    for v in (
        Vocabulary(
            vendor="stripe",
            grants_are="restricted-key permissions (rak_<resource>_read or _write)",
            source="https://docs.stripe.com/keys/restricted-api-keys",
            key_types={
                "restricted": KeyType("restricted API key (rk_), limited to its permissions", None, takes_grants=True),
                "secret": KeyType("unrestricted secret key (sk_): every API call", writes=True),
                "webhook-signing-secret": KeyType("webhook endpoint signing secret (whsec_): verifies events, calls no API", writes=False),
            },
            grant_pattern=rf"rak_({_alternatives(STRIPE_RESOURCES)})_(read|write)",
            write_grant_pattern=r"rak_.+_write",
        ),
        Vocabulary(
            vendor="payu",
            grants_are="OAuth grant types (the scopes of PayU's REST API operations)",
            source="https://developers.payu.com/europe/docs/payment-flows/auth-and-order",
            key_types={"pos-oauth-client": KeyType("a point of sale's OAuth client_id and client_secret", None, takes_grants=True)},
            grant_pattern="client_credentials|trusted_merchant|partner",
            # Every grant type creates orders (client_credentials also refunds and payouts).
            write_grant_pattern="client_credentials|trusted_merchant|partner",
        ),
        Vocabulary(
            vendor="listmonk",
            grants_are="user-role permissions",
            source="https://listmonk.app/docs/roles-and-permissions/",
            key_types={"api-user": KeyType("an API user's token, with its user role's permissions", None, takes_grants=True)},
            grant_pattern=_alternatives(LISTMONK_READ_PERMISSIONS + LISTMONK_WRITE_PERMISSIONS),
            write_grant_pattern=_alternatives(LISTMONK_WRITE_PERMISSIONS),
            role_pattern=r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,49}",
        ),
        Vocabulary(
            vendor="strapi",
            grants_are="content-API actions of a custom token (api::<content-type>.<content-type>.<action>)",
            source="https://docs.strapi.io/cms/features/api-tokens",
            key_types={
                "read-only": KeyType("find and findOne on every content type", writes=False),
                "full-access": KeyType("every action on every content type", writes=True),
                "custom": KeyType("the listed actions only", None, takes_grants=True),
            },
            grant_pattern=r"api::[a-z0-9-]+\.[a-z0-9-]+\.(find|findOne|create|update|delete)",
            write_grant_pattern=r".+\.(create|update|delete)",
        ),
        Vocabulary(
            vendor="plausible",
            grants_are="API key scopes",
            source="https://plausible.io/docs/stats-api",
            key_types={
                "stats-api": KeyType("Stats API key (scope stats:read:*)", writes=False),
                "sites-api": KeyType("Sites API key (scope sites:provision:*): creates and deletes sites and goals", writes=True),
            },
        ),
        Vocabulary(
            vendor="grafana",
            grants_are="service account roles",
            source="https://grafana.com/docs/grafana/latest/administration/service-accounts/",
            key_types={"service-account-token": KeyType("a service account's token, with the account's organization role", None)},
            roles={"None": False, "Viewer": False, "Editor": True, "Admin": True},
        ),
        Vocabulary(
            vendor="pagerduty",
            grants_are="API access key types",
            source="https://support.pagerduty.com/main/docs/api-access-keys",
            key_types={
                "general-access": KeyType("General Access REST API key: every account object", writes=True),
                "general-access-read-only": KeyType("General Access REST API key, read-only (GET calls only)", writes=False),
                "user-token": KeyType("User Token REST API key: what its user may do", writes=True),
                "user-token-read-only": KeyType("User Token REST API key, read-only", writes=False),
                "events-integration": KeyType("Events API v2 integration (routing) key: triggers, acknowledges and resolves alerts of one service", writes=True),
            },
        ),
        Vocabulary(
            vendor="github",
            grants_are="fine-grained token permissions (<permission>:read or :write)",
            source="https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens",
            key_types={"fine-grained-token": KeyType("fine-grained personal access token, limited to its permissions", None, takes_grants=True)},
            grant_pattern=rf"({_alternatives(GITHUB_PERMISSIONS)}):(read|write)",
            write_grant_pattern=r".+:write",
        ),
    )
}
