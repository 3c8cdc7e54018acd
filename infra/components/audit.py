"""OpsAudit: the Supabase `ops_audit` schema, its roles and grants, and its migrations.

Creates, all with the explicit Postgres provider (`superuser: false`,
`sslmode: require`), from `infra.derive.audit.AuditDecl`:

- the NOLOGIN owner role and the NOLOGIN `writer`/`reader` group roles;
- one LOGIN user per model secret with a `database_user`, inheriting its group,
  with a connection limit; its first password comes from `login_passwords`
  (the RandomPassword whose value VendorSecrets stores in the user's secret),
  after which the rotation Lambda owns it (`ignore_changes`);
- the admin's membership in the owner role (the migrations run as the admin
  and hand their objects to the owner);
- the schema, owned by the owner role, and USAGE on it for the groups and
  `authenticated`;
- default privileges: no EXECUTE for PUBLIC on the owner's functions;
- `OpsAuditMigrations`, the dynamic resource that applies infra/migrations
  (tables, partitions, indexes, RLS, triggers, functions) after all of the above.

No role gets SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_postgresql as postgresql
from pydantic import BaseModel, ConfigDict, model_validator

from infra.components.audit_migrations import OpsAuditMigrations
from infra.derive.audit import AuditDecl, DbRole, admin_dsn
from infra.migrations.files import file_digests


class OpsAuditArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    declarations: AuditDecl
    database: str
    admin_user: str
    # Host, port and the admin password, for the migration runner's DSN.
    host: str
    port: int
    admin_password: pulumi.Output
    # First password of each login user, by database user name.
    login_passwords: Mapping[str, pulumi.Output]
    provider: postgresql.Provider
    # Other schemas' roles and grants the migration files use (EngineeringMetrics' ops_metrics).
    migrations_after: tuple[pulumi.Resource, ...] = ()

    @model_validator(mode="after")
    def _every_login_has_a_password(self) -> OpsAuditArgs:
        missing = sorted({r.name for r in self.declarations.logins} - set(self.login_passwords))
        if missing:
            msg = f"login_passwords lacks the first password of {missing}"
            raise ValueError(msg)
        return self


class OpsAudit(pulumi.ComponentResource):
    def __init__(self, name: str, args: OpsAuditArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:audit:OpsAudit", name, None, opts)
        decl = args.declarations
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        self.owner = self._role(decl.owner, "owner")
        self.groups = {g.name: self._role(g, g.name.removeprefix("ops_audit_")) for g in decl.groups}
        self.logins = {u.name: self._login(u) for u in decl.logins}
        self.admin_membership = postgresql.GrantRole(
            f"{name}-admin-in-owner",
            role=args.admin_user,
            grant_role=self.owner.name,
            opts=self._child,
        )
        self.schema = postgresql.Schema(
            f"{name}-schema",
            name=decl.schema,
            database=args.database,
            owner=self.owner.name,
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=[self.admin_membership])),
        )
        self.schema_grants = [
            postgresql.Grant(
                f"{name}-usage-{g.role}",
                database=args.database,
                schema=self.schema.name,
                object_type="schema",
                role=g.role,
                privileges=list(g.privileges),
                opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=list(self.groups.values()))),
            )
            for g in decl.schema_grants
        ]
        self.default_privileges = [
            postgresql.DefaultPrivileges(
                f"{name}-default-{d.object_type}-{d.role}",
                database=args.database,
                schema=self.schema.name,
                owner=self.owner.name,
                role=d.role,
                object_type=d.object_type,
                privileges=list(d.privileges),
                opts=self._child,
            )
            for d in decl.default_privileges
        ]
        self.migrations = OpsAuditMigrations(
            f"{name}-migrations",
            dsn=args.admin_password.apply(
                lambda pw: admin_dsn(args.host, args.port, args.database, args.admin_user, pw)
            ),
            digests=file_digests(),
            settings=decl.settings,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["dsn"],
                depends_on=[self.schema, *self.schema_grants, *self.default_privileges, *self.logins.values(), *args.migrations_after],
            ),
        )
        self.register_outputs({"schema": self.schema.name, "owner": self.owner.name})

    def _role(self, role: DbRole, suffix: str) -> postgresql.Role:
        return postgresql.Role(
            f"{self._name}-{suffix}",
            name=role.name,
            login=role.login,
            **NO_POWERS,
            opts=self._child,
        )

    def _login(self, role: DbRole) -> postgresql.Role:
        groups = [self.groups[g] for g in role.member_of]
        return postgresql.Role(
            f"{self._name}-login-{role.name}",
            name=role.name,
            login=True,
            inherit=True,
            roles=[g.name for g in groups],
            connection_limit=role.connection_limit,
            password=pulumi.Output.secret(self._args.login_passwords[role.name]),
            **NO_POWERS,
            opts=pulumi.ResourceOptions.merge(
                self._child,
                # The rotation Lambda sets the password from the first rotation on.
                pulumi.ResourceOptions(ignore_changes=["password"], additional_secret_outputs=["password"]),
            ),
        )


# Stated explicitly, so the plan (and the policy pack) sees them on every role.
NO_POWERS = {
    "superuser": False,
    "create_role": False,
    "create_database": False,
    "replication": False,
    "bypass_row_level_security": False,
}
