"""CI workflows: valid for GitHub, least-privilege `permissions:`, OIDC, Debian 12 where the tests run, the PR comment."""

from __future__ import annotations

import json
import os
import re
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from infra.config import REPO_ROOT
from infra.report.diff import COMMENT_MARKER

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


# --- where the jobs run, and the access-diff comment -------------------------------------------

PULL_REQUEST = REPO_ROOT / ".github" / "workflows" / "pull-request.yml"
DEBIAN = "debian:12"


def _on_key(document: dict) -> dict:
    """YAML 1.1 reads the bare key `on` as True; GitHub reads it as `on`."""
    return {("on" if k is True else k): v for k, v in document.items()}


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_is_valid_for_github(path: Path) -> None:
    """Against SchemaStore's GitHub workflow schema, as vendored (with its licence) by check-jsonschema."""
    schema = json.loads(resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("github-workflows.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_on_key(load(path)))]

    assert errors == []


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_jobs_that_need_debian_packages_run_in_debian_12() -> None:
    """The README promises Debian 12; ubuntu-24.04 has neither PostgreSQL 15 nor its apt source."""
    jobs = {f"{p.name}:{name}": job for p in WORKFLOWS for name, job in load(p)["jobs"].items()}
    debian = {name for name, job in jobs.items() if "make test" in _runs(job) or "system-packages.sh" in _runs(job)}

    assert debian, "some job runs the tests"
    for name in debian:
        job = jobs[name]
        assert job.get("container") == DEBIAN, f"{name} must run in {DEBIAN}"
        first = job["steps"][0].get("run", "")
        assert all(tool in first for tool in ("git", "make", "python3-venv")), f"{name}: the bare container needs git, make and python3-venv first"
        checkout = next(i for i, s in enumerate(job["steps"]) if s.get("uses", "").startswith("actions/checkout"))
        assert checkout == 1, f"{name}: install the tools, then check out"


def test_system_packages_refuses_another_system_and_names_the_container(tmp_path: Path) -> None:
    ubuntu = tmp_path / "os-release"
    ubuntu.write_text('ID=ubuntu\nVERSION_ID="24.04"\n')

    result = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts/system-packages.sh")], env={**os.environ, "OS_RELEASE": str(ubuntu)},
        capture_output=True, text=True, check=False,
    )

    assert result.returncode == 1
    assert "this system is 'ubuntu 24.04'" in result.stderr and "debian:12" in result.stderr


def test_every_package_the_tests_use_exists_in_debian_12() -> None:
    """Checked with this Debian 12 machine's apt: each name has an install candidate."""
    assert 'VERSION_ID="12"' in Path("/etc/os-release").read_text(), "this check runs on Debian 12 (as CI's container is)"
    script = (REPO_ROOT / "scripts/system-packages.sh").read_text()
    block = re.search(r"^test_packages=\(\n(.*?)^\)$", script, re.MULTILINE | re.DOTALL).group(1)
    packages = [line.split()[0] for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]

    policy = subprocess.run(["apt-cache", "policy", *packages], capture_output=True, text=True, check=True).stdout
    candidates = dict(re.findall(r"^(\S+):\n(?:.*\n)*?\s+Candidate: (\S+)", policy, re.MULTILINE))

    missing = [p for p in packages if candidates.get(p) in (None, "(none)")]
    assert len(packages) >= 8 and missing == [], f"not installable on Debian 12: {missing}"


def _access_diff_steps() -> list[dict]:
    return load(PULL_REQUEST)["jobs"]["access-diff"]["steps"]


def test_the_access_diff_comment_is_posted_whatever_the_verdict() -> None:
    steps = _access_diff_steps()
    diff = next(i for i, s in enumerate(steps) if "opshub access-diff" in s.get("run", ""))
    post = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/github-script"))
    verdict = len(steps) - 1

    assert "set +e" in steps[diff]["run"] and 'echo "exit=$?" >> "$GITHUB_OUTPUT"' in steps[diff]["run"], "the diff step records its exit code instead of failing"
    assert diff < post < verdict
    assert steps[post]["if"].startswith("always()"), "posted when the diff fails too"
    assert "upsertComment" in steps[post]["with"]["script"] and "--edit-last" not in json.dumps(steps)
    assert steps[verdict]["if"] == "always() && steps.diff.outputs.exit != '0'"
    assert "exit" in steps[verdict]["run"], "the job's status still reflects the finding"


def test_the_comment_script_marks_its_comment_with_the_diffs_marker() -> None:
    script = (REPO_ROOT / ".github/scripts/access-diff-comment.js").read_text()
    assert f'const MARKER = "{COMMENT_MARKER}";' in script, "the script must find the comment render_diff_md writes"


def test_the_sarif_is_checked_against_githubs_schema_before_upload() -> None:
    steps = load(PULL_REQUEST)["jobs"]["plan-and-policy"]["steps"]
    check = next(i for i, s in enumerate(steps) if "check-jsonschema" in s.get("run", ""))
    upload = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))

    assert check < upload
    url = steps[check]["env"]["SARIF_SCHEMA"]
    assert re.fullmatch(r"https://raw\.githubusercontent\.com/github/codeql-action/[0-9a-f]{40}/src/sarif-schema-2\.1\.0\.json", url), "pinned to a commit"
