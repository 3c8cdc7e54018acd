/**
 * Auth0 post-login Action of the Ops Hub (/ops). Deployed by OpsAuth (infra/components/auth.py).
 *
 * For a user holding an ops role (an Auth0 RBAC role named `ops-*`, from event.authorization.roles):
 *   - requires MFA when none was completed in this transaction;
 *   - denies access when one of the roles needs a phishing-resistant factor (WebAuthn) and the
 *     MFA completed in this transaction used another factor;
 *   - adds the claims Supabase third-party auth needs: `role: "authenticated"` on the access token,
 *     and the ops role names as an array under `<namespace>/roles` on the access and ID tokens.
 * A user with no ops role gets no ops claims and no extra MFA from this Action.
 *
 * Its settings come from the access model through Action secrets (infra/derive/auth0.py):
 *   CLAIMS_NAMESPACE            e.g. https://ops.clarivum.com
 *   PHISHING_RESISTANT_ROLES    JSON array of role names that accept only phishing-resistant factors
 *   PHISHING_RESISTANT_FACTORS  JSON array of factor types, e.g. ["webauthn-platform","webauthn-roaming"]
 * Missing or malformed settings deny ops users (fail closed) instead of issuing weaker tokens.
 *
 * Plain CommonJS without dependencies: runs on Node 20 (tests) and Node 22 (the Action runtime).
 */
"use strict";

const OPS_ROLE_PREFIX = "ops-";

function opsRoles(event) {
  const roles = event && event.authorization && event.authorization.roles;
  if (!Array.isArray(roles)) return [];
  const ops = roles.filter((r) => typeof r === "string" && r.startsWith(OPS_ROLE_PREFIX));
  return [...new Set(ops)].sort();
}

function parseNameList(text) {
  if (typeof text !== "string") return null;
  try {
    const value = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === "string" && v) ? value : null;
  } catch {
    return null;
  }
}

function readSettings(secrets) {
  const s = secrets || {};
  const namespace = typeof s.CLAIMS_NAMESPACE === "string" ? s.CLAIMS_NAMESPACE.replace(/\/+$/, "") : "";
  const strictRoles = parseNameList(s.PHISHING_RESISTANT_ROLES);
  const strongFactors = parseNameList(s.PHISHING_RESISTANT_FACTORS);
  if (!namespace.startsWith("https://") || !strictRoles || !strongFactors || strongFactors.length === 0) return null;
  return { namespace, strictRoles: new Set(strictRoles), strongFactors };
}

// Factor types of the MFA steps completed in this transaction (or the session it reuses).
function completedMfaTypes(event) {
  const methods = event && event.authentication && event.authentication.methods;
  if (!Array.isArray(methods)) return [];
  return methods.filter((m) => m && m.name === "mfa").map((m) => (typeof m.type === "string" ? m.type : "unknown"));
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

exports.onExecutePostLogin = async (event, api) => {
  const roles = opsRoles(event);
  if (roles.length === 0) return;

  const settings = readSettings(event.secrets);
  if (settings === null) {
    api.access.deny("Ops Hub sign-in is misconfigured (Action secrets); contact the platform team.");
    return;
  }

  const strict = roles.filter((r) => settings.strictRoles.has(r));
  const mfaTypes = completedMfaTypes(event);
  if (mfaTypes.length === 0) {
    requireMfa(api, strict.length > 0 ? settings.strongFactors : null);
  } else if (strict.length > 0 && !mfaTypes.some((t) => settings.strongFactors.includes(t))) {
    api.access.deny(
      `The role ${strict.join(", ")} needs a phishing-resistant factor (${settings.strongFactors.join(", ")}); ` +
        `this sign-in used ${mfaTypes.join(", ")}.`,
    );
    return;
  }

  const rolesClaim = `${settings.namespace}/roles`;
  api.accessToken.setCustomClaim("role", "authenticated");
  api.accessToken.setCustomClaim(rolesClaim, roles);
  api.idToken.setCustomClaim(rolesClaim, roles);
};
