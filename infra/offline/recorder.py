"""Records every resource registration the way the engine hands it to a policy analyzer.

`RecordingMonitor` sits where the Pulumi engine would: it sees the full
RegisterResource request (inputs with secrets still wrapped, parent,
dependencies, provider, options) and keeps one `Registration` per URN.
`PlanMocks` answers with deterministic ids and the outputs our program reads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc

SECRET_SIG = rpc._special_sig_key  # noqa: SLF001 - the wire marker of a secret value
SECRET_VALUE = rpc._special_secret_sig  # noqa: SLF001


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
    outputs: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any, path: str, secrets: list[str], unknowns: list[str]) -> Any:
    """Unwrap secrets (recording their paths) and make the value JSON-safe."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE:
        secrets.append(path)
        return _plain(value.get("value"), path, [], unknowns)
    if isinstance(value, dict):
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets, unknowns) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", secrets, unknowns) for i, v in enumerate(value)]
    if isinstance(value, pulumi.output.Unknown) or value == rpc.UNKNOWN:
        unknowns.append(path)
        return None
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_urn_value", None) or str(value)
    if isinstance(value, pulumi.AssetArchive):  # record what goes into the archive, e.g. a Lambda's files
        assets = {k: _plain(v, f"{path}.{k}", secrets, unknowns) for k, v in value.assets.items()}
        return {"asset": "AssetArchive", "assets": assets}
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return {"asset": type(value).__name__, "path": getattr(value, "path", None)}
    return value


def _options(request: Any) -> dict[str, Any]:
    timeouts = request.customTimeouts
    return {
        "protect": bool(request.protect),
        "ignoreChanges": list(request.ignoreChanges),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "additionalSecretOutputs": list(request.additionalSecretOutputs),
        "aliasURNs": list(request.aliasURNs),
        "aliases": [],
        "customTimeouts": {"create": timeouts.create, "update": timeouts.update, "delete": timeouts.delete},
        "parent": request.parent,
    }


class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor that keeps each registration's full request, in order."""

    def __init__(self, plan_mocks: PlanMocks) -> None:
        super().__init__(plan_mocks)
        self.registrations: dict[str, Registration] = {}
        self.unknown_inputs: list[str] = []
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        secrets: list[str] = []
        unknowns: list[str] = []
        raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
        properties = _plain(raw, "", secrets, unknowns)
        registration = Registration(
            type=request.type,
            urn=response.urn,
            name=request.name,
            custom=bool(request.custom),
            properties=properties,
            secret_paths=sorted(secrets),
            options=_options(request),
            provider_ref=request.provider,
            # Sets to the engine, in whatever order the awaited inputs resolved; sorted so that
            # two plans of the same code are byte-identical.
            dependencies=sorted(request.dependencies),
            property_dependencies={k: sorted(v.urns) for k, v in request.propertyDependencies.items()},
            outputs=self.resources[response.urn].state if response.urn in self.resources else {},
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
        for key in COMPUTED_OUTPUTS.get(args.typ, ()):
            outputs.setdefault(key, f"{args.name}-{key}")
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, None]:
        """The program declares; it never looks things up in a provider while it runs."""
        msg = f"the program called provider function {args.token}; pass the value in through config instead"
        raise ProviderCallError(msg)
