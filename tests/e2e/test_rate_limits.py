"""Quotas and rate limits that a real SDK obeys: a key limited to 10 events a minute, a monthly error
quota of 5, and an envelope only partly over a quota, against `shoal run` on SQLite and PostgreSQL;
and two `shoal run` on one PostgreSQL sharing a quota through the store.

The SDK runs in its own process with its own HTTP transport; the subclass below only prints each
answer it gets (status, headers, which items it carried) so the test can line them up with what the
server stored and counted."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, select

from shoal.store import projects, quotas
from shoal.store.db import write_transaction
from shoal.store.projects import RateLimit
from shoal.store.quota_usage import current_key, usage, window_bounds
from shoal.store.schema import event, outcome_counter
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal, start_shoal, wait_until

SDK_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import sentry_sdk
    from sentry_sdk.transport import HttpTransport

    class RecordingTransport(HttpTransport):
        def _handle_response(self, response, envelope):
            print(json.dumps({
                "at": time.time(),
                "status": response.status,
                "retry_after": response.headers.get("retry-after"),
                "rate_limits": response.headers.get("x-sentry-rate-limits"),
                "items": [item.type for item in envelope.items] if envelope else [],
            }), flush=True)
            super()._handle_response(response, envelope)

    sentry_sdk.init(dsn=sys.argv[1], transport=RecordingTransport)
    started = time.time()
    sent = 0
    # As fast as the SDK's queue of 100 takes them, for about 3 seconds.
    while time.time() < started + 3 and sent < 600:
        sentry_sdk.capture_message(f"burst {sent}")
        sent += 1
        time.sleep(0.005)
    sentry_sdk.flush(timeout=10)
    print(json.dumps({"sent": sent, "started": started, "ended": time.time()}), flush=True)
    """
)
LIMIT = 10
WINDOW = 60
# The SDK's run (a few seconds) must fit in one window of the key, so that "nothing was sent until
# Retry-After" can be told from the counts alone.
MARGIN = 20


def limited_key(shoal: RunningShoal) -> projects.ProjectKey:
    """A new key limited to 10 events a minute whose current window has at least MARGIN seconds
    left. Key windows are shifted by the key's id (Sentry's way), so the next key's window ends a
    second later: a few keys at most."""
    while True:
        with write_transaction(shoal.engine) as conn:
            key = projects.add_key(conn, shoal.project_id, "limited")
            projects.set_key_rate_limit(conn, key.id, RateLimit(LIMIT, WINDOW))
        _, end = window_bounds(f"{WINDOW}s", key.id, time.time())
        if end - time.time() >= MARGIN:
            return key


def run_sdk(dsn: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, dsn], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    # The summary is printed after flush(); a client report sent at exit would print after it.
    (summary,) = [line for line in lines if "sent" in line]
    return [line for line in lines if "sent" not in line], summary


def outcome_rows(engine: Engine, project_id: int) -> dict[tuple[str, str, str, int], int]:
    with engine.connect() as conn:
        rows = conn.execute(select(outcome_counter).where(outcome_counter.c.project_id == project_id))
        return {(r.outcome, r.reason, r.category, r.key_id): int(r.quantity) for r in rows}


def stored_events(engine: Engine, project_id: int) -> list[tuple[str, float]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(event.c.event_id, event.c.received).where(event.c.project_id == project_id)
        )
        return [(row.event_id, row.received) for row in rows]


def test_a_key_limited_to_10_a_minute_gets_a_429_and_the_sdk_stops_sending_until_retry_after(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    key = limited_key(shoal)

    answers, summary = run_sdk(projects.dsn(shoal.url, key.public_key, shoal.project_id))

    events = [a for a in answers if "event" in a["items"]]
    assert [a["status"] for a in events[:LIMIT]] == [200] * LIMIT
    assert all(a["rate_limits"] is None for a in events[:LIMIT])
    refused = events[LIMIT]
    assert refused["status"] == 429
    retry_after = int(refused["retry_after"])
    assert 1 <= retry_after <= WINDOW
    assert refused["rate_limits"] == f"{retry_after}:default;error;security:key:key_quota"
    # Everything the SDK sent fell inside the limit's Retry-After, and after the 429 it sent no
    # event: only its client reports (which no limit applies to), still told about the limit.
    assert summary["ended"] < refused["at"] + retry_after
    after = answers[answers.index(refused) + 1 :]
    assert all(a["items"] == ["client_report"] and a["status"] == 200 for a in after)
    assert all(a["rate_limits"] and a["rate_limits"].endswith(":key:key_quota") for a in after)

    # What the server saw says the same: 10 events stored, 1 refused, the rest dropped by the SDK.
    shoal.wait_for_events(LIMIT)
    wait_until(
        lambda: (
            outcome_rows(shoal.engine, shoal.project_id).get(("rate_limited", "key_quota", "error", key.id))
            == 1
        ),
        30,
        "the refused event counted as rate_limited:key_quota",
    )
    wait_until(
        lambda: (
            sum(
                n
                for (outcome, _, category, _), n in outcome_rows(shoal.engine, shoal.project_id).items()
                if category == "error" and outcome in ("accepted", "rate_limited", "client_discard")
            )
            == summary["sent"]
        ),
        30,
        "every event the SDK made accounted for",
    )
    counts = outcome_rows(shoal.engine, shoal.project_id)
    assert counts[("accepted", "", "error", key.id)] == LIMIT
    # The SDK's own report of what it held back (with the key, or 0 where the digest records none).
    assert sum(n for k, n in counts.items() if k[:3] == ("client_discard", "ratelimit_backoff", "error")) >= 1
    assert len(stored_events(shoal.engine, shoal.project_id)) == LIMIT


def send_event(shoal: RunningShoal, public_key: str) -> tuple[str, Any]:
    event_id = uuid.uuid4().hex
    body = event_envelope({"message": "order failed", "platform": "python"}, event_id)
    return event_id, post(envelope_url(shoal.url, shoal.project_id), body, auth_header(public_key))


def test_a_monthly_error_quota_of_5_refuses_the_6th_with_scope_organization(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    with write_transaction(shoal.engine) as conn:
        organization_id = projects.get_project(conn, shoal.project_id).organization_id  # type: ignore[union-attr]
        quotas.set_quota(conn, organization_id, None, category="error", window="month", limit=5)

    answers = [send_event(shoal, shoal.public_key) for _ in range(6)]

    assert [reply.status for _, reply in answers] == [200] * 5 + [429]
    refused = answers[5][1]
    _, month_end = window_bounds("month", organization_id, time.time())
    retry_after = int(refused.headers["retry-after"])
    assert month_end - time.time() - 5 <= retry_after <= month_end - time.time() + 1
    assert (
        refused.headers["x-sentry-rate-limits"]
        == f"{retry_after}:default;error;security:organization:org_quota"
    )
    assert "x-sentry-rate-limits" in refused.headers["access-control-expose-headers"]
    assert "retry-after" in refused.headers["access-control-expose-headers"]
    assert refused.json() == {
        "detail": f"rate limited: org_quota (organization); retry in {retry_after} seconds"
    }
    for event_id, _ in answers[:5]:
        shoal.wait_for_event(event_id)
    assert not shoal.has_event(answers[5][0])
    wait_until(
        lambda: any(
            reason == "org_quota" and n == 1
            for (_, reason, _, _), n in outcome_rows(shoal.engine, shoal.project_id).items()
        ),
        30,
        "the 6th counted as rate_limited:org_quota",
    )


def test_an_envelope_partly_over_a_quota_keeps_its_event_and_drops_its_attachment(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    with write_transaction(shoal.engine) as conn:
        quotas.set_quota(conn, 1, shoal.project_id, category="attachment", window="day", limit=0)
        key_id = projects.list_keys(conn, shoal.project_id)[0].id
    event_id = uuid.uuid4().hex
    payload = orjson.dumps({"event_id": event_id, "message": "checkout failed", "platform": "python"})
    attachment = b"order 1234 failed\n"
    body = b"\n".join(
        [
            orjson.dumps({"event_id": event_id}),
            orjson.dumps({"type": "attachment", "length": len(attachment), "filename": "order.txt"}),
            attachment,
            orjson.dumps({"type": "event", "length": len(payload)}),
            payload,
        ]
    )

    reply = post(envelope_url(shoal.url, shoal.project_id), body + b"\n", auth_header(shoal.public_key))

    assert reply.status == 200
    assert reply.json() == {"id": event_id}
    assert reply.headers["x-sentry-rate-limits"].endswith(":attachment:project:project_quota")
    assert "retry-after" not in reply.headers
    shoal.wait_for_event(event_id)
    dropped = ("rate_limited", "project_quota", "attachment", key_id)
    wait_until(
        lambda: outcome_rows(shoal.engine, shoal.project_id).get(dropped) == len(attachment),
        30,
        "the attachment's bytes counted as rate_limited:project_quota",
    )
    counts = outcome_rows(shoal.engine, shoal.project_id)
    # The attachment never reached the spool: the digest saw only the event.
    assert [k for k in counts if k[2] == "attachment"] == [dropped]
    assert counts[("accepted", "", "error", key_id)] == 1


def day_usage(shoal: RunningShoal) -> int:
    counter = current_key("project", shoal.project_id, "error", "day", time.time())
    with shoal.engine.connect() as conn:
        return usage(conn, [counter]).get(counter, 0)


def test_two_web_processes_on_one_postgresql_share_a_quota(tmp_path: Path, postgres_url: str) -> None:
    first = start_shoal(tmp_path / "first", database_url=postgres_url)
    second = start_shoal(tmp_path / "second", database_url=postgres_url)
    try:
        with write_transaction(first.engine) as conn:
            quotas.set_quota(conn, 1, first.project_id, category="error", window="day", limit=20)
            key_id = projects.list_keys(conn, first.project_id)[0].id

        assert [send_event(first, first.public_key)[1].status for _ in range(12)] == [200] * 12
        # The first process adds its counts to the store at its next flush (every 2 s).
        wait_until(lambda: day_usage(first) == 12, 30, "the first process's 12 in quota_usage")
        # The second reads the day's total when it first meets the quota: 8 are left.
        answers = [send_event(second, second.public_key)[1].status for _ in range(12)]

        assert answers == [200] * 8 + [429] * 4
        wait_until(lambda: day_usage(first) == 20, 30, "both processes' counts in quota_usage")
        first.wait_for_events(20)
        wait_until(
            lambda: (
                outcome_rows(first.engine, first.project_id).get(
                    ("rate_limited", "project_quota", "error", key_id)
                )
                == 4
            ),
            30,
            "the second process's 4 refusals counted",
        )
        assert len(stored_events(first.engine, first.project_id)) == 20
    finally:
        second.stop()
        first.stop()
