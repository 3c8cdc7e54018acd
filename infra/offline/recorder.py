"""Records every resource registration the way the engine hands it to a policy analyzer.

`RecordingMonitor` sits where the Pulumi engine would: it sees the full
RegisterResource request (inputs with secrets still wrapped, parent,
dependencies, provider, options) and keeps one `Registration` per URN.
`PlanMocks` answers with deterministic ids and the outputs our program reads.

Three things the engine does that the SDK's mock monitor does not:

- secrets are read from the wire, where they sit: the Python SDK's own
  deserializer lifts a nested secret to its enclosing list or object
  (pulumi/runtime/rpc.py `deserialize_property`), the engine keeps it nested;
- a custom resource without an explicit provider gets a reference to the
  default provider of its package, `pulumi:providers:<pkg>::default[_<version>]`,
  registered with the package's stack config as inputs; dynamic resources
  included (pulumi pkg/resource/deploy/source_eval.go `defaultProviders`,
  sdk/go/common/resource/deploy/providers `ProviderRequest.DefaultName`);
- options take the analyzer's shapes (`infra.policy.inputs.analyzer_options`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc

from infra.policy.inputs import analyzer_options, duration_seconds

SECRET_SIG = rpc._special_sig_key  # noqa: SLF001 - the wire marker of a secret value
SECRET_VALUE = rpc._special_secret_sig  # noqa: SLF001
PROVIDER_PREFIX = "pulumi:providers:"


class UnknownInputError(Exception):
    """An input never became known: the program used an output no resource provides."""


class ProviderCallError(Exception):
    """The program invoked a provider function, which a declaration-only program must not do."""


@dataclass
class Registration:
    type: str
    urn: str
    name: str
    custom: bool
    properties: dict[str, Any]
    secret_paths: list[str]
    options: dict[str, Any]
    provider_ref: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    computed_outputs: dict[str, Any] = field(default_factory=dict)


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def wire_secret_paths(value: Any, path: str = "") -> list[str]:
    """Paths of the secret markers in a RegisterResource object as sent on the wire."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in wire_secret_paths(v, _child(path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in wire_secret_paths(v, _child(path, i))]
    return []


def _plain(value: Any, path: str, unknowns: list[str]) -> Any:
    """Unwrap secrets (their paths come from the wire) and make the value JSON-safe."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE:
        return _plain(value.get("value"), path, unknowns)
    if isinstance(value, dict):
        return {k: _plain(v, _child(path, k), unknowns) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, _child(path, i), unknowns) for i, v in enumerate(value)]
    if isinstance(value, pulumi.output.Unknown) or value == rpc.UNKNOWN:
        unknowns.append(path)
        return None
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_urn_value", None) or str(value)
    if isinstance(value, pulumi.AssetArchive):  # record what goes into the archive, e.g. a Lambda's files
        assets = {k: _plain(v, f"{path}.{k}", unknowns) for k, v in value.assets.items()}
        return {"asset": "AssetArchive", "assets": assets}
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {"asset": type(value).__name__, "path": getattr(value, "path", None)}
    return value


def _options(request: Any) -> dict[str, Any]:
    timeouts = request.customTimeouts
    return analyzer_options(
        protect=bool(request.protect),
        ignore_changes=list(request.ignoreChanges),
        delete_before_replace=bool(request.deleteBeforeReplace),
        additional_secret_outputs=list(request.additionalSecretOutputs),
        alias_urns=list(request.aliasURNs),
        timeouts={k: duration_seconds(getattr(timeouts, k)) for k in ("create", "update", "delete")},
        parent=request.parent,
    )


def package_of_type(type_token: str) -> str:
    return type_token.split(":")[0]


def default_provider_name(version: str) -> str:
    """`default`, or `default_7_51_1` for version 7.51.1 (ProviderRequest.DefaultName)."""
    return "default" + "".join(f"_{part}" for part in re.split(r"[.\-+]", version) if part) if version else "default"



class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor that keeps each registration's full request, in order.

    `config` is the stack's settings (`<package>:<key>` -> value), from which a
    default provider takes its inputs.
    """

    def __init__(self, plan_mocks: PlanMocks, config: dict[str, Any] | None = None) -> None:
        super().__init__(plan_mocks)
        self.registrations: dict[str, Registration] = {}
        self.unknown_inputs: list[str] = []
        self._config = config or {}
        self._lock = threading.Lock()

    def _default_provider(self, request: Any, urn: str) -> str:
        """Register (once) the default provider the engine would give this resource; its reference."""
        package = package_of_type(request.type)
        name = default_provider_name(request.version)
        provider_urn = f"{urn.split('::', 2)[0]}::{urn.split('::', 2)[1]}::{PROVIDER_PREFIX}{package}::{name}"
        prefix = f"{package}:"
        inputs = {key[len(prefix) :]: value for key, value in self._config.items() if key.startswith(prefix)}
        if request.version:
            inputs["version"] = request.version
        with self._lock:
            self.registrations.setdefault(
                provider_urn,
                Registration(
                    type=f"{PROVIDER_PREFIX}{package}",
                    urn=provider_urn,
                    name=name,
                    custom=True,
                    properties=inputs,
                    secret_paths=[],
                    options=analyzer_options(False, [], False, [], [], {}, ""),
                    provider_ref="",
                    dependencies=[],
                    property_dependencies={},
                ),
            )
        return f"{provider_urn}::{name}-id"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        unknowns: list[str] = []
        raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
        properties = _plain(raw, "", unknowns)
        provider_ref = request.provider
        if request.custom and not provider_ref and not request.type.startswith(PROVIDER_PREFIX):
            provider_ref = self._default_provider(request, response.urn)
        state = self.resources[response.urn].state if response.urn in self.resources else {}
        computed = {k: _plain(v, k, []) for k, v in state.items() if k not in properties}
        if request.custom:
            computed["id"] = response.id
        registration = Registration(
            type=request.type,
            urn=response.urn,
            name=request.name,
            custom=bool(request.custom),
            properties=properties,
            secret_paths=sorted(wire_secret_paths(json_format.MessageToDict(request.object))),
            options=_options(request),
            provider_ref=provider_ref,
            # Sets to the engine, in whatever order the awaited inputs resolved; sorted so that
            # two plans of the same code are byte-identical.
            dependencies=sorted(request.dependencies),
            property_dependencies={k: sorted(v.urns) for k, v in request.propertyDependencies.items()},
            computed_outputs=computed,
        )
        with self._lock:
            self.registrations[response.urn] = registration
            self.unknown_inputs += [f"{request.type} {request.name!r}: input {u!r} is unknown" for u in unknowns]
        return response


IAM_ROLE = "aws:iam/role:Role"

# Outputs the engine would compute that our program reads, per type token.
COMPUTED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "auth0:index/client:Client": ("clientId",),
    "auth0:index/clientCredentials:ClientCredentials": ("clientSecret",),
    "random:index/randomPassword:RandomPassword": ("result",),
    "grafana:oss/team:Team": ("teamId",),
    "pagerduty:index/serviceIntegration:ServiceIntegration": ("integrationKey",),
    "tls:index/privateKey:PrivateKey": ("publicKeyPem", "privateKeyPem"),
    # Auth0 creates the EventBridge partner event source and names it.
    "auth0:index/logStream:LogStream": ("sink.awsPartnerEventSource",),
}


class PlanMocks(pulumi.runtime.Mocks):
    """Deterministic ids; outputs are the inputs plus what providers compute."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        outputs = dict(args.inputs)
        outputs.setdefault("name", args.name)
        resource_id = f"{args.name}-id"
        if args.typ == IAM_ROLE:
            # IAM is global: arn:aws:iam::<account>:role/<name> (IAM User Guide, "IAM ARNs"), as key
            # and resource policies name roles; rules compare role names in them.
            outputs.setdefault("arn", f"arn:aws:iam::{self.account_id}:role/{outputs['name']}")
        elif args.typ.startswith("aws:"):
            service = args.typ.split(":")[1].split("/")[0]
            outputs.setdefault("arn", f"arn:aws:{service}:{self.region}:{self.account_id}:{args.name}")
        for path in COMPUTED_OUTPUTS.get(args.typ, ()):
            *parents, key = path.split(".")
            node = outputs
            for parent in parents:
                node = node.setdefault(parent, {})
            node.setdefault(key, f"{args.name}-{key}")
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, None]:
        """The program declares; it never looks things up in a provider while it runs."""
        msg = f"the program called provider function {args.token}; pass the value in through config instead"
        raise ProviderCallError(msg)
