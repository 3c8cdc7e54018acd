package opshub

import rego.v1

# METADATA
# title: No segregation-of-duties pair on one role
# description: >-
#   The access model lists permission pairs nobody may hold together (refunds and the
#   export of the trail that records them, say); one role must never carry both.
# custom:
#   id: OPS-AUTH-007
#   severity: critical
#   remediation: Split the two permissions onto different roles, as the access model's segregation_of_duties requires.
stack_deny_segregation_of_duties_pair_on_role contains f.msg if some f in segregation_of_duties_pair_on_role

segregation_of_duties_pair_on_role contains {"urn": urn, "msg": msg} if {
	some pair in model.sod_pairs
	some [urn, role_name, first] in role_permission_pairs
	first == pair[0]
	[urn, role_name, pair[1]] in role_permission_pairs
	msg := concat("", ["Auth0 role '", role_name, "' holds both '", pair[0], "' and '", pair[1], "', a segregation-of-duties pair"])
}
