"""Post perfci's Markdown report as a merge-request note (GitLab) or a pull-request comment (GitHub).

    python3 examples/ci/post_report.py perfci-report.md

Nothing is posted when the report is empty (nothing changed). Which service is read from the
environment the CI sets:
- GitLab: CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, and PERFCI_GITLAB_TOKEN (a project
  access token with the api scope);
- GitHub: GITHUB_API_URL, GITHUB_REPOSITORY, PERFCI_PR_NUMBER, and GITHUB_TOKEN.
Exit 0 when posted or nothing to post; 2 when the environment names neither; 3 when the service
refused or could not be reached (the report stays in the job log and artifacts).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path


def target() -> tuple[str, dict[str, str]] | None:
    env = os.environ
    if env.get("CI_MERGE_REQUEST_IID") and env.get("CI_API_V4_URL"):
        project, merge_request = env["CI_PROJECT_ID"], env["CI_MERGE_REQUEST_IID"]
        url = f"{env['CI_API_V4_URL']}/projects/{project}/merge_requests/{merge_request}/notes"
        return url, {"PRIVATE-TOKEN": env.get("PERFCI_GITLAB_TOKEN", "")}
    if env.get("PERFCI_PR_NUMBER") and env.get("GITHUB_REPOSITORY"):
        api = env.get("GITHUB_API_URL", "https://api.github.com")
        url = f"{api}/repos/{env['GITHUB_REPOSITORY']}/issues/{env['PERFCI_PR_NUMBER']}/comments"
        return url, {"Authorization": f"Bearer {env.get('GITHUB_TOKEN', '')}", "Accept": "application/vnd.github+json"}
    return None


def main() -> int:
    report = Path(sys.argv[1] if len(sys.argv) > 1 else "perfci-report.md")
    text = report.read_text() if report.exists() else ""
    if not text.strip():
        print("perfci: nothing changed, no comment posted")
        return 0
    where = target()
    if where is None:
        print(
            "perfci: set CI_MERGE_REQUEST_IID (GitLab) or PERFCI_PR_NUMBER (GitHub) to post the report", file=sys.stderr
        )
        return 2
    url, headers = where
    request = urllib.request.Request(
        url, json.dumps({"body": text}).encode(), {"Content-Type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            print(f"perfci: report posted ({answer.status})")
            return 0
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        print(f"perfci: could not post the report to {url}: {error}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
