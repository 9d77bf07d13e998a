"""The real @sentry/node (pinned in tests/js/package.json), run by `node` against `shoal run` on
SQLite and PostgreSQL: thrown errors, an unhandled rejection, an uncaught exception, a message,
spans (as the SDK's default span stream and as a classic transaction) and release-health sessions.

tests/js/node_app.js is the application; it runs twice per store, once per way of sending spans, so
the test also sees two processes' events land in the same issues.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter

import pytest
from sqlalchemy import select

from shoal.store.schema import event, issue, outcome_counter
from tests.js.packages import require_node_modules
from tests.js.site import JS_DIR
from tests.support.server import RunningShoal, wait_until
from tests.support.web_client import WebClient

NODE_APP = JS_DIR / "node_app.js"
# Per run: two checkouts and a retried payment captured, a message, the rejection, the uncaught error.
EVENTS_PER_RUN = 6


@pytest.fixture(autouse=True)
def _node_modules() -> None:
    require_node_modules()


def run_node_app(dsn: str, trace_lifecycle: str) -> dict[str, list[str]]:
    """Run the app; the event ids it printed, by kind (checkout, retry, message)."""
    done = subprocess.run(
        ["node", str(NODE_APP), dsn, trace_lifecycle],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # The SDK reports the uncaught RangeError, then exits with status 1 as Node would.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "RangeError: shipping zone out of range" in done.stderr
    ids: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        printed = json.loads(line)
        ids.setdefault(printed["kind"], []).append(printed["event_id"])
    return ids


def test_node_errors_become_grouped_issues_with_stack_traces_and_spans_and_sessions_are_counted(
    shoal_on_each_store: RunningShoal,
) -> None:
    """One test per store, so `shoal run` starts once and the app runs twice: the parts below."""
    shoal = shoal_on_each_store
    runs = [run_node_app(shoal.dsn, "stream"), run_node_app(shoal.dsn, "static")]
    shoal.wait_for_events(2 * EVENTS_PER_RUN)
    check_two_throws_from_one_code_path_group_together_and_another_caller_does_not(shoal, runs)
    check_the_issue_page_shows_the_stack_trace_with_files_functions_and_lines(shoal, runs)
    check_spans_transactions_and_sessions_are_accepted_and_counted(shoal)


def issue_of_events(shoal: RunningShoal, event_ids: list[str]) -> set[int]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(select(event.c.issue_id).where(event.c.event_id.in_(event_ids)))
        return {row.issue_id for row in rows}


def line_and_column(marker: str) -> tuple[int, int]:
    """Where `marker` starts in node_app.js (1-based), which is where V8 says the error was made."""
    for number, line in enumerate(NODE_APP.read_text().splitlines(), start=1):
        if marker in line:
            return number, line.index(marker) + 1
    raise AssertionError(f"{marker!r} is not in {NODE_APP}")


def check_two_throws_from_one_code_path_group_together_and_another_caller_does_not(
    shoal: RunningShoal, runs: list[dict[str, list[str]]]
) -> None:
    checkouts = [event_id for run in runs for event_id in run["checkout"]]
    retries = [event_id for run in runs for event_id in run["retry"]]
    # Four checkouts from two processes, each message naming another order: one issue.
    [checkout_issue] = issue_of_events(shoal, checkouts)
    # The same throw reached through retryPayment: the stack differs, so it is an issue of its own.
    [retry_issue] = issue_of_events(shoal, retries)
    assert checkout_issue != retry_issue
    with shoal.engine.connect() as conn:
        issues = {row.id: row for row in conn.execute(select(issue))}
    assert issues[checkout_issue].times_seen == 4
    assert issues[retry_issue].times_seen == 2
    # Sentry's culprit for JavaScript frames: function(module).
    assert issues[checkout_issue].culprit == "chargeCard(node_app)"
    by_title = {row.title: row for row in issues.values()}
    assert by_title["TypeError: inventory service unreachable"].times_seen == 2
    assert by_title["TypeError: inventory service unreachable"].culprit == "loadInventory(node_app)"
    assert by_title["RangeError: shipping zone out of range"].level == "fatal"
    assert by_title["Inventory sync is slow"].level == "warning"
    assert len(issues) == 5


def check_the_issue_page_shows_the_stack_trace_with_files_functions_and_lines(
    shoal: RunningShoal, runs: list[dict[str, list[str]]]
) -> None:
    [checkout_issue] = issue_of_events(shoal, runs[0]["checkout"])
    client = WebClient(shoal)
    client.log_in()
    html = client.get(f"/issues/{checkout_issue}/")
    frames = re.findall(
        r'<code class="location">([^<]*)</code> in <code class="function">([^<]*)</code> at line (\d+):(\d+)',
        html,
    )
    throw_line, throw_column = line_and_column("new Error(`order")
    checkout_line, checkout_column = line_and_column("chargeCard(order);")
    # Newest first: where it was thrown, then its caller; the file's own source around each line.
    assert frames[:2] == [
        ("node_app", "chargeCard", str(throw_line), str(throw_column)),
        ("node_app", "checkout", str(checkout_line), str(checkout_column)),
    ]
    assert str(NODE_APP) in html
    assert "throw new Error(`order ${order.id} has no card`);" in html


def check_spans_transactions_and_sessions_are_accepted_and_counted(shoal: RunningShoal) -> None:
    def counted() -> Counter[str]:
        with shoal.engine.connect() as conn:
            rows = conn.execute(
                select(outcome_counter.c.category, outcome_counter.c.outcome, outcome_counter.c.quantity)
            )
            return Counter({f"{row.category}:{row.outcome}": int(row.quantity) for row in rows})

    # Outcomes are added in the digest's transaction, so they are there with the events; poll anyway
    # for the session and span envelopes, which are separate requests.
    wanted = ("error:accepted", "session:", "span:", "transaction:")

    def all_counted() -> bool:
        keys = counted()
        return all(any(key.startswith(prefix) for key in keys) for prefix in wanted)

    wait_until(all_counted, 30, "outcomes for errors, sessions, spans and the transaction")
    outcomes = counted()
    assert outcomes["error:accepted"] == 2 * EVENTS_PER_RUN
    # Nothing the SDK sent was refused or lost: what is not stored yet is counted as such.
    assert not any(key.endswith((":rate_limited", ":invalid")) for key in outcomes)
