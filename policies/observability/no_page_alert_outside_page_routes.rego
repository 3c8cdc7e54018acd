package opshub

import rego.v1

# METADATA
# title: Page alerts carry labels a page route matches
# description: >-
#   A page reaches on-call only through a route matching severity=page; an alert whose labels
#   (say a renamed team) match no such route falls to the default receiver at low urgency.
# custom:
#   id: OPS-OBS-011
#   severity: critical
#   remediation: Give the page rule the labels the derivation sets (severity, team of the on-call roster), or add the team's page route.
stack_deny_page_alert_outside_page_routes contains f.msg if some f in page_alert_outside_page_routes

page_alert_outside_page_routes contains finding(resources_by_urn[group_urn], msg) if {
	some org, alerts in page_alerts_by_org
	some [group_urn, rule] in alerts
	labels := object.get(rule, "labels", {})
	not matched_by_a_page_route(org, labels)
	msg := concat("", ["page alert '", object.get(rule, "name", ""), "' matches no severity=page notification route"])
}

matched_by_a_page_route(org, labels) if {
	some policy in notification_policies_by_org[org]
	some route in policy_routes(policy)
	is_page_route(route)
	route_matches_labels(route, labels)
}
