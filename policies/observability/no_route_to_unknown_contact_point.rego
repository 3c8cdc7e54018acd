package opshub

import rego.v1

# METADATA
# title: No route to an undeclared contact point
# description: >-
#   Every notification route, and the policy's default receiver, must send to a
#   ContactPoint this stack declares (by its name); otherwise that severity goes nowhere.
# custom:
#   id: OPS-OBS-003
#   severity: high
#   remediation: Point the route's contact_point at the name of a declared grafana.alerting.ContactPoint.
stack_deny_route_to_unknown_contact_point contains f.msg if some f in route_to_unknown_contact_point

route_to_unknown_contact_point contains finding(policy, msg) if {
	some policy in resources_of("grafana:alerting/notificationPolicy:NotificationPolicy")
	some name in policy_contact_points(policy)
	not name in contact_point_names
	msg := concat("", [label(policy), " routes to contact point '", name, "', which the stack does not declare"])
}

route_to_unknown_contact_point contains finding(policy, msg) if {
	some policy in resources_of("grafana:alerting/notificationPolicy:NotificationPolicy")
	prop(policy, "contactPoint", "") == ""
	msg := concat("", [label(policy), " has no default contact point"])
}

contact_point_names := {prop(cp, "name", "") | some cp in resources_of("grafana:alerting/contactPoint:ContactPoint")}

policy_contact_points(policy) := {name | name := prop(policy, "contactPoint", ""); name != ""} | {name |
	walk(prop(policy, "policies", []), [path, route])
	is_object(route)
	name := object.get(route, "contactPoint", "")
	name != ""
}
