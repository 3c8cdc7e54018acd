/**
 * Auth0 post-login Action of the Ops Hub (/ops). Deployed by OpsAuth (infra/components/auth.py).
 *
 * For a user holding an ops role (an Auth0 RBAC role named `ops-*`, from event.authorization.roles):
 *   - requires MFA when none was completed in this transaction, never remembering the browser;
 *   - for a privileged role (FRESH MFA), requires an MFA completed at most `mfaMaxAgeSeconds` ago
 *     (event.authentication.methods[].timestamp); an older one, or one without a timestamp, is
 *     challenged again, so a refund never rests on an MFA from an earlier session;
 *   - denies access when one of the roles needs a phishing-resistant factor (WebAuthn) and the
 *     MFA that counts for this sign-in used another factor;
 *   - adds the claims Supabase third-party auth needs: `role: "authenticated"` on the access token,
 *     and the ops role names as an array under `<namespace>/roles` on the access and ID tokens.
 * A user with no ops role gets no ops claims and no extra MFA from this Action.
 *
 * Its settings come from the access model (infra/derive/auth0.py), written into the line marked
 * `opshub:settings` when OpsAuth deploys it. They are public values, kept in the code (not in
 * Action secrets, which the provider hides) so the policy pack can check what is deployed:
 *   claimsNamespace           e.g. https://ops.clarivum.com
 *   phishingResistantRoles    role names that accept only phishing-resistant factors
 *   phishingResistantFactors  factor types, e.g. ["webauthn-platform","webauthn-roaming"]
 *   freshMfaRoles             role names whose sign-in needs a fresh MFA (the privileged roles)
 *   mfaMaxAgeSeconds          how old that MFA may be
 * Missing or malformed settings deny ops users (fail closed) instead of issuing weaker tokens.
 *
 * Plain CommonJS without dependencies: runs on Node 20 (tests) and Node 22 (the Action runtime).
 */
"use strict";

const SETTINGS = null; // opshub:settings

const OPS_ROLE_PREFIX = "ops-";
// How far in the future an MFA timestamp may lie and still count (clock skew between Auth0's servers).
const CLOCK_SKEW_MS = 60 * 1000;

function opsRoles(event) {
  const roles = event && event.authorization && event.authorization.roles;
  if (!Array.isArray(roles)) return [];
  const ops = roles.filter((r) => typeof r === "string" && r.startsWith(OPS_ROLE_PREFIX));
  return [...new Set(ops)].sort();
}

function isNameList(value) {
  return Array.isArray(value) && value.every((v) => typeof v === "string" && v);
}

function readSettings(s) {
  if (!s || typeof s !== "object") return null;
  const namespace = typeof s.claimsNamespace === "string" ? s.claimsNamespace.replace(/\/+$/, "") : "";
  const { phishingResistantRoles, phishingResistantFactors, freshMfaRoles, mfaMaxAgeSeconds } = s;
  if (
    !namespace.startsWith("https://") ||
    !isNameList(phishingResistantRoles) ||
    !isNameList(phishingResistantFactors) ||
    phishingResistantFactors.length === 0 ||
    !isNameList(freshMfaRoles) ||
    !Number.isInteger(mfaMaxAgeSeconds) ||
    mfaMaxAgeSeconds <= 0
  ) {
    return null;
  }
  return {
    namespace,
    strictRoles: new Set(phishingResistantRoles),
    strongFactors: phishingResistantFactors,
    freshRoles: new Set(freshMfaRoles),
    maxAgeMs: mfaMaxAgeSeconds * 1000,
  };
}

// The MFA steps completed in this transaction or the session it reuses, with when they happened
// (milliseconds since the epoch; NaN when Auth0 gave no usable timestamp).
function completedMfa(event) {
  const methods = event && event.authentication && event.authentication.methods;
  if (!Array.isArray(methods)) return [];
  return methods
    .filter((m) => m && m.name === "mfa")
    .map((m) => ({
      type: typeof m.type === "string" ? m.type : "unknown",
      at: typeof m.timestamp === "string" ? Date.parse(m.timestamp) : NaN,
    }));
}

function requireMfa(api, strongFactors) {
  // api.multifactor.enable() ends this Action's run: Auth0 challenges after the flow and does
  // not run it again, so the factor the user picks is only visible on later transactions.
  // Where the tenant offers the factor-selection API, a role that needs a phishing-resistant
  // factor is challenged with those factors only, closing that first-login gap.
  const challenge = api.authentication && api.authentication.challengeWithAny;
  if (strongFactors && typeof challenge === "function") {
    challenge.call(api.authentication, strongFactors.map((type) => ({ type })));
  } else {
    api.multifactor.enable("any", { allowRememberBrowser: false });
  }
}

async function handle(event, api, settings, now) {
  const roles = opsRoles(event);
  if (roles.length === 0) return;

  if (settings === null) {
    api.access.deny("Ops Hub sign-in is misconfigured (Action settings); contact the platform team.");
    return;
  }

  const strict = roles.filter((r) => settings.strictRoles.has(r));
  const needsFresh = roles.some((r) => settings.freshRoles.has(r));
  const done = completedMfa(event);
  // Only an MFA young enough counts for a role that needs a fresh one; NaN (no timestamp) never does.
  const isFresh = (m) => now - m.at <= settings.maxAgeMs && m.at - now <= CLOCK_SKEW_MS;
  const counting = needsFresh ? done.filter(isFresh) : done;
  if (counting.length === 0) {
    requireMfa(api, strict.length > 0 ? settings.strongFactors : null);
  } else if (strict.length > 0 && !counting.some((m) => settings.strongFactors.includes(m.type))) {
    api.access.deny(
      `The role ${strict.join(", ")} needs a phishing-resistant factor (${settings.strongFactors.join(", ")}); ` +
        `this sign-in used ${counting.map((m) => m.type).join(", ")}.`,
    );
    return;
  }

  const rolesClaim = `${settings.namespace}/roles`;
  api.accessToken.setCustomClaim("role", "authenticated");
  api.accessToken.setCustomClaim(rolesClaim, roles);
  api.idToken.setCustomClaim(rolesClaim, roles);
}

exports.onExecutePostLogin = async (event, api) => handle(event, api, readSettings(SETTINGS), Date.now());
