"""SLO specs -> Prometheus recording rules and multi-window, multi-burn-rate alerts.

Pure functions, no Pulumi: the generated rule files (alerts/generated/<slo>.yml)
and the Grafana-managed RuleGroups (infra/components/observability.py) both take
their PromQL from `alert_rules`, so the two can never differ.

Burn rates follow the SRE Workbook (and Sloth's google-30d windows): 14.4x over
1h/5m and 6x over 6h/30m page; 3x over 1d/2h and 1x over 3d/6h open a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from infra.model.observability import SloSpec

# Every window a recording rule is kept for, shortest first.
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
RECORD_PREFIX = "slo:sli_error:ratio_rate"
# Pages wait 2 minutes so one bad scrape never wakes anybody; tickets wait 15.
PAGE_FOR = "2m"
TICKET_FOR = "15m"
# The window over which traffic must reach the SLO's minimum rate before a page.
TRAFFIC_GUARD_WINDOW = "1h"
PAGE_SEVERITY_LABEL = "page"
# The alert query returns series only while burning, so "no data" is the healthy
# state (OK), not an alert. A failing query means on-call is blind: Error raises
# a DatasourceError alert carrying the rule's labels, so it is routed like the rule.
NO_DATA_STATE = "OK"
EXEC_ERR_STATE = "Error"


@dataclass(frozen=True)
class BurnRate:
    """Fire when the error ratio exceeds factor x budget over both windows."""

    factor: float
    long: str
    short: str


@dataclass(frozen=True)
class AlertClass:
    severity: str
    suffix: str
    burn_rates: tuple[BurnRate, ...]
    for_: str
    guard_low_traffic: bool
    runbook_anchor: str
    summary: str


ALERT_CLASSES = (
    AlertClass(
        severity=PAGE_SEVERITY_LABEL,
        suffix="FastBurn",
        burn_rates=(BurnRate(14.4, "1h", "5m"), BurnRate(6, "6h", "30m")),
        for_=PAGE_FOR,
        guard_low_traffic=True,
        runbook_anchor="fast-burn-pages",
        summary="is burning its 30-day error budget fast",
    ),
    AlertClass(
        severity="ticket",
        suffix="SlowBurn",
        burn_rates=(BurnRate(3, "1d", "2h"), BurnRate(1, "3d", "6h")),
        for_=TICKET_FOR,
        guard_low_traffic=False,
        runbook_anchor="slow-burn-tickets",
        summary="is burning its 30-day error budget faster than it refills",
    ),
)


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: dict[str, str]


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule; `labels` are static, the expression adds only the SLI's `by` labels."""

    alert: str
    slo: str
    severity: str
    expr: str
    for_: str
    labels: dict[str, str]
    annotations: dict[str, str]


def _rate(selector: str, window: str, by: tuple[str, ...]) -> str:
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} (rate({selector}[{window}]))"


def error_ratio(slo: SloSpec, window: str) -> str:
    """The SLI's error ratio over `window`, per `by` label set (never summed across them)."""
    sli = slo.sli
    total = _rate(sli.total, window, sli.by)
    if sli.errors is not None:
        return f"({_rate(sli.errors, window, sli.by)} / {total})"
    return f"(({total} - {_rate(sli.good or '', window, sli.by)}) / {total})"


def traffic_rate(slo: SloSpec, window: str) -> str:
    """Events per second over `window`, per `by` label set."""
    return _rate(slo.sli.total, window, slo.sli.by)


def recording_rules(slo: SloSpec) -> list[RecordingRule]:
    labels = {"slo": slo.name, "service": slo.service}
    return [RecordingRule(f"{RECORD_PREFIX}{w}", error_ratio(slo, w), labels) for w in WINDOWS]


def _threshold(factor: float, budget: float) -> str:
    return f"{factor:g} * {budget:g}"


def _burn_condition(slo: SloSpec, burn: BurnRate) -> str:
    limit = _threshold(burn.factor, slo.error_budget)
    return f"({error_ratio(slo, burn.long)} > ({limit})\nand\n{error_ratio(slo, burn.short)} > ({limit}))"


def alert_expr(slo: SloSpec, alert_class: AlertClass) -> str:
    """Any of the class's window pairs burning; pages also need real traffic."""
    burning = "\nor\n".join(_burn_condition(slo, burn) for burn in alert_class.burn_rates)
    if not alert_class.guard_low_traffic:
        return burning
    guard = f"{traffic_rate(slo, TRAFFIC_GUARD_WINDOW)} >= {slo.min_page_rate_per_second:g}"
    return f"(\n{burning}\n)\nand\n{guard}"


def alert_name(slo: SloSpec, alert_class: AlertClass) -> str:
    """`ops-hub-availability` + FastBurn -> `OpsHubAvailabilityFastBurn`."""
    return "".join(part.capitalize() for part in slo.name.split("-")) + alert_class.suffix


def _description(slo: SloSpec, alert_class: AlertClass) -> str:
    pairs = "; ".join(
        f"{b.factor:g}x the budget over {b.long} and {b.short}" for b in alert_class.burn_rates
    )
    per = f" (per {', '.join(slo.sli.by)})" if slo.sli.by else ""
    return (
        f"{slo.description} Objective {slo.objective_percent:g}% over {slo.period}{per}. "
        f"Fires when the error ratio exceeds {pairs}."
    )


def alert_rules(slo: SloSpec, runbook_url: str, dashboard_url: str) -> list[AlertRule]:
    """The SLO's page and ticket rules, with static labels and annotations."""
    return [
        AlertRule(
            alert=alert_name(slo, cls),
            slo=slo.name,
            severity=cls.severity,
            expr=alert_expr(slo, cls),
            for_=cls.for_,
            labels={"severity": cls.severity, "slo": slo.name, "service": slo.service, "team": slo.team},
            annotations={
                "summary": f"{slo.title} {cls.summary}",
                "description": _description(slo, cls),
                "runbook_url": f"{runbook_url}#{cls.runbook_anchor}",
                "dashboard_url": dashboard_url,
            },
        )
        for cls in ALERT_CLASSES
    ]


def rule_groups(slo: SloSpec, runbook_url: str, dashboard_url: str) -> dict:
    """The Prometheus rule file document: one recording group and one alerting group."""
    return {
        "groups": [
            {
                "name": f"slo-{slo.name}-recordings",
                "interval": "1m",
                "rules": [{"record": r.record, "expr": r.expr, "labels": r.labels} for r in recording_rules(slo)],
            },
            {
                "name": f"slo-{slo.name}-alerts",
                "interval": "1m",
                "rules": [
                    {"alert": a.alert, "expr": a.expr, "for": a.for_, "labels": a.labels, "annotations": a.annotations}
                    for a in alert_rules(slo, runbook_url, dashboard_url)
                ],
            },
        ]
    }


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so generated PromQL reads like hand-written PromQL; no anchors."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_presenter)


def render_yaml(document: dict, source: str) -> str:
    """A generated YAML file with its do-not-edit header."""
    header = f"# Generated by `opshub docs` from {source}; do not edit by hand.\n"
    return header + yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, width=1000)
