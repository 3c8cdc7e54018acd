package opshub

import rego.v1

# METADATA
# title: Database connections are invite-only, strongly passworded and feed only /ops
# description: >-
#   Every Auth0 database connection (strategy auth0) must have signup disabled, brute-force
#   protection on, a password policy the model allows with at least its minimum length,
#   password history, no personal info and the dictionary check; and may be enabled only
#   for the /ops application, never for a machine client or any other application.
# custom:
#   id: OPS-AUTH-019
#   severity: high
#   remediation: >-
#     Declare the connection's options as OpsAuth derives them, and its ConnectionClients
#     with exactly the /ops application.
stack_deny_weak_operator_connection contains f.msg if some f in weak_operator_connection

database_connections := [c |
	some c in resources_of("auth0:index/connection:Connection")
	prop(c, "strategy", "") == "auth0"
]

weak_operator_connection contains finding(connection, concat("", [label(connection), " ", problem])) if {
	some connection in database_connections
	some problem in connection_problems(prop(connection, "options", {}))
}

weak_operator_connection contains finding(clients, msg) if {
	some clients in resources_of("auth0:index/connectionClients:ConnectionClients")
	some client in targets_of(clients, "enabledClients", auth0_client_type)
	prop(client, "name", "") != model.auth0.application
	msg := concat("", [label(clients), " enables the connection for '", prop(client, "name", client.__name), "', not the /ops application"])
}

weak_operator_connection contains finding(clients, msg) if {
	some clients in resources_of("auth0:index/connectionClients:ConnectionClients")
	count(prop(clients, "enabledClients", [])) > count(targets_of(clients, "enabledClients", auth0_client_type))
	msg := concat("", [label(clients), " enables the connection for a client this stack does not declare"])
}

connection_problems(options) := {p | some p in [
	signup_problem(options),
	brute_force_problem(options),
	policy_problem(options),
	length_problem(options),
	history_problem(options),
	personal_info_problem(options),
	dictionary_problem(options),
]; p != ""}

signup_problem(o) := "lets anyone sign up" if object.get(o, "disableSignup", false) != true
else := ""

brute_force_problem(o) := "has brute-force protection off" if object.get(o, "bruteForceProtection", false) != true
else := ""

policy_problem(o) := "" if object.get(o, "passwordPolicy", "none") in model.auth0.password_policies
else := "has a weaker password policy than the model allows"

length_problem(o) := "allows passwords shorter than the model's minimum" if {
	object.get(o, ["passwordComplexityOptions", "minLength"], 0) < model.auth0.password_min_length
} else := ""

history_problem(o) := "" if has_password_history(o)
else := "keeps no password history"

personal_info_problem(o) := "allows personal info in passwords" if object.get(o, ["passwordNoPersonalInfo", "enable"], false) != true
else := ""

dictionary_problem(o) := "skips the dictionary check" if object.get(o, ["passwordDictionary", "enable"], false) != true
else := ""

has_password_history(options) if {
	some history in object.get(options, "passwordHistories", [])
	object.get(history, "enable", false) == true
	object.get(history, "size", 0) > 0
}
