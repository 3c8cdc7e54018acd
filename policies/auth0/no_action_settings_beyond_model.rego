package opshub

import rego.v1

# METADATA
# title: The post-login Action enforces what the model derives
# description: >-
#   The settings written into the Action's code (claims namespace, phishing-resistant roles
#   and factors, roles needing a fresh MFA, the MFA's maximum age) must equal what the
#   access model and stack config derive; a role dropped from a list or a longer age
#   silently weakens sign-in for it.
# custom:
#   id: OPS-AUTH-016
#   severity: high
#   remediation: Deploy the code OpsAuth derives (`opshub plan`); never edit the settings line by hand.
stack_deny_action_settings_beyond_model contains f.msg if some f in action_settings_beyond_model

action_settings_beyond_model contains finding(action, msg) if {
	some action in post_login_actions
	not action_settings(prop(action, "code", ""))
	msg := concat("", [label(action), " carries no readable settings line"])
}

action_settings_beyond_model contains finding(action, msg) if {
	some action in post_login_actions
	settings := action_settings(prop(action, "code", ""))
	some key, expected in model.auth0.action_settings
	not same_setting(object.get(settings, key, null), expected)
	msg := concat("", [label(action), " sets '", key, "' differently from what the access model derives"])
}

action_settings(code) := settings if {
	prefix := model.auth0.action_settings_prefix
	start := indexof(code, prefix)
	end := indexof(code, model.auth0.action_settings_marker)
	start >= 0
	end > start
	text := substring(code, start + count(prefix), (end - start) - count(prefix))
	json.is_valid(text)
	settings := json.unmarshal(text)
	is_object(settings)
}

same_setting(value, expected) if {
	is_array(expected)
	is_array(value)
	sort(value) == sort(expected)
}

same_setting(value, expected) if {
	not is_array(expected)
	value == expected
}
