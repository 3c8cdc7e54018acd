"""AuthLogs in the offline plan: Auth0's logs kept in AWS as evidence, and the ticket on a burst of failures."""

from __future__ import annotations

import json

from infra.derive.auth_logs import FAILURE_EVENT_TYPES, failure_pattern
from infra.model.access import AccessModel
from infra.offline.plan import Plan
from tests.auth0.plan_reading import linked


def _only(plan: Plan, token: str) -> dict:
    (found,) = [r for r in plan.of_type(token) if r["name"].startswith("auth-logs")]
    return found


def test_the_log_stream_feeds_a_partner_bus_whose_rule_keeps_every_event_in_an_encrypted_group(prod_plan: Plan) -> None:
    (stream,) = prod_plan.of_type("auth0:index/logStream:LogStream")
    bus = _only(prod_plan, "aws:cloudwatch/eventBus:EventBus")
    group = _only(prod_plan, "aws:cloudwatch/logGroup:LogGroup")
    rule = _only(prod_plan, "aws:cloudwatch/eventRule:EventRule")
    target = _only(prod_plan, "aws:cloudwatch/eventTarget:EventTarget")

    assert linked(prod_plan, bus, "eventSourceName") == [stream], "the bus is the log stream's partner event source"
    assert linked(prod_plan, rule, "eventBusName") == [bus]
    assert json.loads(rule["properties"]["eventPattern"]) == {"source": [{"prefix": "aws.partner/auth0.com"}]}
    assert linked(prod_plan, target, "arn") == [group]
    assert group["properties"]["retentionInDays"] >= 365, "at least a year of evidence"
    (key,) = linked(prod_plan, group, "kmsKeyId")
    statements = {s["Sid"]: s for s in json.loads(key["properties"]["policy"])["Statement"]}
    logs = statements["CloudWatchLogsUseForTheGroup"]
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": (
        f"arn:aws:logs:eu-central-1:210987654321:log-group:{group['properties']['name']}")}}


def test_only_the_rule_delivers_into_the_log_group(prod_plan: Plan) -> None:
    delivery = _only(prod_plan, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    rule = _only(prod_plan, "aws:cloudwatch/eventRule:EventRule")
    (statement,) = json.loads(delivery["properties"]["policyDocument"])["Statement"]

    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "210987654321"}
    assert linked(prod_plan, delivery, "policyDocument") == [rule], "the rule's ARN is the one source allowed"
    assert set(statement["Condition"]["ArnEquals"]) == {"aws:SourceArn"}
    assert statement["Resource"].endswith(":log-stream:*")


def test_a_burst_of_operators_failures_tickets_through_the_routed_topic(prod_plan: Plan) -> None:
    metric = _only(prod_plan, "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    alarm = _only(prod_plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
    (topic,) = linked(prod_plan, alarm, "alarmActions")

    assert (alarm["properties"]["namespace"], alarm["properties"]["metricName"]) == (
        metric["properties"]["metricTransformation"]["namespace"], metric["properties"]["metricTransformation"]["name"])
    assert alarm["properties"]["threshold"] > 1, "one mistyped password is no burst"
    subscriptions = [s for s in prod_plan.of_type("aws:sns/topicSubscription:TopicSubscription") if linked(prod_plan, s, "topic") == [topic]]
    assert subscriptions, "the alarm's topic reaches people"


def test_the_failure_filter_counts_failures_on_the_operators_connection_and_the_ops_app(access_model: AccessModel) -> None:
    pattern = failure_pattern(access_model)

    for event_type in FAILURE_EVENT_TYPES:
        assert f'$.detail.data.type = "{event_type}"' in pattern
    assert '$.detail.data.connection = "ops-operators"' in pattern
    assert '$.detail.data.client_name = "ops-web"' in pattern
    assert '"s"' not in pattern, "successful logins are not failures"
