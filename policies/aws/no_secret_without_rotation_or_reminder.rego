package opshub

import rego.v1

# METADATA
# title: Every secret has rotation or a reminder
# description: >-
#   A credential nobody rotates stays valid after it leaks. Each secret needs a
#   SecretRotation, or a reminder (a schedule, rule or alarm that depends on it or names
#   it, by name or ARN, in one of its inputs) that tells people to roll it by hand. An
#   alarm that cannot notify anyone (OPS-AWS-014) is no reminder.
# custom:
#   id: OPS-AWS-005
#   severity: high
#   remediation: Declare a SecretRotation for the secret, or a reminder schedule/alarm that names it.
stack_deny_secret_without_rotation_or_reminder contains f.msg if some f in secret_without_rotation_or_reminder

secret_without_rotation_or_reminder contains finding(secret, msg) if {
	some secret in aws_secrets
	not has_rotation(secret)
	not has_reminder(secret)
	msg := concat("", ["secret '", prop(secret, "name", secret.__name), "' has neither a SecretRotation nor a reminder"])
}

has_rotation(secret) if secret.__urn in rotated_secrets

rotated_secrets := {u | some rotation in secret_rotations; some u in referenced_urns(rotation, "secretId")}

reminder_types := {
	"aws:scheduler/schedule:Schedule",
	"aws:cloudwatch/eventRule:EventRule",
	"aws:cloudwatch/eventTarget:EventTarget",
	"aws:cloudwatch/metricAlarm:MetricAlarm",
}

reminders := [r | some r in input.resources; r.__type in reminder_types; can_remind(r)]

can_remind(r) if r.__type != "aws:cloudwatch/metricAlarm:MetricAlarm"

can_remind(r) if is_notifying_alarm(r)

has_reminder(secret) if secret.__urn in reminded_by_dependency

has_reminder(secret) if {
	some handle in handles(secret)
	handle in reminder_strings
}

reminded_by_dependency := {u | some reminder in reminders; some u in object.get(reminder, "dependencies", [])}

# Every string in a reminder's inputs (walked, not json.marshal-ed: regopy fails to marshal some inputs).
reminder_strings contains value if {
	some reminder in reminders
	walk(reminder.__properties, [_, value])
	is_string(value)
}
