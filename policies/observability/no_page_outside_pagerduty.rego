package opshub

import rego.v1

# METADATA
# title: Pages reach PagerDuty
# description: >-
#   A severity=page alert wakes someone up only through PagerDuty; every route matching
#   page must send to a contact point with a PagerDuty integration.
# custom:
#   id: OPS-OBS-004
#   severity: critical
#   remediation: Send the severity=page route to the contact point that carries the PagerDuty integration.
stack_deny_page_outside_pagerduty contains f.msg if some f in page_outside_pagerduty

page_outside_pagerduty contains finding(policy, msg) if {
	some policy in resources_of("grafana:alerting/notificationPolicy:NotificationPolicy")
	walk(prop(policy, "policies", []), [path, route])
	is_object(route)
	"matchers" in object.keys(route)
	route_matches_severity(route, "page")
	name := object.get(route, "contactPoint", "")
	not name in pagerduty_contact_points
	msg := concat("", [label(policy), " sends severity=page to '", name, "', which has no PagerDuty integration"])
}

page_outside_pagerduty contains finding(policy, msg) if {
	some policy in resources_of("grafana:alerting/notificationPolicy:NotificationPolicy")
	not pages_routed(policy)
	msg := concat("", [label(policy), " has no route for severity=page"])
}

pages_routed(policy) if {
	walk(prop(policy, "policies", []), [path, route])
	is_object(route)
	"matchers" in object.keys(route)
	route_matches_severity(route, "page")
}

pagerduty_contact_points := {prop(cp, "name", "") |
	some cp in resources_of("grafana:alerting/contactPoint:ContactPoint")
	has_entries(prop(cp, "pagerduties", []))
}

# A non-empty list of integrations, or one passed whole as a secret.
has_entries(value) if {
	is_array(value)
	count(value) > 0
}

has_entries(value) if is_secret_value(value)
