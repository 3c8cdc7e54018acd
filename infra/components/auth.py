"""OpsAuth: the Ops Hub's Auth0 tenant configuration, translated from infra/derive/auth0.py.

Creates, all with the explicit Auth0 provider:
- the ops API (`ResourceServer`): RBAC enforced, permissions in the access token, short-lived
  RS256 tokens, no offline access; and its permissions (`ResourceServerScopes`, authoritative);
- one `Role` per model role and its `RolePermissions` (authoritative: exactly the model's);
- `Guardian`: MFA on every application with the factors the model offers; SMS, voice, email,
  push and Duo stay off;
- the post-login `Action` (infra/actions/post_login.js, Node 22) with the model's settings
  written into its code, bound by `TriggerActions` (authoritative for the post-login trigger);
- machine clients, each authenticating with `private_key_jwt`: an RSA key pair (`tls.PrivateKey`),
  the public key on its `ClientCredentials`, the private key handed to VendorSecrets; and one
  `ClientGrant`: the Ops Hub backend on the ops API, and the access review job, separately, on
  the Management API with read-only scopes;
- the /ops application (`Client`, a SPA: Authorization Code with PKCE, exact https URLs,
  RS256, rotating refresh tokens bound to the session) with `ClientCredentials` `none` (a public
  client) and a user `ClientGrant` on the ops API, which the API's `subject_type_authorization`
  requires for every application that gets user tokens;
- the operators' database `Connection`s (signup off, strong password policy) and their
  `ConnectionClients` (exactly the /ops application);
- where the stack owns the tenant: `Tenant` (session lifetimes, no dynamic client registration,
  logout URLs of /ops, no default audience) and `AttackProtection`;
- a `LogStream` of every tenant log to an EventBridge partner event source in the stack's AWS
  account (AuthLogs keeps them; `log_stream.sink.aws_partner_event_source` names the source).
Removing a role or permission from the model removes its declaration, so Pulumi deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_auth0 as auth0
import pulumi_tls as tls
from pydantic import BaseModel, ConfigDict, Field

from infra.derive.auth0 import (
    ACTION_RUNTIMES,
    ACTION_SOURCE,
    BREACHED_PASSWORD_SHIELDS,
    BREACHED_PASSWORD_SIGNUP_SHIELDS,
    BRUTE_FORCE_MAX_ATTEMPTS,
    BRUTE_FORCE_SHIELDS,
    CLIENT_KEY_ALGORITHM,
    CLIENT_KEY_RSA_BITS,
    MACHINE_APP_TYPE,
    MACHINE_AUTH_METHODS,
    MACHINE_GRANT_TYPES,
    OPS_APP_TYPE,
    OPS_AUTH_METHOD,
    SIGNING_ALGORITHM,
    SUBJECT_TYPE_POLICY,
    SUSPICIOUS_IP_SHIELDS,
    AuthDeclarations,
    ConnectionDecl,
    MachineClientDecl,
    RoleDecl,
    TenantDecl,
)

POST_LOGIN = auth0.ActionSupportedTriggersArgs(id="post-login", version="v3")


class OpsAuthArgs(BaseModel):
    """The derived declarations, the Auth0 provider, and the TLS provider that generates client keys."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    declarations: AuthDeclarations
    provider: auth0.Provider
    tls_provider: tls.Provider
    action_source: str = Field(default_factory=lambda: ACTION_SOURCE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class MachineClient:
    """An M2M application, its key pair and credentials (private_key_jwt), and its one grant."""

    client: auth0.Client
    key: tls.PrivateKey
    credentials: auth0.ClientCredentials
    grant: auth0.ClientGrant
    key_secret: str

    @property
    def client_id(self) -> pulumi.Output[str]:
        return self.client.client_id

    def credentials_json(self) -> pulumi.Output[str]:
        """`{"client_id", "private_key_pem", "algorithm"}` as one secret JSON string, the shape the jobs read."""
        return pulumi.Output.secret(
            pulumi.Output.json_dumps({
                "client_id": self.client.client_id,
                "private_key_pem": self.key.private_key_pem,
                "algorithm": CLIENT_KEY_ALGORITHM,
            })
        )


class OpsAuth(pulumi.ComponentResource):
    """The ops API, its roles, MFA, the post-login Action and the machine clients."""

    def __init__(self, name: str, args: OpsAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:auth:OpsAuth", name, None, opts)
        decl = args.declarations
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self._tls_opts = pulumi.ResourceOptions(parent=self, provider=args.tls_provider)
        self.api = auth0.ResourceServer(
            f"{name}-api",
            name="Ops Hub API",
            identifier=decl.api_identifier,
            signing_alg=SIGNING_ALGORITHM,  # Supabase third-party auth verifies asymmetric keys only
            enforce_policies=True,
            token_dialect="access_token_authz",
            token_lifetime=decl.token_lifetime,
            token_lifetime_for_web=decl.token_lifetime,
            allow_offline_access=False,
            # The Ops Hub SPA is first-party; a consent screen would add nothing.
            skip_consent_for_verifiable_first_party_clients=True,
            # Users get ops-API tokens only through an application with a user grant (the /ops
            # application), machines only through their client grants.
            subject_type_authorization=auth0.ResourceServerSubjectTypeAuthorizationArgs(
                user=auth0.ResourceServerSubjectTypeAuthorizationUserArgs(policy=SUBJECT_TYPE_POLICY),
                client=auth0.ResourceServerSubjectTypeAuthorizationClientArgs(policy=SUBJECT_TYPE_POLICY),
            ),
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
            runtime=ACTION_RUNTIMES[0],
            deploy=True,
            code=decl.action.code(args.action_source),
            supported_triggers=POST_LOGIN,
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
        self.ops_app = self._ops_app(name, decl, child, granted_after_scopes)
        self.connections = {c.name: self._connection(name, c, decl.ops_app.name, child) for c in decl.connections}
        self.tenant = self._tenant(name, decl.tenant, child) if decl.tenant else None
        self.attack_protection = self._attack_protection(name, child) if decl.tenant else None
        self.log_stream = auth0.LogStream(
            f"{name}-log-stream",
            name="ops-hub-eventbridge",
            type="eventbridge",
            sink=auth0.LogStreamSinkArgs(aws_account_id=decl.log_stream.aws_account_id, aws_region=decl.log_stream.aws_region),
            opts=child,
        )
        self.register_outputs(
            {
                "apiIdentifier": self.api.identifier,
                "roleIds": {n: r.id for n, r in self.roles.items()},
                "backendClientId": self.backend.client_id,
                "accessReviewClientId": self.access_review.client_id,
                "opsClientId": self.ops_app.client_id,
            }
        )

    @property
    def machine_clients(self) -> tuple[MachineClient, ...]:
        return (self.backend, self.access_review)

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

    def _machine_client(
        self, name: str, decl: MachineClientDecl, opts: pulumi.ResourceOptions, grant_opts: pulumi.ResourceOptions
    ) -> MachineClient:
        client = auth0.Client(
            f"{name}-{decl.identity}",
            name=decl.identity,
            description=decl.description,
            app_type=MACHINE_APP_TYPE,
            grant_types=list(MACHINE_GRANT_TYPES),
            oidc_conformant=True,
            jwt_configuration=auth0.ClientJwtConfigurationArgs(alg=SIGNING_ALGORITHM),
            opts=opts,
        )
        # private_key_jwt: the private key never reaches Auth0; VendorSecrets stores it for the identity.
        key = tls.PrivateKey(f"{name}-{decl.identity}-key", algorithm="RSA", rsa_bits=CLIENT_KEY_RSA_BITS, opts=self._tls_opts)
        credentials = auth0.ClientCredentials(
            f"{name}-{decl.identity}-credentials",
            client_id=client.client_id,
            authentication_method=MACHINE_AUTH_METHODS[0],
            private_key_jwt=auth0.ClientCredentialsPrivateKeyJwtArgs(
                credentials=[
                    auth0.ClientCredentialsPrivateKeyJwtCredentialArgs(
                        name=f"{decl.identity}-key",
                        credential_type="public_key",
                        pem=key.public_key_pem,
                        algorithm=CLIENT_KEY_ALGORITHM,
                    )
                ]
            ),
            opts=opts,
        )
        grant = auth0.ClientGrant(
            f"{name}-{decl.identity}-grant",
            client_id=client.client_id,
            audience=decl.grant.audience,
            scopes=list(decl.grant.scopes),
            subject_type="client",
            opts=grant_opts,
        )
        return MachineClient(client, key, credentials, grant, decl.key_secret)

    def _ops_app(
        self, name: str, decl: AuthDeclarations, opts: pulumi.ResourceOptions, grant_opts: pulumi.ResourceOptions
    ) -> auth0.Client:
        app = decl.ops_app
        client = auth0.Client(
            f"{name}-{app.name}",
            name=app.name,
            description=app.description,
            app_type=OPS_APP_TYPE,
            is_first_party=True,
            oidc_conformant=True,
            grant_types=list(app.grant_types),
            callbacks=list(app.callbacks),
            allowed_logout_urls=list(app.logout_urls),
            web_origins=list(app.web_origins),
            allowed_origins=[],
            cross_origin_auth=False,
            jwt_configuration=auth0.ClientJwtConfigurationArgs(alg=SIGNING_ALGORITHM, lifetime_in_seconds=app.id_token_lifetime),
            # Only used with the refresh_token grant: rotating, and never outliving the session.
            refresh_token=auth0.ClientRefreshTokenArgs(
                rotation_type="rotating",
                expiration_type="expiring",
                token_lifetime=app.refresh_token_lifetime,
                idle_token_lifetime=app.refresh_token_idle_lifetime,
                infinite_token_lifetime=False,
                infinite_idle_token_lifetime=False,
                leeway=0,
            ),
            opts=opts,
        )
        # A public client: PKCE instead of a client secret (Auth0 "Authorization Code Flow with PKCE").
        auth0.ClientCredentials(f"{name}-{app.name}-credentials", client_id=client.client_id, authentication_method=OPS_AUTH_METHOD, opts=opts)
        self.ops_app_grant = auth0.ClientGrant(
            f"{name}-{app.name}-grant",
            client_id=client.client_id,
            audience=decl.api_identifier,
            scopes=sorted(s.name for s in decl.scopes),  # each user's RBAC roles narrow these
            subject_type="user",
            opts=grant_opts,
        )
        return client

    def _connection(self, name: str, decl: ConnectionDecl, app_name: str, opts: pulumi.ResourceOptions) -> auth0.Connection:
        connection = auth0.Connection(
            f"{name}-{decl.name}",
            name=decl.name,
            strategy="auth0",
            options=auth0.ConnectionOptionsArgs(
                disable_signup=True,  # operators are invited; nobody signs up
                brute_force_protection=True,
                password_policy=decl.password_policy,
                password_complexity_options=auth0.ConnectionOptionsPasswordComplexityOptionsArgs(min_length=decl.min_length),
                password_histories=[auth0.ConnectionOptionsPasswordHistoryArgs(enable=True, size=decl.history_size)],
                password_no_personal_info=auth0.ConnectionOptionsPasswordNoPersonalInfoArgs(enable=True),
                password_dictionary=auth0.ConnectionOptionsPasswordDictionaryArgs(enable=True, dictionaries=[]),
            ),
            opts=opts,
        )
        # The model allows only the /ops application here (infra/model/access.py).
        clients = {app_name: self.ops_app.client_id}
        auth0.ConnectionClients(
            f"{name}-{decl.name}-clients",
            connection_id=connection.id,
            enabled_clients=[clients[c] for c in decl.clients],
            opts=opts,
        )
        return connection

    @staticmethod
    def _tenant(name: str, decl: TenantDecl, opts: pulumi.ResourceOptions) -> auth0.Tenant:
        return auth0.Tenant(
            f"{name}-tenant",
            idle_session_lifetime=decl.idle_session_hours,
            session_lifetime=decl.session_hours,
            # The session ends with the browser; a shared machine keeps no /ops session.
            session_cookie=auth0.TenantSessionCookieArgs(mode="non-persistent"),
            allowed_logout_urls=list(decl.allowed_logout_urls),
            # No default audience: a token for the ops API only goes to an application that asks for it.
            default_audience="",
            flags=auth0.TenantFlagsArgs(enable_dynamic_client_registration=False),
            opts=opts,
        )

    @staticmethod
    def _attack_protection(name: str, opts: pulumi.ResourceOptions) -> auth0.AttackProtection:
        return auth0.AttackProtection(
            f"{name}-attack-protection",
            brute_force_protection=auth0.AttackProtectionBruteForceProtectionArgs(
                enabled=True,
                shields=list(BRUTE_FORCE_SHIELDS),
                mode="count_per_identifier_and_ip",
                max_attempts=BRUTE_FORCE_MAX_ATTEMPTS,
            ),
            suspicious_ip_throttling=auth0.AttackProtectionSuspiciousIpThrottlingArgs(
                enabled=True, shields=list(SUSPICIOUS_IP_SHIELDS)
            ),
            breached_password_detection=auth0.AttackProtectionBreachedPasswordDetectionArgs(
                enabled=True,
                shields=list(BREACHED_PASSWORD_SHIELDS),
                admin_notification_frequencies=["immediately"],
                pre_user_registration=auth0.AttackProtectionBreachedPasswordDetectionPreUserRegistrationArgs(
                    shields=list(BREACHED_PASSWORD_SIGNUP_SHIELDS)
                ),
            ),
            # Bot Detection and CAPTCHA come with Auth0's Attack Protection add-on, which this
            # tenant's plan does not include: declared off (never challenge), so turning them on
            # is a reviewed change. CAPTCHA has no provider until then.
            bot_detection=auth0.AttackProtectionBotDetectionArgs(
                bot_detection_level="low",
                challenge_password_policy="never",
                challenge_passwordless_policy="never",
                challenge_password_reset_policy="never",
                monitoring_mode_enabled=False,
            ),
            opts=opts,
        )
