package opshub

import rego.v1

# METADATA
# title: Every alert severity has a route
# description: >-
#   An alert whose severity no notification route matches falls through to the default
#   receiver at best; each severity in use must be matched by a route with a contact
#   point (routes may be nested), unless the rule names its contact point itself.
# custom:
#   id: OPS-OBS-002
#   severity: high
#   remediation: Add a NotificationPolicy route matching severity=<value> that sends to a contact point.
stack_deny_unrouted_alert contains f.msg if some f in unrouted_alert

unrouted_alert contains finding(group, msg) if {
	some group in resources_of("grafana:alerting/ruleGroup:RuleGroup")
	some rule in alert_rules(group)
	severity := object.get(rule, ["labels", "severity"], "")
	severity != ""
	object.get(rule, ["notificationSettings", "contactPoint"], "") == ""
	not severity_routed(severity)
	msg := concat("", ["alert '", object.get(rule, "name", ""), "' (severity '", severity, "') matches no notification route"])
}

severity_routed(severity) if severity in routed_severities

severity_routed(severity) if {
	some route in notification_routes
	object.get(route, "contactPoint", "") != ""
	some matcher in route.matchers
	matcher.label == "severity"
	matcher.match == "=~"
	regex.match(concat("", ["^(?:", matcher.value, ")$"]), severity)
}

# Severities an exact matcher of a route with a contact point sends somewhere.
routed_severities contains matcher.value if {
	some route in notification_routes
	object.get(route, "contactPoint", "") != ""
	some matcher in route.matchers
	matcher.label == "severity"
	matcher.match == "="
}

# Every route of every NotificationPolicy, at any depth.
notification_routes contains route if {
	some policy in resources_of("grafana:alerting/notificationPolicy:NotificationPolicy")
	walk(prop(policy, "policies", []), [path, route])
	is_object(route)
	"matchers" in object.keys(route)
}

route_matches_severity(route, severity) if {
	some matcher in route.matchers
	matcher.label == "severity"
	matcher.match == "="
	matcher.value == severity
}

route_matches_severity(route, severity) if {
	some matcher in route.matchers
	matcher.label == "severity"
	matcher.match == "=~"
	regex.match(concat("", ["^(?:", matcher.value, ")$"]), severity)
}
