// node --test for the Ops Hub post-login Action (infra/actions/post_login.js).
//
// The `event` and `api` objects are TEST DOUBLES built from Auth0's documented Actions
// post-login objects (event.user, event.authorization.roles, event.authentication.methods
// with {name: "mfa", type, timestamp} — "Actions Triggers: post-login - Event Object";
// api.access.deny, api.multifactor.enable, api.authentication.challengeWithAny,
// api.accessToken/idToken.setCustomClaim). They record every call, so each test asserts what
// the Action asked Auth0 to do. The Action is loaded as deployed, its settings line filled in.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const { loadAction } = require("./load_action.js");

const NAMESPACE = "https://ops.clarivum.com";
const MAX_AGE_SECONDS = 900;
const SETTINGS = {
  claimsNamespace: NAMESPACE,
  phishingResistantRoles: ["ops-payments", "ops-admin", "ops-auditor"],
  phishingResistantFactors: ["webauthn-platform", "webauthn-roaming"],
  freshMfaRoles: ["ops-payments", "ops-admin", "ops-auditor"],
  mfaMaxAgeSeconds: MAX_AGE_SECONDS,
};
const { onExecutePostLogin } = loadAction(SETTINGS);

// An MFA step: a factor type completed `ageSeconds` ago (a string is a factor completed just now).
function mfaMethod(step) {
  const { type, ageSeconds = 0, timestamp } = typeof step === "string" ? { type: step } : step;
  const at = timestamp === undefined ? new Date(Date.now() - ageSeconds * 1000).toISOString() : timestamp;
  return at === null ? { name: "mfa", type } : { name: "mfa", timestamp: at, type };
}

function buildEvent({ roles = [], mfa = [], appMetadata = {} } = {}) {
  return {
    user: { user_id: "auth0|ops-user", email: "ops.user@clarivum.com", app_metadata: appMetadata, user_metadata: {} },
    authorization: { roles },
    authentication: { methods: [{ name: "pwd", timestamp: new Date().toISOString() }, ...mfa.map(mfaMethod)] },
    client: { client_id: "ops-web-client-id", name: "ops-web" },
    transaction: { protocol: "oidc-basic-profile", requested_scopes: ["openid"] },
    secrets: {},
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

async function run(eventOptions, apiOptions, handler = onExecutePostLogin) {
  const { api, calls } = buildApi(apiOptions);
  await handler(buildEvent(eventOptions), api);
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

test("missing or malformed settings deny ops users instead of issuing weaker tokens", async () => {
  const broken = [
    null,
    {},
    { ...SETTINGS, claimsNamespace: "" },
    { ...SETTINGS, phishingResistantRoles: "ops-admin" },
    { ...SETTINGS, phishingResistantFactors: [] },
    { ...SETTINGS, freshMfaRoles: undefined },
    { ...SETTINGS, mfaMaxAgeSeconds: 0 },
    { ...SETTINGS, mfaMaxAgeSeconds: "900" },
  ];
  for (const settings of broken) {
    const handler = loadAction(settings).onExecutePostLogin;
    const calls = await run({ roles: ["ops-viewer"], mfa: ["otp"] }, {}, handler);
    assert.equal(calls.denied.length, 1, `settings ${JSON.stringify(settings)} must deny`);
    assert.deepEqual(calls.accessClaims, {});
  }
  const nonOps = await run({ roles: [] }, {}, loadAction(null).onExecutePostLogin);
  assert.deepEqual(nonOps.denied, [], "users without ops roles are not affected by ops settings");
});

test("a trailing slash in the namespace does not double the separator", async () => {
  const handler = loadAction({ ...SETTINGS, claimsNamespace: `${NAMESPACE}/` }).onExecutePostLogin;
  const calls = await run({ roles: ["ops-sre"], mfa: ["otp"] }, {}, handler);
  assert.deepEqual(Object.keys(calls.accessClaims).sort(), [`${NAMESPACE}/roles`, "role"]);
});

// Fresh MFA for privileged roles: the boundary, with a few seconds of margin for the test's own clock.

test("privileged user with a fresh WebAuthn passes without a new challenge", async () => {
  const calls = await run({ roles: ["ops-payments"], mfa: [{ type: "webauthn-roaming", ageSeconds: MAX_AGE_SECONDS - 5 }] });
  assert.deepEqual(calls.challenges, []);
  assert.deepEqual(calls.mfa, []);
  assert.deepEqual(calls.denied, []);
  assertOpsClaims(calls, ["ops-payments"]);
});

test("privileged user whose WebAuthn is just stale is challenged again, with strong factors only", async () => {
  const calls = await run({ roles: ["ops-payments"], mfa: [{ type: "webauthn-roaming", ageSeconds: MAX_AGE_SECONDS + 5 }] });
  assert.deepEqual(calls.challenges, [[{ type: "webauthn-platform" }, { type: "webauthn-roaming" }]]);
  assert.deepEqual(calls.mfa, [], "no 'any factor' prompt that would accept OTP");
  assert.deepEqual(calls.denied, []);
});

test("privileged user with a stale MFA on a tenant without factor selection is challenged, never remembered", async () => {
  const calls = await run(
    { roles: ["ops-admin"], mfa: [{ type: "webauthn-platform", ageSeconds: 7 * 24 * 3600 }] },
    { withFactorSelection: false },
  );
  assert.deepEqual(calls.mfa, [{ provider: "any", options: { allowRememberBrowser: false } }]);
});

test("privileged user whose MFA has no timestamp is challenged again", async () => {
  for (const timestamp of [null, "", "not-a-date"]) {
    const calls = await run({ roles: ["ops-auditor"], mfa: [{ type: "webauthn-roaming", timestamp }] });
    assert.equal(calls.challenges.length, 1, `timestamp ${JSON.stringify(timestamp)} must not count as fresh`);
    assert.deepEqual(calls.denied, []);
  }
});

test("an MFA timestamped far in the future does not count as fresh", async () => {
  const calls = await run({ roles: ["ops-admin"], mfa: [{ type: "webauthn-platform", ageSeconds: -3600 }] });
  assert.equal(calls.challenges.length, 1);
});

test("a fresh strong factor counts even when an older weak one is also recorded", async () => {
  const calls = await run({
    roles: ["ops-admin"],
    mfa: [{ type: "otp", ageSeconds: 3 * 3600 }, { type: "webauthn-platform", ageSeconds: 60 }],
  });
  assert.deepEqual(calls.denied, []);
  assert.deepEqual(calls.challenges, []);
});

test("a fresh weak factor of a privileged user is denied, a stale strong one does not rescue it", async () => {
  const calls = await run({
    roles: ["ops-payments"],
    mfa: [{ type: "webauthn-roaming", ageSeconds: 3 * 3600 }, { type: "otp", ageSeconds: 30 }],
  });
  assert.equal(calls.denied.length, 1);
  assert.match(calls.denied[0], /ops-payments/);
});

test("non-privileged user with an old MFA passes: only privileged roles need a fresh one", async () => {
  const calls = await run({ roles: ["ops-sre"], mfa: [{ type: "otp", ageSeconds: 5 * 24 * 3600 }] });
  assert.deepEqual(calls.mfa, []);
  assert.deepEqual(calls.challenges, []);
  assert.deepEqual(calls.denied, []);
  assertOpsClaims(calls, ["ops-sre"]);
});

test("one privileged role among others makes the whole sign-in need a fresh MFA", async () => {
  const calls = await run({ roles: ["ops-sre", "ops-payments"], mfa: [{ type: "webauthn-roaming", ageSeconds: 2 * 3600 }] });
  assert.equal(calls.challenges.length, 1);
});
