"""Every alert's runbook_url and dashboard_url point at something that exists."""

from __future__ import annotations

import re

import dashboards
from infra.config import REPO_ROOT

RUNBOOK = REPO_ROOT / "docs" / "runbook.md"


def github_anchor(heading: str) -> str:
    """GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


def test_runbook_anchors_exist(alerting_rules: list[dict]) -> None:
    anchors = {github_anchor(line.lstrip("#")) for line in RUNBOOK.read_text().splitlines() if line.startswith("#")}
    for rule in alerting_rules:
        url = rule["annotations"]["runbook_url"]
        assert url.split("#")[0].endswith("docs/runbook.md"), url
        assert url.split("#")[1] in anchors, f"{rule['alert']}: no heading for #{url.split('#')[1]} in docs/runbook.md"


def test_dashboard_urls_name_a_deployed_dashboard(alerting_rules: list[dict]) -> None:
    uids = {module.UID for module in dashboards.MODULES}
    for rule in alerting_rules:
        uid = rule["annotations"]["dashboard_url"].rstrip("/").split("/d/")[-1]
        assert uid in uids, f"{rule['alert']}: dashboard {uid!r} is not one of {sorted(uids)}"
