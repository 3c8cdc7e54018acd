"""Explicit, typed provider configurations for every domain.

Creates one provider each for AWS, Auth0, Supabase Postgres, Grafana,
PagerDuty, random (generated first passwords) and TLS (the machine clients' keys). Components receive these instead of relying on ambient default
providers, so every resource's provider (and its settings) is on record for
the policy pack: AWS is pinned to one account and tags everything, and
Postgres runs as a non-superuser over TLS, as Supabase requires.
"""

from __future__ import annotations

import pulumi
import pulumi_auth0 as auth0
import pulumi_aws as aws
import pulumi_pagerduty as pagerduty
import pulumi_postgresql as postgresql
import pulumi_random as random
import pulumi_tls as tls
import pulumiverse_grafana as grafana
from pydantic import BaseModel, ConfigDict

from infra.config import StackConfig


class ProviderSettings(BaseModel):
    """What the providers need: the typed stack config and its secret settings."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    auth0_client_secret: pulumi.Output
    supabase_admin_password: pulumi.Output
    grafana_auth: pulumi.Output
    pagerduty_token: pulumi.Output


class Providers(pulumi.ComponentResource):
    """One explicit provider per domain, exposed as typed attributes."""

    def __init__(self, name: str, settings: ProviderSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:providers:Providers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cfg = settings.config
        self.aws = aws.Provider(
            f"{name}-aws",
            region=cfg.aws_region,
            allowed_account_ids=[cfg.aws_account_id],
            default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.tags),
            opts=child,
        )
        self.auth0 = auth0.Provider(
            f"{name}-auth0",
            domain=cfg.auth0_domain,
            client_id=cfg.auth0_client_id,
            client_secret=settings.auth0_client_secret,
            opts=child,
        )
        self.postgresql = postgresql.Provider(
            f"{name}-postgresql",
            host=cfg.supabase_host,
            port=cfg.supabase_port,
            database=cfg.supabase_database,
            username=cfg.supabase_admin_user,
            password=settings.supabase_admin_password,
            sslmode="require",
            superuser=False,
            opts=child,
        )
        self.grafana = grafana.Provider(f"{name}-grafana", url=cfg.grafana_url, auth=settings.grafana_auth, opts=child)
        self.pagerduty = pagerduty.Provider(f"{name}-pagerduty", token=settings.pagerduty_token, opts=child)
        self.random = random.Provider(f"{name}-random", opts=child)
        self.tls = tls.Provider(f"{name}-tls", opts=child)
        self.register_outputs({})
