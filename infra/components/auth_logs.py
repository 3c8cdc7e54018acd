"""AuthLogs: the Auth0 tenant's logs kept in AWS as evidence, and the ticket on a burst of operators' failures.

Creates, all with the explicit AWS provider, from infra/derive/auth_logs.py:

- the partner event bus of the Auth0 log stream's event source (OpsAuth's `LogStream`);
- a customer-managed KMS key (rotation on) that CloudWatch Logs may use only for the log group;
- the log group (KMS-encrypted, kept `retention_days`), an EventBridge rule on the bus sending
  every event to it, and the CloudWatch Logs resource policy that lets only that rule deliver;
- a metric filter counting failed sign-ins and MFA failures on the operators' connection and
  the /ops application, and an alarm on a burst of them to the ticket topic (`ticket_topic_arn`).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from infra.config import StackConfig
from infra.derive.auth_logs import (
    METRIC_NAME,
    METRIC_NAMESPACE,
    AuthLogsDecl,
    delivery_policy,
    log_group_arn,
    logs_key_policy,
)

RUNBOOK = "docs/runbook.md#operators-failing-to-sign-in"


class AuthLogsArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: StackConfig
    declarations: AuthLogsDecl
    provider: aws.Provider
    # The EventBridge partner event source Auth0 created for the log stream.
    partner_event_source: pulumi.Output
    ticket_topic_arn: pulumi.Output


class AuthLogs(pulumi.ComponentResource):
    def __init__(self, name: str, args: AuthLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("opshub:authlogs:AuthLogs", name, None, opts)
        cfg, decl = args.config, args.declarations
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        group_arn = log_group_arn(cfg.aws_region, cfg.aws_account_id, decl.log_group_name)
        self.bus = aws.cloudwatch.EventBus(
            f"{name}-bus", name=args.partner_event_source, event_source_name=args.partner_event_source, opts=child
        )
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Ops Hub {cfg.environment} Auth0 log evidence",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=logs_key_policy(cfg.aws_account_id, cfg.aws_region, group_arn).to_json(),
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-group",
            name=decl.log_group_name,
            kms_key_id=self.key.arn,
            retention_in_days=decl.retention_days,
            opts=child,
        )
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name="ops-hub-auth0-logs",
            description="Every Auth0 tenant log, kept as evidence",
            event_bus_name=self.bus.name,
            event_pattern=json.dumps({"source": [{"prefix": "aws.partner/auth0.com"}]}),
            opts=child,
        )
        self.delivery = aws.cloudwatch.LogResourcePolicy(
            f"{name}-delivery",
            policy_name=f"ops-hub-{cfg.environment}-auth0-logs-delivery",
            policy_document=self.rule.arn.apply(lambda rule: delivery_policy(group_arn, rule, cfg.aws_account_id).to_json()),
            opts=child,
        )
        self.target = aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            event_bus_name=self.bus.name,
            arn=self.log_group.arn,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.delivery])),
        )
        self.failures = aws.cloudwatch.LogMetricFilter(
            f"{name}-failures",
            name="ops-hub-operator-sign-in-failures",
            log_group_name=self.log_group.name,
            pattern=decl.failure_pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=METRIC_NAME, namespace=METRIC_NAMESPACE, value="1", default_value="0"
            ),
            opts=child,
        )
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-failures-burst",
            name=f"ops-hub-{cfg.environment}-operator-sign-in-failures",
            alarm_description=(
                f"At least {decl.threshold} failed sign-ins or MFA failures by operators within "
                f"{decl.period_seconds // 60} minutes. See {RUNBOOK}"
            ),
            namespace=METRIC_NAMESPACE,
            metric_name=METRIC_NAME,
            statistic="Sum",
            period=decl.period_seconds,
            evaluation_periods=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=decl.threshold,
            treat_missing_data="notBreaching",  # no failures, no data
            alarm_actions=[args.ticket_topic_arn],
            opts=child,
        )
        self.register_outputs({"log_group": self.log_group.name, "alarm": self.alarm.name})
