"""Entry point for the Pulumi CLI (`main: infra/` in Pulumi.yaml)."""

from infra.program import main

main()
