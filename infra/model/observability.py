"""The typed SLO catalogue and on-call roster: alerts/slos/*.yaml, alerts/oncall.yaml, alerts/metrics.yaml.

Objectives live only in the SLO specs. Every problem is reported at once as an
`ObservabilityError` naming the file and the key, and the CLI exits 2; the
derivations (infra/derive/slo.py, infra/derive/routing.py) may then trust it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar

import promql_parser
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from infra.config import REPO_ROOT
from infra.errors import UsageError, describe_validation_error, did_you_mean
from infra.yamlio import load_yaml_mapping

ALERTS_DIR = REPO_ROOT / "alerts"
SLUG = r"^[a-z0-9][a-z0-9-]*$"
PAGERDUTY_USER = r"^P[A-Z0-9]{6}$"
T = TypeVar("T")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DURATION = r"^[1-9][0-9]*(s|m|h)$"
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600}


class ObservabilityError(UsageError):
    """An SLO spec, the on-call roster or the metric catalogue is malformed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _vector_selector(text: str) -> promql_parser.VectorSelector:
    try:
        expr = promql_parser.parse(text)
    except ValueError as exc:
        msg = f"not valid PromQL: {exc}"
        raise ValueError(msg) from None
    if not isinstance(expr, promql_parser.VectorSelector) or not expr.name:
        msg = "must be a plain series selector such as metric{label=\"value\"}"
        raise ValueError(msg)
    return expr


class Sli(_Strict):
    """Series selectors of the SLI: errors (or good) events over total events."""

    total: str
    errors: str | None = None
    good: str | None = None
    by: tuple[str, ...] = ()

    @field_validator("total", "errors", "good")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value is not None:
            _vector_selector(value)
        return value

    @field_validator("by")
    @classmethod
    def _labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [label for label in value if not re.fullmatch(r"[a-z_][a-z0-9_]*", label)]
        if bad:
            msg = f"not label names: {bad}"
            raise ValueError(msg)
        return value

    def selectors(self) -> list[str]:
        return [s for s in (self.errors, self.good, self.total) if s is not None]


class SloSpec(_Strict):
    name: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    service: str = Field(pattern=SLUG)
    team: str = Field(pattern=SLUG)
    objective_percent: float = Field(gt=90, lt=100)
    period: Literal["30d"]
    sli: Sli
    min_page_rate_per_second: float = Field(gt=0)

    @property
    def error_budget(self) -> float:
        """The allowed error ratio, e.g. 0.001 for 99.9%."""
        return round(1 - self.objective_percent / 100, 10)


class TeamSpec(_Strict):
    name: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    primary: tuple[str, ...] = Field(min_length=1)
    secondary: tuple[str, ...] = Field(min_length=1)

    @field_validator("primary", "secondary")
    @classmethod
    def _pagerduty_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [u for u in value if not re.fullmatch(PAGERDUTY_USER, u)]
        if bad:
            msg = f"not PagerDuty user ids (P followed by 6 letters or digits): {bad}"
            raise ValueError(msg)
        return value


class MaintenanceWindow(_Strict):
    name: str = Field(pattern=SLUG)
    weekdays: tuple[Literal[WEEKDAYS], ...] = Field(min_length=1)  # type: ignore[valid-type]
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
    location: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_]+)*$")


def duration_seconds(text: str) -> int:
    """A catalogue duration ("5m", "4h") in seconds."""
    return int(text[:-1]) * DURATION_SECONDS[text[-1]]


class PagingLimits(_Strict):
    """How far the paging path may be loosened; the policy pack holds every plan to these."""

    max_page_for: str = Field(pattern=DURATION)
    max_group_wait: str = Field(pattern=DURATION)
    max_group_interval: str = Field(pattern=DURATION)
    max_repeat_interval: str = Field(pattern=DURATION)
    max_escalation_delay_minutes: int = Field(ge=1, le=60)

    def seconds(self) -> dict[str, int]:
        return {
            "max_page_for_seconds": duration_seconds(self.max_page_for),
            "max_group_wait_seconds": duration_seconds(self.max_group_wait),
            "max_group_interval_seconds": duration_seconds(self.max_group_interval),
            "max_repeat_interval_seconds": duration_seconds(self.max_repeat_interval),
        }


class OnCallSpec(_Strict):
    time_zone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_]+)*$")
    rotation_start: AwareDatetime
    teams: tuple[TeamSpec, ...] = Field(min_length=1)
    default_team: str
    runbook_url: str = Field(pattern=r"^https://\S+$")
    paging_limits: PagingLimits
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()

    @cached_property
    def team_by_name(self) -> dict[str, TeamSpec]:
        return {t.name: t for t in self.teams}


class MetricSpec(_Strict):
    name: str = Field(pattern=r"^[a-z_:][a-z0-9_:]*$")
    type: Literal["counter", "gauge", "histogram"]
    labels: tuple[str, ...]


class Catalogue(_Strict):
    """Everything observability is derived from, cross-checked."""

    slos: tuple[SloSpec, ...] = Field(min_length=1)
    oncall: OnCallSpec
    metrics: tuple[MetricSpec, ...]

    @cached_property
    def metric_by_name(self) -> dict[str, MetricSpec]:
        return {m.name: m for m in self.metrics}


def _parse(model: type[BaseModel], data: dict, source: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ObservabilityError(source, describe_validation_error(exc, data)) from None


def _slo_problems(slo: SloSpec, catalogue_metrics: dict[str, MetricSpec] | None, teams: set[str] | None) -> list[str]:
    """Cross-checks against the roster and the metric catalogue; None skips a file that did not load."""
    problems = []
    if teams is not None and slo.team not in teams:
        hint = did_you_mean(slo.team, teams) or f" (known: {sorted(teams)})"
        problems.append(f"team: {slo.team!r} is not a team of alerts/oncall.yaml{hint}")
    if (slo.sli.errors is None) == (slo.sli.good is None):
        problems.append("sli: give exactly one of `errors` or `good`")
    for key, text in (("total", slo.sli.total), ("errors", slo.sli.errors), ("good", slo.sli.good)):
        if text is None or catalogue_metrics is None:
            continue
        selector = _vector_selector(text)
        metric = catalogue_metrics.get(selector.name)
        if metric is None:
            hint = did_you_mean(selector.name, catalogue_metrics)
            problems.append(f"sli.{key}: metric {selector.name!r} is not in alerts/metrics.yaml{hint}")
            continue
        used = {m.name for m in selector.matchers.matchers} | set(slo.sli.by)
        problems += [
            f"sli.{key}: label {label!r} is not a label of {metric.name} (labels: {list(metric.labels)})"
            for label in sorted(used - set(metric.labels))
        ]
    return problems


def _oncall_problems(oncall: OnCallSpec) -> list[str]:
    names = [t.name for t in oncall.teams]
    problems = [f"teams: {n!r} is declared more than once" for n in sorted({n for n in names if names.count(n) > 1})]
    if oncall.default_team not in names:
        problems.append(f"default_team: {oncall.default_team!r} is not one of the teams {names}{did_you_mean(oncall.default_team, names)}")
    windows = [w.name for w in oncall.maintenance_windows]
    problems += [
        f"maintenance_windows: {n!r} is declared more than once" for n in sorted({n for n in windows if windows.count(n) > 1})
    ]
    problems += [
        f"maintenance_windows.{w.name}: end {w.end} is not after start {w.start}"
        for w in oncall.maintenance_windows
        if w.end <= w.start
    ]
    limits = oncall.paging_limits
    order = [("max_group_wait", limits.max_group_wait), ("max_group_interval", limits.max_group_interval), ("max_repeat_interval", limits.max_repeat_interval)]
    problems += [
        f"paging_limits.{later}: {later_value} is shorter than {earlier} ({earlier_value})"
        for (earlier, earlier_value), (later, later_value) in zip(order, order[1:], strict=False)
        if duration_seconds(later_value) < duration_seconds(earlier_value)
    ]
    return problems


def _load_slo(path: Path, metrics: dict[str, MetricSpec] | None, teams: set[str] | None) -> SloSpec:
    data = load_yaml_mapping(path, ObservabilityError)
    if "name" in data:
        raise ObservabilityError(str(path), ["name: an SLO is named by its file name; remove the key"])
    slo = _parse(SloSpec, {"name": path.stem, **data}, str(path))
    problems = _slo_problems(slo, metrics, teams)  # type: ignore[arg-type]
    if problems:
        raise ObservabilityError(str(path), problems)
    return slo  # type: ignore[return-value]


def _collect(problems: list[str], load: Callable[..., T], *args: object) -> T | None:
    """Run one loader; on an ObservabilityError keep its problems (prefixed by file) and return None."""
    try:
        return load(*args)
    except ObservabilityError as exc:
        problems += [f"{exc.source}: {p}" for p in exc.problems]
        return None


def _load_oncall(path: Path) -> OnCallSpec:
    oncall = _parse(OnCallSpec, load_yaml_mapping(path, ObservabilityError), str(path))
    problems = _oncall_problems(oncall)  # type: ignore[arg-type]
    if problems:
        raise ObservabilityError(str(path), problems)
    return oncall  # type: ignore[return-value]


def _load_metrics(path: Path) -> tuple[MetricSpec, ...]:
    return _parse(_MetricList, load_yaml_mapping(path, ObservabilityError), str(path)).metrics  # type: ignore[attr-defined]


def load_catalogue(root: Path = ALERTS_DIR) -> Catalogue:
    """Load and cross-check the SLO specs, the on-call roster and the metric catalogue.

    Every file is read even when an earlier one is broken, so one run lists every problem;
    the cross-checks that need a broken file (an SLO's team, its metrics) are skipped then.
    """
    problems: list[str] = []
    metrics = _collect(problems, _load_metrics, root / "metrics.yaml")
    oncall = _collect(problems, _load_oncall, root / "oncall.yaml")
    paths = sorted((root / "slos").glob("*.yaml"))
    if not paths:
        problems.append(f"{root / 'slos'}: no SLO spec (*.yaml) found")
    by_name = {m.name: m for m in metrics} if metrics is not None else None
    teams = set(oncall.team_by_name) if oncall is not None else None
    slos = [_collect(problems, _load_slo, path, by_name, teams) for path in paths]
    if problems:
        raise ObservabilityError(str(root), problems)
    return Catalogue(slos=tuple(slos), oncall=oncall, metrics=metrics)  # type: ignore[arg-type]


class _MetricList(_Strict):
    metrics: tuple[MetricSpec, ...] = Field(min_length=1)
