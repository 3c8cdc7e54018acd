package opshub

import rego.v1

# METADATA
# title: No route catches pages before the page route
# description: >-
#   Routes are tried in order and the first match without `continue` takes the alert; a route
#   placed before the page route that matches a page alert's labels swallows the page.
# custom:
#   id: OPS-OBS-015
#   severity: critical
#   remediation: Move the route after the page routes, narrow its matchers, or set continue on it.
stack_deny_route_shadowing_pages contains f.msg if some f in route_shadowing_pages

route_shadowing_pages contains finding(policy, msg) if {
	some policy in resources_of(notification_policy_type)
	routes := prop(policy, "policies", [])
	some [_, rule] in org_page_alerts(org_of(policy))
	labels := object.get(rule, "labels", {})
	some i, page_route in routes
	is_page_route(page_route)
	route_matches_labels(page_route, labels)
	some j, route in routes
	j < i
	not is_page_route(route)
	object.get(route, "continue", false) != true
	route_matches_labels(route, labels)
	msg := concat("", [label(policy), ": the route to '", object.get(route, "contactPoint", ""), "' comes before the page route and catches page alert '", object.get(rule, "name", ""), "'"])
}
