"""The Pulumi program: the access model and stack config in, one component per domain out.

`main()` is what `pulumi up` runs (through infra/__main__.py) and what the
offline plan runs under mocks. `build()` takes everything as typed arguments,
so tests can run it with a changed model.
"""

from __future__ import annotations

from infra.components.providers import ProviderSettings, Providers
from infra.config import StackConfig, StackSecrets, config_from_pulumi
from infra.model.access import AccessModel, load_model


def build(config: StackConfig, model: AccessModel, secrets: StackSecrets) -> None:
    """Declare every domain of the stack from the model and config."""
    providers = Providers(
        "opshub",
        ProviderSettings(
            config=config,
            auth0_client_secret=secrets["opshub:auth0ClientSecret"],
            supabase_admin_password=secrets["opshub:supabaseAdminPassword"],
            grafana_auth=secrets["opshub:grafanaAuth"],
            pagerduty_token=secrets["opshub:pagerdutyToken"],
        ),
    )
    del model, providers  # the domain components (one per issue) take these


def main() -> None:
    build(config_from_pulumi(), load_model(), StackSecrets())
