package opshub

import rego.v1

# METADATA
# title: Page alerts keep failing queries visible
# description: >-
#   A page rule's execErrState and noDataState decide what a broken or silent query does.
#   The derivation sets them so a failing query raises a routed error (infra/derive/slo.py);
#   any other value (or the provider's default) can turn a blind query into silence.
# custom:
#   id: OPS-OBS-010
#   severity: high
#   remediation: Set exec_err_state and no_data_state on the page rule to the derived values (infra/derive/slo.py).
deny_page_alert_hiding_failures contains msg if {
	some rule in page_alerts(input)
	some key, expected in model.paging.alert_states
	actual := object.get(rule, key, "")
	actual != expected
	msg := concat("", [label(input), ": page alert '", object.get(rule, "name", ""), "' has ", key, " '", actual, "', not '", expected, "'"])
}
