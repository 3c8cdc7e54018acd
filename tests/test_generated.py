"""Every generated file in the repo is what its generator produces now."""

from infra.generated import GENERATORS, stale


def test_generated_files_are_current() -> None:
    assert GENERATORS, "no generated files are registered"
    assert stale() == [], "generated files are stale; run `.venv/bin/opshub docs` and commit the result"
