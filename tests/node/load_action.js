// Loads infra/actions/post_login.js as OpsAuth deploys it: its `opshub:settings` line carrying the
// given settings (the same substitution as infra/derive/auth0.py ActionSettings.code).
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const SOURCE = path.join(__dirname, "..", "..", "infra", "actions", "post_login.js");
const SETTINGS_LINE = "const SETTINGS = null; // opshub:settings";

function loadAction(settings) {
  const source = fs.readFileSync(SOURCE, "utf8");
  if (source.split(SETTINGS_LINE).length !== 2) throw new Error(`${SOURCE}: expected one line ${SETTINGS_LINE}`);
  const deployed = source.replace(SETTINGS_LINE, `const SETTINGS = ${JSON.stringify(settings)}; // opshub:settings`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opshub-action-"));
  const file = path.join(dir, "post_login.js");
  fs.writeFileSync(file, deployed);
  try {
    return require(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { loadAction, SOURCE };
