package opshub

import rego.v1

# METADATA
# title: Mute timings stay within the declared maintenance windows
# description: >-
#   A MuteTiming silences every route that names it; one that is not a declared maintenance
#   window (alerts/oncall.yaml), or reaches past its days, hours or time zone, silences
#   alerts nobody agreed to silence.
# custom:
#   id: OPS-OBS-014
#   severity: high
#   remediation: Declare the window in alerts/oncall.yaml maintenance_windows and let the component derive the MuteTiming.
deny_mute_timing_beyond_maintenance contains msg if {
	input.__type == "grafana:alerting/muteTiming:MuteTiming"
	name := prop(input, "name", "")
	not model.paging.maintenance_windows[name]
	msg := concat("", [label(input), " is not a declared maintenance window"])
}

deny_mute_timing_beyond_maintenance contains msg if {
	input.__type == "grafana:alerting/muteTiming:MuteTiming"
	window := model.paging.maintenance_windows[prop(input, "name", "")]
	some interval in prop(input, "intervals", [])
	some reason in interval_overreach(interval, window)
	msg := concat("", [label(input), " mutes beyond its maintenance window: ", reason])
}

interval_overreach(interval, window) := {reason |
	some check, reason in {
		"weekdays": "on more days",
		"times": "at more hours",
		"location": "in another time zone",
	}
	not interval_within(check, interval, window)
}

interval_within("weekdays", interval, window) if {
	days := object.get(interval, "weekdays", [])
	count(days) > 0
	every day in days {
		day in window.weekdays
	}
}

interval_within("times", interval, window) if {
	times := object.get(interval, "times", [])
	count(times) > 0
	every t in times {
		t.start >= window.start
		t.end <= window.end
	}
}

interval_within("location", interval, window) if object.get(interval, "location", "") == window.location
