package opshub

import rego.v1

# METADATA
# title: The MFA-enforcing post-login Action is deployed and bound
# description: >-
#   MFA, fresh MFA for privileged roles and the phishing-resistant factor check all live in
#   the post-login Action. It must exist, be deployed, run on a supported Node runtime and
#   be bound to the post-login trigger; otherwise sign-ins to /ops skip all of it.
# custom:
#   id: OPS-AUTH-015
#   severity: critical
#   remediation: >-
#     Declare the Action (infra/actions/post_login.js) with deploy true and a runtime from the
#     model's list, and bind it with TriggerActions on the post-login trigger.
stack_deny_login_without_mfa_action contains f.msg if some f in login_without_mfa_action

post_login_actions := [a |
	some a in resources_of("auth0:index/action:Action")
	prop(a, ["supportedTriggers", "id"], "") == "post-login"
]

bound_post_login_actions := {u |
	some binding in resources_of("auth0:index/triggerActions:TriggerActions")
	prop(binding, "trigger", "") == "post-login"
	some u in referenced_urns(binding, "actions")
}

login_without_mfa_action contains finding(api, msg) if {
	some api in ops_apis
	count(post_login_actions) == 0
	msg := concat("", [label(api), " has no post-login Action, so nothing enforces MFA on its users"])
}

login_without_mfa_action contains finding(action, msg) if {
	some action in post_login_actions
	prop(action, "deploy", false) != true
	msg := concat("", [label(action), " is not deployed, so the trigger runs an older version or none"])
}

login_without_mfa_action contains finding(action, msg) if {
	some action in post_login_actions
	runtime := prop(action, "runtime", "")
	not runtime in model.auth0.action_runtimes
	msg := concat("", [label(action), " runs on '", runtime, "'; supported: ", concat(", ", model.auth0.action_runtimes)])
}

login_without_mfa_action contains finding(action, msg) if {
	some action in post_login_actions
	not action.__urn in bound_post_login_actions
	msg := concat("", [label(action), " is not bound to the post-login trigger"])
}
