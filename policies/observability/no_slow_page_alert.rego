package opshub

import rego.v1

# METADATA
# title: Page alerts fire within the page window
# description: >-
#   A page alert's `for` delays the page after the burn is detected; longer than the
#   catalogue's max_page_for (alerts/oncall.yaml paging_limits) and a fast burn can spend
#   a large share of the error budget before anyone is woken.
# custom:
#   id: OPS-OBS-009
#   severity: high
#   remediation: Set the page rule's `for` to the derived value (infra/derive/slo.py PAGE_FOR), at most paging_limits.max_page_for.
deny_slow_page_alert contains msg if {
	some rule in page_alerts(input)
	wait := object.get(rule, "for", "0s")
	is_string(wait)
	duration_seconds(wait) > model.paging.max_page_for_seconds
	msg := concat("", [label(input), ": page alert '", object.get(rule, "name", ""), "' waits ", wait, " before firing, more than the page window allows (", format_int(model.paging.max_page_for_seconds, 10), "s)"])
}
