"""OpsAuth: the Ops Hub's Auth0 tenant configuration, translated from infra/derive/auth0.py.

Creates, all with the explicit Auth0 provider:
- the ops API (`ResourceServer`): RBAC enforced, permissions in the access token, short-lived
  RS256 tokens, no offline access; and its permissions (`ResourceServerScopes`, authoritative);
- one `Role` per model role and its `RolePermissions` (authoritative: exactly the model's);
- `Guardian`: MFA on every application with the factors the model offers; SMS, voice, email,
  push and Duo stay off;
- the post-login `Action` (infra/actions/post_login.js, Node 22) with its settings as Action
  secrets, bound by `TriggerActions` (authoritative for the post-login trigger);
- machine clients, each with its `ClientCredentials` (client secret, a Pulumi secret) and one
  `ClientGrant`: the Ops Hub backend on the ops API, and the access review job, separately, on
  the Management API with read-only scopes.
Removing a role or permission from the model removes its declaration, so Pulumi deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_auth0 as auth0
from pydantic import BaseModel, ConfigDict, Field

from infra.derive.auth0 import AuthDeclarations, MachineClientDecl, RoleDecl

ACTION_SOURCE = Path(__file__).resolve().parent.parent / "actions" / "post_login.js"
ACTION_RUNTIME = "node22"
POST_LOGIN = auth0.ActionSupportedTriggersArgs(id="post-login", version="v3")


class OpsAuthArgs(BaseModel):
    """The derived declarations and the Auth0 provider to create them with."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    declarations: AuthDeclarations
    provider: auth0.Provider
    action_code: str = Field(default_factory=lambda: ACTION_SOURCE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class MachineClient:
    """An M2M application, its credentials (`credentials.client_secret` is a Pulumi secret) and its one grant."""

    client: auth0.Client
    credentials: auth0.ClientCredentials
    grant: auth0.ClientGrant

    @property
    def client_id(self) -> pulumi.Output[str]:
        return self.client.client_id

    def credentials_json(self) -> pulumi.Output[str]:
        """`{"client_id", "client_secret"}` as one secret JSON string, the shape the jobs read."""
        return pulumi.Output.secret(
            pulumi.Output.json_dumps({"client_id": self.client.client_id, "client_secret": self.credentials.client_secret})
        )


class OpsAuth(pulumi.ComponentResource):
    """The ops API, its roles, MFA, the post-login Action and the machine clients."""

    def __init__(self, name: str, args: OpsAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:auth:OpsAuth", name, None, opts)
        decl = args.declarations
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.api = auth0.ResourceServer(
            f"{name}-api",
            name="Ops Hub API",
            identifier=decl.api_identifier,
            signing_alg="RS256",  # Supabase third-party auth verifies asymmetric keys only
            enforce_policies=True,
            token_dialect="access_token_authz",
            token_lifetime=decl.token_lifetime,
            token_lifetime_for_web=decl.token_lifetime,
            allow_offline_access=False,
            # The Ops Hub SPA is first-party; a consent screen would add nothing.
            skip_consent_for_verifiable_first_party_clients=True,
            opts=child,
        )
        self.scopes = auth0.ResourceServerScopes(
            f"{name}-scopes",
            resource_server_identifier=self.api.identifier,
            scopes=[auth0.ResourceServerScopesScopeArgs(name=s.name, description=s.description) for s in decl.scopes],
            opts=child,
        )
        granted_after_scopes = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.scopes]))
        self.roles: dict[str, auth0.Role] = {}
        self.role_permissions: dict[str, auth0.RolePermissions] = {}
        for role in decl.roles:
            self._declare_role(name, role, child, granted_after_scopes)
        self.guardian = self._guardian(name, decl, child)
        self.action = auth0.Action(
            f"{name}-post-login",
            name="opshub-post-login",
            runtime=ACTION_RUNTIME,
            deploy=True,
            code=args.action_code,
            supported_triggers=POST_LOGIN,
            secrets=[auth0.ActionSecretArgs(name=k, value=v) for k, v in decl.action.secrets().items()],
            opts=child,
        )
        self.post_login_binding = auth0.TriggerActions(
            f"{name}-post-login-binding",
            trigger=POST_LOGIN.id,
            actions=[auth0.TriggerActionsActionArgs(id=self.action.id, display_name=self.action.name)],
            opts=child,
        )
        self.backend = self._machine_client(name, decl.backend, child, granted_after_scopes)
        self.access_review = self._machine_client(name, decl.access_review, child, child)
        self.register_outputs(
            {
                "apiIdentifier": self.api.identifier,
                "roleIds": {n: r.id for n, r in self.roles.items()},
                "backendClientId": self.backend.client_id,
                "accessReviewClientId": self.access_review.client_id,
            }
        )

    def _declare_role(
        self, name: str, role: RoleDecl, opts: pulumi.ResourceOptions, grant_opts: pulumi.ResourceOptions
    ) -> None:
        auth_role = auth0.Role(f"{name}-{role.name}", name=role.name, description=role.description, opts=opts)
        self.roles[role.name] = auth_role
        self.role_permissions[role.name] = auth0.RolePermissions(
            f"{name}-{role.name}-permissions",
            role_id=auth_role.id,
            permissions=[
                auth0.RolePermissionsPermissionArgs(name=p, resource_server_identifier=self.api.identifier)
                for p in role.permissions
            ],
            opts=grant_opts,
        )

    @staticmethod
    def _guardian(name: str, decl: AuthDeclarations, opts: pulumi.ResourceOptions) -> auth0.Guardian:
        factors = decl.guardian
        return auth0.Guardian(
            f"{name}-guardian",
            policy=factors.policy,
            otp=factors.otp,
            recovery_code=factors.recovery_code,
            webauthn_roaming=auth0.GuardianWebauthnRoamingArgs(enabled=factors.webauthn_roaming, user_verification="required"),
            webauthn_platform=auth0.GuardianWebauthnPlatformArgs(enabled=factors.webauthn_platform),
            # Phishable or out-of-band factors are declared off, so a console change shows up as drift.
            email=False,
            phone=auth0.GuardianPhoneArgs(enabled=False),
            push=auth0.GuardianPushArgs(enabled=False),
            duo=auth0.GuardianDuoArgs(enabled=False),
            opts=opts,
        )

    @staticmethod
    def _machine_client(
        name: str, decl: MachineClientDecl, opts: pulumi.ResourceOptions, grant_opts: pulumi.ResourceOptions
    ) -> MachineClient:
        client = auth0.Client(
            f"{name}-{decl.identity}",
            name=decl.identity,
            description=decl.description,
            app_type="non_interactive",
            grant_types=["client_credentials"],
            oidc_conformant=True,
            opts=opts,
        )
        # The SDK itself marks `clientSecret` as an additional secret output of ClientCredentials.
        credentials = auth0.ClientCredentials(
            f"{name}-{decl.identity}-credentials",
            client_id=client.client_id,
            authentication_method="client_secret_post",
            opts=opts,
        )
        grant = auth0.ClientGrant(
            f"{name}-{decl.identity}-grant",
            client_id=client.client_id,
            audience=decl.grant.audience,
            scopes=list(decl.grant.scopes),
            opts=grant_opts,
        )
        return MachineClient(client, credentials, grant)
