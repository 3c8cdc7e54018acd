"""Policy checks without the OPA binary: the pack's Rego evaluated in-process (or on an OPA server)."""
