package opshub

import rego.v1

# METADATA
# title: Reminder alarms reach people
# description: >-
#   An alarm that reminds people about a secret (it names the secret or depends on it) must
#   be able to notify: actions enabled, at least one alarm action, and every SNS topic among
#   them subscribed to. Otherwise it is no reminder.
# custom:
#   id: OPS-AWS-014
#   severity: high
#   remediation: Keep actions_enabled, alarm_actions on the routed topic, and its subscription.
stack_deny_silent_reminder_alarm contains f.msg if some f in silent_reminder_alarm

silent_reminder_alarm contains finding(alarm, msg) if {
	some alarm in reminder_alarms
	not is_notifying_alarm(alarm)
	msg := concat("", [label(alarm), " reminds people about a secret but cannot notify anyone"])
}

reminder_alarms := [alarm |
	some alarm in resources_of("aws:cloudwatch/metricAlarm:MetricAlarm")
	names_a_secret(alarm)
]

names_a_secret(alarm) if {
	some u in object.get(alarm, "dependencies", [])
	resources_by_urn[u].__type == secret_type
}

names_a_secret(alarm) if {
	walk(alarm.__properties, [_, value])
	is_string(value)
	value in secret_handles
}

secret_handles := {h | some secret in aws_secrets; some h in handles(secret)}
