"""`--opa-url`: the check through opa-python-client, against a loopback STAND-IN for an OPA server.

No OPA binary exists here. The stand-in speaks OPA's Data API (POST /v1/data/<package>
with {"input": ...} -> {"result": <package document>}) and computes the document
with the in-process regorus engine, so this tests our client path, not OPA itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from infra.cli.main import main
from infra.policy.engines import RegorusEngine
from infra.policy.pack import load_pack
from tests.policies.mutations import MUTATIONS


class OpaStandIn(HTTPServer):
    """A loopback stand-in for `opa run --server policies/` (Data API only).

    Single-threaded on purpose: a regorus Engine must stay on the thread that made it.
    """

    def __init__(self, loaded: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pack = load_pack() if loaded else None
        self.package = "opshub"
        self.rules = [r.name for r in self.pack.rules] + [r.findings_rule for r in self.pack.of_scope("stack")] if self.pack else []
        self._engine: RegorusEngine | None = None
        self.requests: list[str] = []

    @property
    def engine(self) -> RegorusEngine | None:
        if self.pack and self._engine is None:
            self._engine = RegorusEngine(self.pack.package, self.pack.modules)
        return self._engine


class _Handler(BaseHTTPRequestHandler):
    server: OpaStandIn

    def do_POST(self) -> None:  # noqa: N802 - http.server's method name
        self.server.requests.append(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == f"/v1/data/{self.server.package}" and self.server.engine:
            result = {"result": self.server.engine.query(self.server.rules, body["input"])}
        else:
            result = {}  # OPA answers an undefined document with no "result"
        payload = json.dumps(result).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def _serve_then_drop_engine(server: OpaStandIn) -> None:
    server.serve_forever()
    server._engine = None  # made on this thread, so it must be dropped here too  # noqa: SLF001


def serve(loaded: bool) -> Iterator[OpaStandIn]:
    server = OpaStandIn(loaded)
    thread = threading.Thread(target=_serve_then_drop_engine, args=(server,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def opa_stand_in() -> Iterator[OpaStandIn]:
    yield from serve(loaded=True)


@pytest.fixture
def empty_opa_stand_in() -> Iterator[OpaStandIn]:
    yield from serve(loaded=False)


@pytest.fixture(scope="module")
def mutated_plan(prod_plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = json.loads(json.dumps(prod_plan.document()))
    MUTATIONS["OPS-AUTH-007"](document["resources"])  # a stack rule
    MUTATIONS["OPS-PG-001"](document["resources"])  # a resource rule
    path = tmp_path_factory.mktemp("opa") / "resources.json"
    path.write_text(json.dumps(document))
    return path


def findings(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list]:
    code = main(argv)
    report = json.loads(capsys.readouterr().out)
    return code, [(f["ruleId"], f["urn"], f["message"]) for f in report["findings"]]


def test_opa_url_gives_the_in_process_findings(opa_stand_in: OpaStandIn, mutated_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["policy", "check", "--input", str(mutated_plan), "--format", "json"]
    local_code, local = findings(base, capsys)
    url = f"http://127.0.0.1:{opa_stand_in.server_address[1]}"
    remote_code, remote = findings([*base, "--opa-url", url], capsys)
    assert (remote_code, remote) == (local_code, local)
    assert {rule for rule, _, _ in remote} == {"OPS-AUTH-007", "OPS-PG-001"}
    assert set(opa_stand_in.requests) == {"/v1/data/opshub"}, "one Data API document per evaluation"


def test_a_server_without_the_pack_exits_2(empty_opa_stand_in: OpaStandIn, mutated_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{empty_opa_stand_in.server_address[1]}"
    assert main(["policy", "check", "--input", str(mutated_plan), "--opa-url", url]) == 2
    assert "has no package 'opshub' loaded" in capsys.readouterr().err


def test_an_unreachable_server_exits_2(mutated_plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with HTTPServer(("127.0.0.1", 0), _Handler) as closed:
        port = closed.server_address[1]  # bound, then closed: nothing listens there
    assert main(["policy", "check", "--input", str(mutated_plan), "--opa-url", f"http://127.0.0.1:{port}"]) == 2
    assert "did not answer" in capsys.readouterr().err
