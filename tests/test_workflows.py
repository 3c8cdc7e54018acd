"""CI workflows: valid YAML, least-privilege `permissions:`, and OIDC rather than long-lived keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
# The only write scopes a job may ask for, each for one purpose.
WRITE_SCOPES = {"security-events": "SARIF upload", "pull-requests": "PR comments", "id-token": "OIDC to AWS"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_defaults_to_read_only(path: Path) -> None:
    assert load(path)["permissions"] == {"contents": "read"}, "top-level permissions are read-only"


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_jobs_ask_only_for_the_write_scopes_they_use(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        permissions = job.get("permissions", {})
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= WRITE_SCOPES.keys(), f"{path.name}:{name} asks for {writes - WRITE_SCOPES.keys()}"
        steps = job["steps"]
        if "id-token" in writes:
            assert any(s.get("uses", "").startswith("aws-actions/configure-aws-credentials") for s in steps), name
        if "security-events" in writes:
            assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps), name


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_no_long_lived_cloud_keys(path: Path) -> None:
    text = path.read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "aws-secret-access-key" not in text


def test_pulumi_runs_with_the_policy_pack() -> None:
    pulumi_steps = [
        step
        for path in WORKFLOWS
        for job in load(path)["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("pulumi/actions")
    ]
    commands = [s for s in pulumi_steps if "with" in s]
    assert {s["with"]["command"] for s in commands} == {"preview", "up"}
    assert all(s["with"]["policyPacks"] == "policies" for s in commands)


def test_deploy_waits_for_the_prod_environment_approval() -> None:
    deploy = load(REPO_ROOT / ".github" / "workflows" / "deploy.yml")
    triggers = deploy[True]  # YAML 1.1 reads the bare key `on` as a boolean
    assert triggers == {"push": {"branches": ["main"]}}
    assert all(job["environment"] == "prod" for job in deploy["jobs"].values())


def test_the_lambda_layer_is_built_before_pulumi_runs_the_program() -> None:
    """A real preview or up refuses to start without it (infra/lambda_layer.py)."""
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            steps = job["steps"]
            runs_program = [i for i, s in enumerate(steps) if s.get("with", {}).get("command") in ("preview", "up")]
            builds = [i for i, s in enumerate(steps) if s.get("run", "").strip() == "make lambda-layer"]
            if runs_program:
                assert builds and builds[0] < runs_program[0], f"{path.name}:{name} runs the program before `make lambda-layer`"


def test_the_opa_analyzer_is_installed_before_the_pack_is_used() -> None:
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            steps = job["steps"]
            uses_pack = [i for i, s in enumerate(steps) if "policyPacks" in s.get("with", {})]
            installs = [i for i, s in enumerate(steps) if "pulumi plugin install analyzer policy-opa" in s.get("run", "")]
            if uses_pack:
                assert installs and installs[0] < uses_pack[0], f"{path.name}:{name} uses the pack before installing its analyzer"
