package opshub

import rego.v1

# METADATA
# title: No public dashboards
# description: >-
#   A public dashboard is readable by anyone with its link, without signing in; Ops Hub
#   dashboards show payments, audit activity and incidents.
# custom:
#   id: OPS-OBS-023
#   severity: critical
#   remediation: Delete the grafana.oss.DashboardPublic; share the dashboard through its permissioned folder.
deny_public_dashboard contains msg if {
	input.__type == "grafana:oss/dashboardPublic:DashboardPublic"
	msg := concat("", [label(input), " makes dashboard '", prop(input, "dashboardUid", ""), "' public"])
}
