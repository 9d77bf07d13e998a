"""The real `sentry-cli` (PyPI's binary) against a running Shoal, on issues a real sentry-sdk made:
`issues list` shows the issue as `GET /api/0/projects/{org}/{project}/issues/` lists it,
`issues resolve`, `issues mute` and `issues unresolve` change its state as the issue page shows it,
and `send-event -m` (the store endpoint) arrives as an event.

sentry-cli is configured only through its environment (SENTRY_URL, SENTRY_AUTH_TOKEN, SENTRY_ORG,
SENTRY_PROJECT, SENTRY_DSN), with a HOME of its own so no ~/.sentryclirc is read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.client import Api, create_token, items, record
from tests.support.server import RunningShoal, start_shoal
from tests.support.ui_issues import issue_of_event, issue_state
from tests.support.web_client import WebClient

SENTRY_CLI = Path(sys.executable).parent / "sentry-cli"
ISSUES = "projects/default/my-project/issues/"

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], release="shop@2.0.0")
    sentry_sdk.set_user({"id": "7", "email": "buyer@example.com"})

    def fail(label):
        raise LookupError(f"no stock for {label}")

    label = sys.argv[2]
    # Its own issue for each label: the frames alone would group every label's error together.
    sentry_sdk.get_current_scope().fingerprint = ["{{ default }}", label]
    for _ in range(int(sys.argv[3])):
        try:
            fail(label)
        except LookupError:
            print(sentry_sdk.capture_exception())
    sentry_sdk.flush(timeout=10)
    """
)


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    """One server for the module: each test raises an error of its own, so issues are not shared."""
    server = start_shoal(tmp_path_factory.mktemp("sentry-cli-issues") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(shoal: RunningShoal) -> str:
    return create_token(shoal, "--label", "sentry-cli")


def cli(shoal: RunningShoal, token: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "SENTRY_URL": shoal.url,
        "SENTRY_AUTH_TOKEN": token,
        "SENTRY_ORG": "default",
        "SENTRY_PROJECT": "my-project",
        "SENTRY_DSN": shoal.dsn,
        "SENTRY_DISABLE_UPDATE_CHECK": "1",
    }
    done = subprocess.run(
        [str(SENTRY_CLI), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"sentry-cli {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def raise_with_sdk(shoal: RunningShoal, times: int = 1) -> int:
    """The real sentry-sdk raises a LookupError of a label no other test uses, `times` times; the
    issue's id once its events are stored."""
    label = uuid.uuid4().hex[:8]
    sent = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, shoal.dsn, label, str(times)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sent.returncode == 0, sent.stderr
    event_ids = sent.stdout.split()
    assert len(event_ids) == times
    for event_id in event_ids:
        shoal.wait_for_event(event_id)
    return issue_of_event(shoal, event_ids[0])


def status_badge(shoal: RunningShoal, issue_id: int) -> str:
    web = WebClient(shoal)
    web.log_in()
    match = re.search(r'id="status-badge">([^<]+)<', web.get(f"/issues/{issue_id}/"))
    assert match, "the issue page has no status badge"
    return match[1]


def test_issues_list_shows_the_sdks_issue_as_the_api_lists_it(
    shoal: RunningShoal, token: str, tmp_path: Path
) -> None:
    issue_id = raise_with_sdk(shoal, times=3)
    listed = {entry["id"]: entry for entry in items(Api(shoal, token).get(ISSUES))}
    issue = listed[str(issue_id)]
    assert (issue["count"], issue["userCount"]) == ("3", 1)
    assert issue["title"].startswith("LookupError: no stock for ")
    assert issue["shortId"].startswith("MY-PROJECT-")

    shown = cli(shoal, token, tmp_path, "issues", "list").stdout
    row = next(line for line in shown.splitlines() if f" {issue['shortId']} " in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells == [
        str(issue_id),
        issue["shortId"],
        issue["title"],
        issue["lastSeen"],
        "unresolved",
        "error",
    ]


def test_issues_resolve_resolves_the_issue_as_its_page_shows(
    shoal: RunningShoal, token: str, tmp_path: Path
) -> None:
    issue_id = raise_with_sdk(shoal)
    assert status_badge(shoal, issue_id).startswith("Unresolved")

    said = cli(shoal, token, tmp_path, "issues", "resolve", "-i", str(issue_id)).stdout
    assert "new status: resolved" in said
    assert issue_state(shoal, issue_id)[0] == "resolved"
    assert status_badge(shoal, issue_id) == "Resolved"
    activity = record(Api(shoal, token).get(f"issues/{issue_id}/"))["activity"]
    newest = activity[0]
    assert (newest["type"], newest["user"]["email"]) == ("set_resolved", "admin@example.com")


def test_issues_mute_ignores_the_issue(shoal: RunningShoal, token: str, tmp_path: Path) -> None:
    issue_id = raise_with_sdk(shoal)
    # sentry-cli still says "muted", Sentry's old word for ignored (protocol.md §7).
    assert "new status: muted" in cli(shoal, token, tmp_path, "issues", "mute", "-i", str(issue_id)).stdout
    assert issue_state(shoal, issue_id) == ("ignored", "archived_forever")
    assert status_badge(shoal, issue_id) == "Ignored"


def test_issues_unresolve_brings_a_resolved_issue_back(
    shoal: RunningShoal, token: str, tmp_path: Path
) -> None:
    issue_id = raise_with_sdk(shoal)
    cli(shoal, token, tmp_path, "issues", "resolve", "-i", str(issue_id))
    assert issue_state(shoal, issue_id)[0] == "resolved"

    cli(shoal, token, tmp_path, "issues", "unresolve", "-i", str(issue_id))
    assert issue_state(shoal, issue_id) == ("unresolved", "ongoing")
    assert status_badge(shoal, issue_id) == "Unresolved · ongoing"


def test_resolving_twice_writes_one_activity_entry(shoal: RunningShoal, token: str, tmp_path: Path) -> None:
    issue_id = raise_with_sdk(shoal)
    for _ in range(2):
        cli(shoal, token, tmp_path, "issues", "resolve", "-i", str(issue_id))
    activity = record(Api(shoal, token).get(f"issues/{issue_id}/"))["activity"]
    assert [entry["type"] for entry in activity] == ["set_resolved", "first_seen"]


def test_send_event_arrives_through_the_store_endpoint(
    shoal: RunningShoal, token: str, tmp_path: Path
) -> None:
    said = cli(shoal, token, tmp_path, "send-event", "-m", "hello from sentry-cli", "-t", "via:cli").stdout
    match = re.search(r"Event id: ([0-9a-f-]{36})", said)
    assert match, said
    event_id = match[1].replace("-", "")
    shoal.wait_for_event(event_id)

    api = Api(shoal, token)
    found = record(api.get(f"organizations/default/eventids/{event_id}/"))
    assert (found["organizationSlug"], found["projectSlug"]) == ("default", "my-project")
    assert found["event"]["message"] == "hello from sentry-cli"
    assert {"key": "via", "value": "cli"} in found["event"]["tags"]
    issue = record(api.get(f"issues/{found['groupId']}/"))
    assert issue["title"] == "hello from sentry-cli"


def test_an_organization_token_alone_is_enough_for_issues_list(shoal: RunningShoal, tmp_path: Path) -> None:
    """An organization token carries Shoal's URL and the organization: sentry-cli needs nothing
    else but the project."""
    issue_id = raise_with_sdk(shoal)
    org_token = create_token(shoal, "--org", "default")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SENTRY_AUTH_TOKEN": org_token,
        "SENTRY_DISABLE_UPDATE_CHECK": "1",
    }
    done = subprocess.run(
        [str(SENTRY_CLI), "issues", "list", "-p", "my-project"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(rf"^\| {issue_id} +\| MY-PROJECT-", done.stdout, re.MULTILINE), done.stdout
