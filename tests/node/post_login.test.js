// node --test for the Ops Hub post-login Action (infra/actions/post_login.js).
//
// The `event` and `api` objects are TEST DOUBLES built from Auth0's documented Actions
// post-login objects (event.user, event.authorization.roles, event.authentication.methods
// with {name: "mfa", type}, event.secrets; api.access.deny, api.multifactor.enable,
// api.authentication.challengeWithAny, api.accessToken/idToken.setCustomClaim). They record
// every call, so each test asserts what the Action asked Auth0 to do.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const { onExecutePostLogin } = require(path.join(__dirname, "..", "..", "infra", "actions", "post_login.js"));

const NAMESPACE = "https://ops.clarivum.com";
const SECRETS = {
  CLAIMS_NAMESPACE: NAMESPACE,
  PHISHING_RESISTANT_ROLES: JSON.stringify(["ops-payments", "ops-admin", "ops-auditor"]),
  PHISHING_RESISTANT_FACTORS: JSON.stringify(["webauthn-platform", "webauthn-roaming"]),
};

function buildEvent({ roles = [], mfa = [], appMetadata = {}, secrets = SECRETS } = {}) {
  const now = new Date().toISOString();
  return {
    user: { user_id: "auth0|ops-user", email: "ops.user@clarivum.com", app_metadata: appMetadata, user_metadata: {} },
    authorization: { roles },
    authentication: {
      methods: [{ name: "pwd", timestamp: now }, ...mfa.map((type) => ({ name: "mfa", timestamp: now, type }))],
    },
    client: { client_id: "ops-hub-spa", name: "Ops Hub" },
    transaction: { protocol: "oidc-basic-profile", requested_scopes: ["openid"] },
    secrets,
  };
}

function buildApi({ withFactorSelection = true } = {}) {
  const calls = { denied: [], mfa: [], challenges: [], accessClaims: {}, idClaims: {} };
  const api = {
    access: { deny: (reason) => calls.denied.push(reason) },
    multifactor: { enable: (provider, options) => calls.mfa.push({ provider, options }) },
    accessToken: { setCustomClaim: (name, value) => { calls.accessClaims[name] = value; } },
    idToken: { setCustomClaim: (name, value) => { calls.idClaims[name] = value; } },
  };
  if (withFactorSelection) {
    api.authentication = { challengeWithAny: (factors) => calls.challenges.push(factors) };
  }
  return { api, calls };
}

async function run(eventOptions, apiOptions) {
  const { api, calls } = buildApi(apiOptions);
  await onExecutePostLogin(buildEvent(eventOptions), api);
  return calls;
}

function assertOpsClaims(calls, roles) {
  assert.equal(calls.accessClaims.role, "authenticated", "Supabase needs role=authenticated in the access token");
  assert.deepEqual(calls.accessClaims[`${NAMESPACE}/roles`], roles, "access token carries the ops roles");
  assert.deepEqual(calls.idClaims[`${NAMESPACE}/roles`], roles, "ID token carries the ops roles");
}

test("ops user without MFA is sent to MFA, never remembered, and gets the claims", async () => {
  const calls = await run({ roles: ["ops-viewer"] });
  assert.deepEqual(calls.mfa, [{ provider: "any", options: { allowRememberBrowser: false } }]);
  assert.deepEqual(calls.challenges, [], "a role that accepts OTP needs no factor restriction");
  assert.deepEqual(calls.denied, []);
  assertOpsClaims(calls, ["ops-viewer"]);
});

test("ops user who completed OTP passes without a second challenge", async () => {
  const calls = await run({ roles: ["ops-sre", "ops-editorial"], mfa: ["otp"] });
  assert.deepEqual(calls.mfa, [], "MFA already done in this transaction");
  assert.deepEqual(calls.denied, []);
  assertOpsClaims(calls, ["ops-editorial", "ops-sre"]);
});

test("privileged user who completed WebAuthn passes", async () => {
  for (const factor of ["webauthn-roaming", "webauthn-platform"]) {
    const calls = await run({ roles: ["ops-payments"], mfa: [factor] });
    assert.deepEqual(calls.denied, [], `${factor} is phishing-resistant`);
    assert.deepEqual(calls.mfa, []);
    assertOpsClaims(calls, ["ops-payments"]);
  }
});

test("privileged user who completed OTP is denied, naming the role, with no claims", async () => {
  const calls = await run({ roles: ["ops-viewer", "ops-admin"], mfa: ["otp"] });
  assert.equal(calls.denied.length, 1, "exactly one denial");
  assert.match(calls.denied[0], /ops-admin/);
  assert.match(calls.denied[0], /phishing-resistant/);
  assert.deepEqual(calls.accessClaims, {}, "a denied login gets no claims");
  assert.deepEqual(calls.idClaims, {});
});

test("privileged user who used a recovery code is denied", async () => {
  const calls = await run({ roles: ["ops-auditor"], mfa: ["recovery-code"] });
  assert.equal(calls.denied.length, 1);
  assert.match(calls.denied[0], /ops-auditor/);
});

test("privileged user without MFA is challenged with phishing-resistant factors only", async () => {
  const calls = await run({ roles: ["ops-payments"] });
  assert.deepEqual(calls.challenges, [[{ type: "webauthn-platform" }, { type: "webauthn-roaming" }]]);
  assert.deepEqual(calls.mfa, [], "no 'any factor' prompt that would accept OTP");
  assert.deepEqual(calls.denied, []);
  assertOpsClaims(calls, ["ops-payments"]);
});

test("privileged user without MFA on a tenant without factor selection still gets MFA enforced", async () => {
  const calls = await run({ roles: ["ops-payments"] }, { withFactorSelection: false });
  assert.deepEqual(calls.mfa, [{ provider: "any", options: { allowRememberBrowser: false } }]);
});

test("non-ops user gets no MFA from this Action and no ops claims", async () => {
  const calls = await run({ roles: ["marketing-editor"] });
  assert.deepEqual(calls, { denied: [], mfa: [], challenges: [], accessClaims: {}, idClaims: {} });
});

test("roles only come from Auth0 RBAC: app_metadata claiming ops-admin grants nothing", async () => {
  const calls = await run({ roles: [], appMetadata: { roles: ["ops-admin"], ops: { admin: true } } });
  assert.deepEqual(calls.accessClaims, {});
  assert.deepEqual(calls.mfa, []);
});

test("malformed app_metadata and missing fields never crash it", async () => {
  const odd = [
    { ...buildEvent({ roles: ["ops-sre"], mfa: ["otp"] }), user: { app_metadata: "not-an-object" } },
    { ...buildEvent({ roles: ["ops-sre"], mfa: ["otp"] }), user: { app_metadata: null } },
    { ...buildEvent({ roles: ["ops-sre"] }), user: undefined, authentication: undefined },
    { ...buildEvent(), authorization: undefined },
    { ...buildEvent(), authorization: { roles: "ops-admin" } },
    { ...buildEvent({ roles: ["ops-sre", 42, null, "ops-sre"] }), authentication: { methods: [null, { name: "mfa" }] } },
    {},
  ];
  for (const event of odd) {
    const { api } = buildApi();
    await assert.doesNotReject(onExecutePostLogin(event, api), `event ${JSON.stringify(event)}`);
  }
  const calls = buildApi();
  await onExecutePostLogin(odd[5], calls.api);
  assert.deepEqual(calls.calls.accessClaims[`${NAMESPACE}/roles`], ["ops-sre"], "junk role entries are dropped");
});

test("missing or malformed Action secrets deny ops users instead of issuing weaker tokens", async () => {
  const broken = [
    {},
    { ...SECRETS, CLAIMS_NAMESPACE: "" },
    { ...SECRETS, PHISHING_RESISTANT_ROLES: "ops-admin" },
    { ...SECRETS, PHISHING_RESISTANT_FACTORS: "[]" },
  ];
  for (const secrets of broken) {
    const calls = await run({ roles: ["ops-viewer"], mfa: ["otp"], secrets });
    assert.equal(calls.denied.length, 1, `secrets ${JSON.stringify(secrets)} must deny`);
    assert.deepEqual(calls.accessClaims, {});
  }
  const nonOps = await run({ roles: [], secrets: {} });
  assert.deepEqual(nonOps.denied, [], "users without ops roles are not affected by ops settings");
});

test("a trailing slash in the namespace does not double the separator", async () => {
  const calls = await run({ roles: ["ops-sre"], mfa: ["otp"], secrets: { ...SECRETS, CLAIMS_NAMESPACE: `${NAMESPACE}/` } });
  assert.deepEqual(Object.keys(calls.accessClaims).sort(), [`${NAMESPACE}/roles`, "role"]);
});
