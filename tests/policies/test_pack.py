"""The pack's layout and catalogue: one package, METADATA on every rule, the analyzer's rule names."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.policy.pack import PACK_DIR, PolicyPackError, classify, load_pack

GOOD_RULE = """package opshub

import rego.v1

# METADATA
# title: Something is forbidden
# description: Because.
# custom:
#   id: OPS-TEST-001
#   severity: low
#   remediation: Stop.
deny_something contains "x" if input.bad
"""


def write_pack(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_pack_is_a_native_opa_pack() -> None:
    pack = load_pack()
    assert "runtime: opa" in (PACK_DIR / "PulumiPolicy.yaml").read_text()
    assert pack.package == "opshub"
    assert all("import rego.v1" in text for text in pack.modules.values()), "every module is Rego v1"
    assert len(pack.rules) >= 29
    areas = {r.id.split("-")[1] for r in pack.rules}
    assert areas == {"AUTH", "PG", "AWS", "OBS", "XC", "VEND", "STOR", "MET"}


def test_one_check_per_file() -> None:
    per_file: dict[str, list[str]] = {}
    for rule in load_pack().rules:
        per_file.setdefault(rule.path, []).append(rule.id)
    assert all(len(ids) == 1 for ids in per_file.values()), per_file


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("deny", ("mandatory", "resource")),
        ("violation_x", ("mandatory", "resource")),
        ("warn_y", ("advisory", "resource")),
        ("stack_deny_z", ("mandatory", "stack")),
        ("stack_warn", ("advisory", "stack")),
        ("denyx", None),
        ("is_secret_value", None),
    ],
)
def test_rule_names_classify_as_the_analyzer_does(name: str, expected: tuple | None) -> None:
    assert classify(name) == expected


def test_a_good_pack_loads(tmp_path: Path) -> None:
    (rule,) = load_pack(write_pack(tmp_path, **{"a.rego": GOOD_RULE})).rules
    assert (rule.id, rule.severity, rule.enforcement, rule.line) == ("OPS-TEST-001", "low", "mandatory", 12)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.rego": GOOD_RULE.replace("#   id: OPS-TEST-001\n", "")}, "METADATA lacks id"),
        ({"a.rego": GOOD_RULE.replace("OPS-TEST-001", "AUTH-1")}, "must have the form OPS-<AREA>-<NNN>"),
        ({"a.rego": GOOD_RULE.replace("severity: low", "severity: scary")}, "severity 'scary'"),
        ({"a.rego": GOOD_RULE, "b.rego": "package other\n\nimport rego.v1\n"}, "one package"),
        ({"a.rego": GOOD_RULE + '\nwarn_other contains "y" if input.meh\n'}, "rule 'warn_other' has no METADATA"),
        ({"a.rego": GOOD_RULE, "b.rego": GOOD_RULE.replace("deny_something", "deny_twice")}, "OPS-TEST-001 is used more than once"),
        ({"a.rego": GOOD_RULE.replace("deny_something contains", "stack_deny_something contains")}, "findings set 'something' is not defined"),
        ({"a.rego": GOOD_RULE.replace("# title: Something is forbidden", "# title: [unclosed")}, "METADATA is not valid YAML"),
    ],
    ids=["no-id", "bad-id", "bad-severity", "two-packages", "no-metadata", "duplicate-id", "stack-without-findings", "bad-yaml"],
)
def test_a_malformed_pack_is_refused_with_every_problem(files: dict, expected: str, tmp_path: Path) -> None:
    with pytest.raises(PolicyPackError, match=expected):
        load_pack(write_pack(tmp_path, **files))


def test_check_files_are_named_for_what_they_forbid() -> None:
    misnamed = [r.path for r in load_pack().rules if not Path(r.path).name.startswith("no_")]
    assert not misnamed, f"name check files no_<what they forbid>.rego: {misnamed}"


@pytest.mark.parametrize(
    ("construct", "why"),
    [
        ("rego.metadata", "regorus does not implement rego.metadata; infra/policy/pack.py reads METADATA from the source"),
    ],
)
def test_the_pack_avoids_constructs_an_engine_misreads(construct: str, why: str) -> None:
    """See docs/adr/0002-policy-engine.md; comments may mention them, code may not."""
    offenders = [
        f"{path}:{number}"
        for path, text in load_pack().modules.items()
        for number, line in enumerate(text.splitlines(), 1)
        if construct in line.split("#", 1)[0]
    ]
    assert not offenders, f"{construct} at {offenders}: {why}"
