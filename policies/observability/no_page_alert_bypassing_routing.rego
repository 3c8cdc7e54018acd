package opshub

import rego.v1

# METADATA
# title: Page alerts go through the routing tree
# description: >-
#   A rule's notification_settings send it straight to one contact point (Grafana's simplified
#   routing), past the notification policy, its PagerDuty route and its timing; a page must
#   take the reviewed route.
# custom:
#   id: OPS-OBS-012
#   severity: high
#   remediation: Remove notification_settings from the severity=page rule; route it with the NotificationPolicy.
deny_page_alert_bypassing_routing contains msg if {
	some rule in page_alerts(input)
	settings := object.get(rule, "notificationSettings", {})
	is_object(settings)
	count(settings) > 0
	msg := concat("", [label(input), ": page alert '", object.get(rule, "name", ""), "' has notification_settings, which bypass the routing tree"])
}
