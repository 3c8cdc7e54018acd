"""The typed engineering metrics catalogue: infra/model/metrics.yaml.

Every problem is reported at once as a `MetricsCatalogueError` naming the key
(`metrics[3] (lead_time).owner: ...`), and the CLI exits 2; the computations
(infra/metrics/) may then trust it. `render_metrics_doc` writes docs/metrics.md,
the page the owners sign off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from infra.errors import UsageError, describe_validation_error
from infra.markdown import cell, table
from infra.yamlio import load_yaml_mapping

DEFAULT_CATALOGUE_PATH = Path(__file__).with_name("metrics.yaml")
WINDOW_DAYS = (7, 28, 90)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
METRIC_NAME = r"^[a-z][a-z0-9_]*$"
REPO_NAME = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
PAGERDUTY_ID = r"^P[A-Z0-9]{6}$"

Family = Literal["flow", "quality", "sustainability"]
Aggregation = Literal[
    "rate_per_week", "median_p90", "ratio", "count", "count_at_as_of", "count_by_team_and_hour_class", "team_median_max"
]


class MetricsCatalogueError(UsageError):
    """The metrics catalogue breaks a schema rule or an invariant."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z-]*$")
    title: str = Field(min_length=1)


class Validation(_Strict):
    """The double-entry period: reconcile runs daily from `start` for `days` days."""

    start: dt.date
    days: int = Field(default=14, ge=1, le=90)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)


class Publication(_Strict):
    schedule: str = Field(pattern=r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$")
    freshness_hours: int = Field(ge=25, le=72)
    read_permission: str = Field(pattern=r"^[a-z]+:[a-z]+$")


def check_deploy_source(value: str) -> str:
    if value != "deployments" and not re.fullmatch(r"workflow:[A-Za-z0-9_.-]+\.ya?ml", value):
        msg = "must be `deployments` or `workflow:<file>.yml`"
        raise ValueError(msg)
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        msg = f"not a valid regular expression: {exc}"
        raise ValueError(msg) from None
    return value


class GitHubSource(_Strict):
    repos: tuple[str, ...] = Field(min_length=1)
    production_environment: str = Field(min_length=1)
    deploy_source: Annotated[str, AfterValidator(check_deploy_source)] = "deployments"
    read_margin_days: int = Field(ge=0, le=180)
    bug_labels: tuple[str, ...] = Field(min_length=1)
    hotfix_branch_prefixes: tuple[str, ...] = ()
    hotfix_labels: tuple[str, ...] = ()
    revert_title_pattern: Annotated[str, AfterValidator(_regex)]

    @field_validator("repos")
    @classmethod
    def _repo_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [r for r in value if not re.fullmatch(REPO_NAME, r)]
        if bad:
            msg = f"repositories must be OWNER/NAME, found {bad}"
            raise ValueError(msg)
        return value


class PagerDutyService(_Strict):
    id: str = Field(pattern=PAGERDUTY_ID)
    team: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")


class PagerDutySource(_Strict):
    services: tuple[PagerDutyService, ...] = Field(min_length=1)
    explicit_deployment_pattern: str

    @field_validator("explicit_deployment_pattern")
    @classmethod
    def _named_id_group(cls, value: str) -> str:
        if "id" not in re.compile(_regex(value)).groupindex:
            msg = "must have a named group (?P<id>...) capturing the deployment id"
            raise ValueError(msg)
        return value


class Sources(_Strict):
    github: GitHubSource
    pagerduty: PagerDutySource


class BusinessHours(_Strict):
    weekdays: tuple[Literal[WEEKDAYS], ...] = Field(min_length=1)  # type: ignore[valid-type]
    start: int = Field(ge=0, le=23)
    end: int = Field(ge=1, le=24)


class SleepHours(_Strict):
    start: int = Field(ge=0, le=23)
    end: int = Field(ge=0, le=23)


class HourClasses(_Strict):
    business: BusinessHours
    sleep: SleepHours


class Tolerance(_Strict):
    """A manual figure matches when |manual - automated| <= absolute + relative * |automated|."""

    absolute: float = Field(ge=0)
    relative: float = Field(ge=0, le=1)

    def allows(self, manual: float, automated: float) -> bool:
        return abs(manual - automated) <= self.absolute + self.relative * abs(automated) + 1e-9


class Metric(_Strict):
    name: str = Field(pattern=METRIC_NAME)
    title: str = Field(min_length=1)
    family: Family
    unit: str = Field(min_length=1)
    aggregation: Aggregation
    owner: str
    formula: str = Field(min_length=1)
    edge_rules: tuple[str, ...] = ()
    source_fields: tuple[str, ...] = Field(min_length=1)
    tolerance: Tolerance
    windows: tuple[int, ...] = WINDOW_DAYS
    # Set once reconcile has passed for this metric on every day of the validation period.
    validated_on: dt.date | None = None


class MetricsCatalogue(_Strict):
    owners: tuple[Owner, ...] = Field(min_length=1)
    conventions: tuple[str, ...] = Field(min_length=1)
    validation: Validation
    publication: Publication
    sources: Sources
    hour_classes: HourClasses
    metrics: tuple[Metric, ...] = Field(min_length=1)

    @cached_property
    def metric_by_name(self) -> dict[str, Metric]:
        return {m.name: m for m in self.metrics}

    @cached_property
    def owner_by_key(self) -> dict[str, Owner]:
        return {o.key: o for o in self.owners}

    def validation_state(self, metric: Metric, as_of: dt.datetime) -> Literal["validating", "validated"]:
        """The metric is validated from the day its reconcile was recorded as passed, validating before."""
        return "validated" if metric.validated_on is not None and metric.validated_on <= as_of.date() else "validating"


def _duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({n for n in names if n in seen or seen.add(n)})


def validate_catalogue(catalogue: MetricsCatalogue, permissions: frozenset[str] | None = None) -> list[str]:
    """Invariants a schema cannot express; `permissions` (the access model's) checks the read permission."""
    problems = [f"metric {n!r}: declared more than once" for n in _duplicates([m.name for m in catalogue.metrics])]
    problems += [f"owner {k!r}: declared more than once" for k in _duplicates([o.key for o in catalogue.owners])]
    for metric in catalogue.metrics:
        where = f"metric {metric.name!r}"
        if metric.owner not in catalogue.owner_by_key:
            problems.append(f"{where}: owner {metric.owner!r} is not declared under owners")
        if tuple(sorted(metric.windows)) != WINDOW_DAYS:
            problems.append(f"{where}: windows must be {list(WINDOW_DAYS)} (every snapshot carries all three)")
        if metric.validated_on is not None and metric.validated_on < catalogue.validation.end:
            problems.append(
                f"{where}: validated_on {metric.validated_on} is before the validation period ends"
                f" ({catalogue.validation.end}); reconcile must pass on every day of the period first"
            )
    repos = catalogue.sources.github.repos
    problems += [f"sources.github.repos: {r!r} listed more than once" for r in _duplicates(list(repos))]
    services = [s.id for s in catalogue.sources.pagerduty.services]
    problems += [f"sources.pagerduty.services: {s!r} listed more than once" for s in _duplicates(services)]
    sleep, business = catalogue.hour_classes.sleep, catalogue.hour_classes.business
    if business.start >= business.end:
        problems.append(f"hour_classes.business: start {business.start} must be before end {business.end}")
    if sleep.start == sleep.end:
        problems.append("hour_classes.sleep: start and end are equal, so it is empty or the whole day")
    if permissions is not None and catalogue.publication.read_permission not in permissions:
        problems.append(
            f"publication.read_permission: {catalogue.publication.read_permission!r} is not a permission of the access model"
        )
    return problems


def parse_catalogue(data: object, source: str = "metrics catalogue", permissions: frozenset[str] | None = None) -> MetricsCatalogue:
    try:
        catalogue = MetricsCatalogue.model_validate(data)
    except ValidationError as exc:
        raise MetricsCatalogueError(source, describe_validation_error(exc, data)) from None
    problems = validate_catalogue(catalogue, permissions)
    if problems:
        raise MetricsCatalogueError(source, problems)
    return catalogue


def load_catalogue(path: Path = DEFAULT_CATALOGUE_PATH, permissions: frozenset[str] | None = None) -> MetricsCatalogue:
    return parse_catalogue(load_yaml_mapping(path, MetricsCatalogueError), str(path), permissions)


def catalogue_digest(path: Path = DEFAULT_CATALOGUE_PATH) -> str:
    """sha256 of the catalogue file: snapshots name the exact formulas they were computed with."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- docs/metrics.md ------------------------------------------------------------


def render_metrics_doc(catalogue: MetricsCatalogue) -> str:
    """The catalogue as the page owners sign off: conventions, one section per family, tolerances."""
    gh, pd = catalogue.sources.github, catalogue.sources.pagerduty
    lines = [
        "# Engineering metrics",
        "",
        "Flow, quality and sustainability metrics computed daily from GitHub and PagerDuty into a JSON snapshot",
        "(`opshub metrics snapshot`, schema `infra/metrics/snapshot.schema.json`), published to S3 and",
        "`ops_metrics.snapshots` and shown on the Grafana dashboard \"Engineering metrics\". How to run,",
        "back-fill and reconcile: [runbook](runbook.md#engineering-metrics).",
        "",
        "## Conventions",
        "",
        *[f"- {cell(c)}" for c in catalogue.conventions],
        "",
        "## Sources",
        "",
        f"- GitHub repositories: {', '.join(f'`{r}`' for r in gh.repos)}; deployments from `{gh.deploy_source}`"
        f" to `{gh.production_environment}`; pull requests read back {gh.read_margin_days} days before the 90-day window.",
        f"- Bugs carry a label in {', '.join(f'`{b}`' for b in gh.bug_labels)}; hotfixes a branch prefix in"
        f" {', '.join(f'`{p}`' for p in gh.hotfix_branch_prefixes) or 'none'} or a label in"
        f" {', '.join(f'`{h}`' for h in gh.hotfix_labels) or 'none'}; reverts match `{cell(gh.revert_title_pattern)}`.",
        f"- PagerDuty services: {', '.join(f'`{s.id}` (team `{s.team}`)' for s in pd.services)}; an incident names"
        f" a deployment explicitly when its title matches `{cell(pd.explicit_deployment_pattern)}`.",
        f"- Hour classes: business {catalogue.hour_classes.business.start:02d}-{catalogue.hour_classes.business.end:02d}"
        f" on {', '.join(catalogue.hour_classes.business.weekdays)}; sleep {catalogue.hour_classes.sleep.start:02d}"
        f"-{catalogue.hour_classes.sleep.end:02d} every day (wins over the others); off-hours is the rest.",
        f"- Published daily (`{catalogue.publication.schedule}`, UTC); no good snapshot for"
        f" {catalogue.publication.freshness_hours} h opens a ticket; readable by holders of"
        f" `{catalogue.publication.read_permission}`.",
        "",
        "## Validation",
        "",
        f"Figures are entered by hand and compared with `opshub metrics reconcile` every day from"
        f" {catalogue.validation.start} for {catalogue.validation.days} days. A metric is marked \"validating\"",
        "until its `validated_on` date is recorded in the catalogue.",
        "",
    ]
    lines += table(
        ["metric", "owner", "tolerance (absolute + relative)", "state"],
        [
            [f"`{m.name}`", catalogue.owner_by_key[m.owner].title, f"{m.tolerance.absolute:g} + {m.tolerance.relative:.0%}",
             f"validated on {m.validated_on}" if m.validated_on else "validating"]
            for m in catalogue.metrics
        ],
    )
    for family in ("flow", "quality", "sustainability"):
        lines += ["", f"## {family.capitalize()}", ""]
        for m in (m for m in catalogue.metrics if m.family == family):
            lines += [
                f"### {m.title} (`{m.name}`)",
                "",
                f"- **Formula:** {cell(m.formula)}",
                f"- **Unit:** {m.unit}; **aggregation:** `{m.aggregation}`; **windows:** {', '.join(f'{d} days' for d in m.windows)}",
                f"- **Owner:** {catalogue.owner_by_key[m.owner].title}",
                f"- **Source fields:** {cell('; '.join(m.source_fields))}",
            ]
            lines += [f"- **Edge rule:** {cell(rule)}" for rule in m.edge_rules]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
