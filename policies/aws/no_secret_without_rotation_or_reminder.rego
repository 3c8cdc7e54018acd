package opshub

import rego.v1

# METADATA
# title: Every secret has rotation or a reminder
# description: >-
#   A credential nobody rotates stays valid after it leaks. Each secret needs a
#   SecretRotation, or a reminder (a schedule, rule or alarm that references it) that
#   tells people to roll it by hand.
# custom:
#   id: OPS-AWS-005
#   severity: high
#   remediation: Declare a SecretRotation for the secret, or a reminder schedule/alarm that names it.
stack_deny_secret_without_rotation_or_reminder contains f.msg if some f in secret_without_rotation_or_reminder

secret_without_rotation_or_reminder contains finding(secret, msg) if {
	some secret in aws_secrets
	not has_rotation(secret)
	not has_reminder(secret)
	msg := sprintf("secret '%s' has neither a SecretRotation nor a reminder", [prop(secret, "name", secret.__name)])
}

has_rotation(secret) if {
	some rotation in secret_rotations
	refers_to(rotation, "secretId", secret)
}

reminder_types := {
	"aws:scheduler/schedule:Schedule",
	"aws:cloudwatch/eventRule:EventRule",
	"aws:cloudwatch/eventTarget:EventTarget",
	"aws:cloudwatch/metricAlarm:MetricAlarm",
}

reminders := [r | some r in input.resources; r.__type in reminder_types]

# A reminder depends on the secret, or names it (by name or ARN) somewhere in its inputs.
has_reminder(secret) if {
	some reminder in reminders
	secret.__urn in object.get(reminder, "dependencies", [])
}

has_reminder(secret) if {
	some handle in handles(secret)
	handle != secret.__urn
	some text in reminder_strings
	contains(text, handle)
}

# Every string in a reminder's inputs (walked, not json.marshal-ed: regopy fails to marshal some inputs).
reminder_strings contains value if {
	some reminder in reminders
	walk(reminder.__properties, [_, value])
	is_string(value)
}
