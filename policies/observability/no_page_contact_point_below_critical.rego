package opshub

import rego.v1

# METADATA
# title: Page contact points send critical PagerDuty events, in settings a rule can read
# description: >-
#   With severity-based urgency the event's severity decides whether PagerDuty pages; a page
#   route's contact point must send the derived severity (critical). Its settings must be
#   checkable: only the integration key may be a secret, not the whole integration list.
# custom:
#   id: OPS-OBS-018
#   severity: critical
#   remediation: Set severity on the page contact point's PagerDuty integration to the derived value and mark only integration_key secret.
stack_deny_page_contact_point_below_critical contains f.msg if some f in page_contact_point_below_critical

page_contact_point_below_critical contains finding(cp, msg) if {
	some cp in page_contact_points
	is_secret_value(prop(cp, "pagerduties", []))
	msg := concat("", [label(cp), " takes pages, and its PagerDuty settings are one secret, so nobody can check them"])
}

page_contact_point_below_critical contains finding(cp, msg) if {
	some cp in page_contact_points
	entries := prop(cp, "pagerduties", [])
	is_array(entries)
	some entry in entries
	severity := object.get(entry, "severity", "")
	severity != model.paging.pagerduty_page_severity
	msg := concat("", [label(cp), " takes pages and sends PagerDuty severity '", severity, "', not '", model.paging.pagerduty_page_severity, "'"])
}

page_contact_points contains cp if {
	some policy in resources_of(notification_policy_type)
	some route in policy_routes(policy)
	is_page_route(route)
	some cp in contact_points_named[concat("|", [org_of(policy), object.get(route, "contactPoint", "")])]
}
