"""The post-login Action (run for real by Node) with the settings OpsAuth derives from the model.

The Node tests (tests/node/) cover the Action's logic with fixed settings; this test
closes the loop: the secret names and values the derivation produces are the ones the
JavaScript reads, and each model role gets the MFA treatment the model asks for.
The `event`/`api` objects are test doubles shaped like Auth0's documented Actions objects.
"""

from __future__ import annotations

import json
import subprocess

from infra.components.auth import ACTION_SOURCE
from infra.config import StackConfig
from infra.derive.auth0 import derive_auth
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
    const methods = [{ name: "pwd" }, ...c.mfa.map((type) => ({ name: "mfa", type }))];
    await onExecutePostLogin({ authorization: { roles: c.roles }, authentication: { methods }, secrets: c.secrets, user: {} }, api);
    results.push(seen);
  }
  process.stdout.write(JSON.stringify(results));
})();
"""

def run_action(cases: list[dict]) -> list[dict]:
    done = subprocess.run(
        ["node", "-e", DRIVER, str(ACTION_SOURCE)], input=json.dumps(cases), capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_model_role_gets_the_mfa_its_model_entry_asks_for(access_model: AccessModel, prod_config: StackConfig) -> None:
    secrets = derive_auth(access_model, prod_config).action.secrets()
    strong = access_model.phishing_resistant_factors
    cases = [
        {"role": role.name, "factor": factor, "roles": [role.name], "mfa": [factor], "secrets": secrets}
        for role in access_model.roles
        for factor in ("otp", "webauthn-roaming")
    ]

    results = run_action(cases)

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


def test_privileged_roles_are_challenged_with_the_model_strong_factors(access_model: AccessModel, prod_config: StackConfig) -> None:
    secrets = derive_auth(access_model, prod_config).action.secrets()
    privileged = [r.name for r in access_model.roles if access_model.is_privileged(r)]

    results = run_action([{"roles": [name], "mfa": [], "secrets": secrets} for name in privileged])

    for name, seen in zip(privileged, results, strict=True):
        assert [set(c) for c in seen["challenges"]] == [set(access_model.phishing_resistant_factors)], name
        assert seen["mfa"] == 0, f"{name}: no 'any factor' prompt"
