"""The offline plan: run the real program under the SDK's mocks and keep what it declares.

Each run gets a fresh event loop, fresh mocks and fresh config, waits for every
registration, and resets the runtime afterwards, so runs in one process never
leak into each other. The result is the input `pulumi-policy-opa` would see for
the stack (`{"resources": [...]}`), plus which properties were Pulumi secrets and
the outputs the mocks computed beyond the inputs (`computedOutputs`: the id and
what providers compute), from which the outputs stack rules see are rebuilt.

A plan of the real program also carries its identity stamp (the git revision,
a dirty flag and the digests of the model, assignments and config it was made
from) and the data itself, including the migration files its digests name, so
`opshub access-report --plan` and `access-diff --base-plan/--head-plan` read
everything from the plan and nothing from the checkout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import PROJECT, REPO_ROOT, SECRET_KEYS, parse_stack_config, read_stack_file, stack_file
from infra.inputs import ProgramInputs, load_inputs
from infra.migrations.files import MIGRATIONS_DIR
from infra.offline.recorder import PlanMocks, RecordingMonitor, Registration, UnknownInputError

PLACEHOLDER_PREFIX = "offline-placeholder:"


class ProgramError(Exception):
    """The program itself failed under mocks (an exception or an error it logged)."""


@dataclass(frozen=True)
class Plan:
    stack: str
    resources: list[dict[str, Any]]
    identity: dict[str, Any] | None = None  # None: a test's own program, not the stack's inputs
    inputs: dict[str, Any] | None = None
    program_inputs: ProgramInputs | None = field(default=None, compare=False, repr=False)

    def document(self) -> dict[str, Any]:
        """The `resources.json` document."""
        stamp = {"identity": self.identity, "inputs": self.inputs} if self.identity is not None else {}
        return {"stack": self.stack, **stamp, "resources": self.resources}

    def custom_counts(self) -> Counter[str]:
        """Custom resources per provider package (`aws`, `auth0`, ...); provider instances count with theirs."""
        return Counter(package_of(r["type"]) for r in self.resources if r["custom"])

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_token]


def package_of(type_token: str) -> str:
    """`aws:iam/role:Role` -> aws, `pulumi:providers:aws` -> aws."""
    parts = type_token.split(":")
    return parts[2] if type_token.startswith("pulumi:providers:") else parts[0]


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def engine_settings(raw: dict[str, Any]) -> dict[str, str]:
    """Stack-file settings as the engine passes them: strings, objects JSON-encoded, secrets as placeholders."""
    settings = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in raw.items()
        if key not in SECRET_KEYS
    }
    settings.update({key: f"{PLACEHOLDER_PREFIX}{key}" for key in SECRET_KEYS})
    return settings


def _provider_info(ref: str, by_urn: dict[str, Registration]) -> dict[str, Any]:
    provider = by_urn.get(ref.rsplit("::", 1)[0]) if ref else None
    if provider is None:
        return {}
    return {"type": provider.type, "name": provider.name, "urn": provider.urn, "properties": provider.properties}


def analyzer_resources(registrations: dict[str, Registration]) -> list[dict[str, Any]]:
    """Registrations in the analyzer's stack input shape, sorted by URN for stable diffs."""
    return [
        {
            "type": reg.type,
            "urn": reg.urn,
            "name": reg.name,
            "custom": reg.custom,
            "properties": reg.properties,
            "secretProperties": reg.secret_paths,
            "computedOutputs": reg.computed_outputs,
            "options": reg.options,
            "provider": _provider_info(reg.provider_ref, registrations),
            "dependencies": reg.dependencies,
            "propertyDependencies": reg.property_dependencies,
        }
        for reg in sorted(registrations.values(), key=lambda r: r.urn)
    ]


def _program_of(inputs: ProgramInputs) -> Callable[[], None]:
    from infra.program import build_from  # imported late: the program pulls in every provider SDK

    return lambda: build_from(inputs)


def applied_migrations(resources: list[dict[str, Any]], directory: Path = MIGRATIONS_DIR) -> dict[str, str]:
    """The text of each migration file whose digest a resource of the plan declares."""
    names = {name for r in resources if isinstance((r.get("properties") or {}).get("digests"), dict) for name in r["properties"]["digests"]}
    return {name: (directory / name).read_text(encoding="utf-8") for name in sorted(names) if (directory / name).is_file()}


def run_plan(
    stack: str, root: Path = REPO_ROOT, program: Callable[[], None] | None = None, inputs: ProgramInputs | None = None
) -> Plan:
    """Run the stack's program (or a test's `program`) under mocks.

    Without `program`, every input is loaded and checked first (all problems at once),
    unless `inputs` are given, and the plan carries their identity stamp.
    """
    if program is None:
        inputs = inputs or load_inputs(stack, root)
        program = _program_of(inputs)
    path = stack_file(stack, root)
    raw = read_stack_file(path)
    config = inputs.config if inputs is not None else parse_stack_config(raw, str(path))
    settings = engine_settings(raw)
    monitor = RecordingMonitor(PlanMocks(config.aws_account_id, config.aws_region), settings)
    errors = _ErrorLog()
    logger = logging.getLogger(f"opshub.offline.{id(monitor)}")
    logger.addHandler(errors)
    logger.propagate = False
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_all_config(settings, list(SECRET_KEYS))
        pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=True, logger=logger, monitor=monitor)
        _sync_await(run_pulumi_func(program))
    finally:
        pulumi.runtime.reset_options()
        pulumi.runtime.set_all_config({}, [])
        loop.close()
        asyncio.set_event_loop(None)
    if errors.messages:
        raise ProgramError("\n".join(errors.messages))
    if monitor.unknown_inputs:
        raise UnknownInputError("\n".join(sorted(monitor.unknown_inputs)))
    resources = analyzer_resources(monitor.registrations)
    if inputs is None:
        return Plan(stack=stack, resources=resources)
    embedded = {**inputs.embedded(), "migrations": applied_migrations(resources)}
    return Plan(stack=stack, resources=resources, identity=inputs.identity(), inputs=embedded, program_inputs=inputs)
