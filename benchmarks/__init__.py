"""Benchmarks: each module here defines `run() -> list[Result]`; `make bench` records them all."""
