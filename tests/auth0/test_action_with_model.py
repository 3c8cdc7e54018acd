"""The post-login Action exactly as OpsAuth deploys it (the model's settings written in), run by Node.

The Node tests (tests/node/) cover the Action's logic with fixed settings; this test
closes the loop: the code the derivation produces is valid JavaScript that reads the
settings it carries, and each model role gets the MFA treatment the model asks for.
The `event`/`api` objects are test doubles shaped like Auth0's documented Actions objects
(event.authentication.methods[] with name, type and timestamp).
"""

from __future__ import annotations

import json
import subprocess

from pathlib import Path

import pytest

from infra.config import StackConfig
from infra.derive.auth0 import ACTION_SOURCE, derive_auth
from infra.model.access import AccessModel

DRIVER = """
const { onExecutePostLogin } = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  const results = [];
  for (const c of cases) {
    const seen = { denied: [], mfa: 0, challenges: [], access: {}, id: {} };
    const api = {
      access: { deny: (r) => seen.denied.push(r) },
      multifactor: { enable: () => { seen.mfa += 1; } },
      authentication: { challengeWithAny: (f) => seen.challenges.push(f.map((x) => x.type)) },
      accessToken: { setCustomClaim: (k, v) => { seen.access[k] = v; } },
      idToken: { setCustomClaim: (k, v) => { seen.id[k] = v; } },
    };
    const at = new Date(Date.now() - (c.age || 0) * 1000).toISOString();
    const methods = [{ name: "pwd", timestamp: at }, ...c.mfa.map((type) => ({ name: "mfa", type, timestamp: at }))];
    await onExecutePostLogin({ authorization: { roles: c.roles }, authentication: { methods }, user: {} }, api);
    results.push(seen);
  }
  process.stdout.write(JSON.stringify(results));
})();
"""

@pytest.fixture
def deployed_action(tmp_path: Path, access_model: AccessModel, prod_config: StackConfig) -> Path:
    """The code OpsAuth hands to auth0.Action, written to a file Node can require."""
    path = tmp_path / "post_login.js"
    path.write_text(derive_auth(access_model, prod_config).action.code(ACTION_SOURCE.read_text(encoding="utf-8")))
    return path


def run_action(action: Path, cases: list[dict]) -> list[dict]:
    done = subprocess.run(
        ["node", "-e", DRIVER, str(action)], input=json.dumps(cases), capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_model_role_gets_the_mfa_its_model_entry_asks_for(
    deployed_action: Path, access_model: AccessModel, prod_config: StackConfig
) -> None:
    strong = access_model.phishing_resistant_factors
    cases = [
        {"role": role.name, "factor": factor, "roles": [role.name], "mfa": [factor]}
        for role in access_model.roles
        for factor in ("otp", "webauthn-roaming")
    ]

    results = run_action(deployed_action, cases)

    for case, seen in zip(cases, results, strict=True):
        role = access_model.role_by_name[case["role"]]
        # A sign-in is allowed when its factor is one the role accepts, or when the role accepts
        # weaker factors at all (the Action only guards the phishing-resistant boundary).
        allowed = case["factor"] in strong or not set(role.mfa) <= strong
        where = f"{role.name} after {case['factor']}"
        assert bool(seen["denied"]) is (not allowed), f"{where}: denied={seen['denied']}"
        if allowed:
            assert seen["access"][prod_config.roles_claim] == [role.name], where
            assert seen["access"]["role"] == "authenticated", where


def test_privileged_roles_are_challenged_with_the_model_strong_factors(deployed_action: Path, access_model: AccessModel) -> None:
    privileged = [r.name for r in access_model.roles if access_model.is_privileged(r)]

    results = run_action(deployed_action, [{"roles": [name], "mfa": []} for name in privileged])

    for name, seen in zip(privileged, results, strict=True):
        assert [set(c) for c in seen["challenges"]] == [set(access_model.phishing_resistant_factors)], name
        assert seen["mfa"] == 0, f"{name}: no 'any factor' prompt"


def test_only_privileged_roles_need_an_mfa_younger_than_the_model_max_age(deployed_action: Path, access_model: AccessModel) -> None:
    max_age = access_model.sign_in.mfa_max_age_minutes * 60
    cases = [
        {"role": role.name, "age": age, "roles": [role.name], "mfa": [factor]}
        for role in access_model.roles
        for age in (max_age - 30, max_age + 30)
        for factor in [sorted(set(role.mfa) & access_model.phishing_resistant_factors)[0]]
    ]

    results = run_action(deployed_action, cases)

    for case, seen in zip(cases, results, strict=True):
        role = access_model.role_by_name[case["role"]]
        stale = case["age"] > max_age and access_model.is_privileged(role)
        where = f"{role.name}, MFA {case['age']} s old"
        assert (len(seen["challenges"]) + seen["mfa"] == 1) is stale, f"{where}: challenged={seen['challenges']} mfa={seen['mfa']}"
        assert not seen["denied"], where
