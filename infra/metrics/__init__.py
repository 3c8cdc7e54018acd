"""Engineering metrics: collectors (GitHub, PagerDuty), pure computations, the snapshot and reconcile.

Data flows one way: `github` and `pagerduty` read the APIs through `http` into the
records of `records` (with a `SourceReport` of what was read and skipped);
`compute` turns records into per-item rows and per-window aggregates using the
catalogue (infra/model/metrics.py); `snapshot` renders and validates the JSON
document; `publish` writes it to S3 and ops_metrics; `reconcile` compares it with
figures entered by hand. Only `http`, `github`, `pagerduty` and `publish` do I/O.
"""
