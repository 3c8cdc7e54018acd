"""The approved-assignments file: the committed one loads; each kind of bad entry is named."""

from __future__ import annotations

import pytest

from infra.model.assignments import AssignmentsError, load_assignments, parse_assignments

GOOD = {"user": "auth0|6553a1f0c2d4e1a9b7f3c2aa", "role": "ops-viewer", "approver": "auth0|6553a1f0c2d4e1a9b7f3c2bb", "approved": "2026-07-01", "expires": "2027-01-31"}


def test_committed_assignments_name_only_model_roles(access_model) -> None:
    assignments = load_assignments(access_model)

    assert assignments.assignments, "the file approves nobody"
    assert {a.role for a in assignments.assignments} <= set(access_model.role_by_name)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"role": "ops-root"}, "unknown role 'ops-root'"),
        ({"role": "ops-veiwer"}, "unknown role 'ops-veiwer' (did you mean 'ops-viewer'?)"),
        ({"approved": "2027-02-01"}, "expires 2027-01-31 before it was approved (2027-02-01)"),
        ({"approved": None}, "assignments[0].approved"),
        ({"user": "alice@example.com"}, "assignments[0].user: Value error, must be an Auth0 user id"),
        ({"user": "auth0|"}, "must be an Auth0 user id"),
        ({"approver": GOOD["user"]}, "approved by the user themself"),
        ({"expires": "next year"}, "assignments[0].expires"),
        ({"reason": "extra"}, "Extra inputs are not permitted"),
    ],
    ids=["unknown-role", "misspelt-role", "expires-before-approval", "no-approval-date", "email-not-user-id", "empty-id", "self-approval", "bad-date", "unknown-key"],
)
def test_a_bad_entry_is_named(access_model, change: dict, expected: str) -> None:
    with pytest.raises(AssignmentsError) as caught:
        parse_assignments({"assignments": [GOOD | change]}, access_model, "assignments.yaml")

    assert expected in caught.value.render(), caught.value.render()


def test_duplicates_and_sod_combinations_are_refused_together(access_model) -> None:
    auditor = GOOD | {"role": "ops-auditor"}
    payments = GOOD | {"role": "ops-payments"}

    with pytest.raises(AssignmentsError) as caught:
        parse_assignments({"assignments": [GOOD, GOOD, auditor, payments]}, access_model)

    problems = caught.value.problems
    assert any("listed more than once" in p for p in problems), problems
    assert any("together hold 'payments:refund' and 'audit:export'" in p for p in problems), problems


def test_a_broken_file_fails_the_plan_with_exit_2(tmp_path, access_model, monkeypatch, capsys) -> None:
    from infra import inputs
    from infra.cli.main import main

    broken = tmp_path / "assignments.yaml"
    broken.write_text("assignments:\n  - {user: bob, role: ops-viewer, approver: 'auth0|x', approved: 2026-01-01, expires: 2027-01-01}\n")
    monkeypatch.setattr(inputs, "ASSIGNMENTS_PATH", broken)

    assert main(["plan", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(broken) in err and "assignments[0].user" in err, err
