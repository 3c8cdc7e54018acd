"""Entry point for the Pulumi CLI (`main: infra/` in Pulumi.yaml)."""

from infra.program import run_for_pulumi

run_for_pulumi()
