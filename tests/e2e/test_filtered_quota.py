"""Filtered events cost no quota (docs/quotas.md), with the real sentry-sdk against `shoal run` on
SQLite and PostgreSQL: a project allows 5 errors a day and filters `ConnectionResetError`; the SDK
sends 5 of those, which the digest drops and gives back to the quota, then 5 `KeyError`s, which are
all stored, none rate limited.

The SDK runs in its own process with its own HTTP transport; the subclass below only prints each
answer it gets, so the test can tell that no answer was a 429 or named a limit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from typing import Any

import orjson
from sqlalchemy import select

from shoal import outcomes
from shoal.store import projects, quotas
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.inbound_filters import FilterSettings
from shoal.store.quota_usage import current_key, usage
from shoal.store.schema import event, outcome_counter
from tests.support.http import auth_header, envelope_url, post
from tests.support.server import RunningShoal, wait_until

SDK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import sentry_sdk
    from sentry_sdk.transport import HttpTransport

    class RecordingTransport(HttpTransport):
        def _handle_response(self, response, envelope):
            print(json.dumps({
                "status": response.status,
                "rate_limits": response.headers.get("x-sentry-rate-limits"),
                "items": [item.type for item in envelope.items] if envelope else [],
            }), flush=True)
            super()._handle_response(response, envelope)

    sentry_sdk.init(dsn=sys.argv[1], transport=RecordingTransport)
    for n in range(5):
        try:
            if sys.argv[2] == "disconnects":
                raise ConnectionResetError(104, "Connection reset by peer")
            {}[f"discount-{n}"]
        except (ConnectionResetError, KeyError):
            sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    """
)
QUOTA = 5


def run_sdk(dsn: str, what: str) -> list[dict[str, Any]]:
    """The answers to the SDK's envelopes that carried an event."""
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, dsn, what], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [a for a in answers if "event" in a["items"]]


def outcome_counts(shoal: RunningShoal) -> Counter[tuple[str, str, str]]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(select(outcome_counter).where(outcome_counter.c.project_id == shoal.project_id))
        counts: Counter[tuple[str, str, str]] = Counter()
        for r in rows:
            counts[(r.category, r.outcome, r.reason)] += int(r.quantity)
        return counts


def day_usage(shoal: RunningShoal, category: str) -> int | None:
    counter = current_key("project", shoal.project_id, category, "day", time.time())
    with shoal.engine.connect() as conn:
        return usage(conn, [counter]).get(counter)


def stored_types(shoal: RunningShoal) -> Counter[str]:
    codec = PayloadCodec()
    with shoal.engine.connect() as conn:
        payloads = conn.execute(select(event.c.payload).where(event.c.project_id == shoal.project_id))
        return Counter(codec.decode(p)["exception"]["values"][-1]["type"] for (p,) in payloads)


def send_transaction(shoal: RunningShoal) -> None:
    """One transaction: counted at ingest, so the web process's next flush writes it."""
    now = time.time()
    payload = orjson.dumps(
        {
            "type": "transaction",
            "transaction": "/checkout",
            "start_timestamp": now - 0.2,
            "timestamp": now,
            "platform": "python",
            "contexts": {
                "trace": {"trace_id": uuid.uuid4().hex, "span_id": uuid.uuid4().hex[:16], "op": "http"}
            },
        }
    )
    event_id = uuid.uuid4().hex
    body = b"\n".join(
        [
            orjson.dumps({"event_id": event_id}),
            orjson.dumps({"type": "transaction", "length": len(payload)}),
            payload,
        ]
    )
    reply = post(envelope_url(shoal.url, shoal.project_id), body + b"\n", auth_header(shoal.public_key))
    assert reply.status == 200


def test_errors_an_inbound_filter_drops_are_given_back_to_the_quota(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    settings = FilterSettings.from_json("{}")
    with write_transaction(shoal.engine) as conn:
        project = projects.get_project(conn, shoal.project_id)
        assert project is not None
        quotas.set_quota(
            conn, project.organization_id, shoal.project_id, category="error", window="day", limit=QUOTA
        )
        projects.set_project_filters(
            conn,
            shoal.project_id,
            FilterSettings(
                settings.on | {outcomes.FILTER_ERROR_TYPE},
                {**settings.patterns, outcomes.FILTER_ERROR_TYPE: ("ConnectionResetError",)},
            ),
        )
    dsn = projects.dsn(shoal.url, shoal.public_key, shoal.project_id)

    disconnects = run_sdk(dsn, "disconnects")
    assert [(a["status"], a["rate_limits"]) for a in disconnects] == [(200, None)] * QUOTA

    filtered = ("error", "filtered", outcomes.FILTER_ERROR_TYPE)
    wait_until(lambda: outcome_counts(shoal)[filtered] == QUOTA, 60, "the 5 disconnects filtered")
    # Both in the store: ingest's flush of the 5 and the digest's refund of them, in either order.
    wait_until(lambda: day_usage(shoal, "error") == 0, 30, "the day's error count back to 0")
    # The web process reads the errors' total back at a flush: one that writes a transaction it
    # counted after the refund was committed has read it.
    send_transaction(shoal)
    wait_until(lambda: day_usage(shoal, "transaction") == 1, 30, "the transaction counted by a flush")

    bugs = run_sdk(dsn, "bugs")
    assert [(a["status"], a["rate_limits"]) for a in bugs] == [(200, None)] * QUOTA

    shoal.wait_for_events(QUOTA)
    assert stored_types(shoal) == {"KeyError": QUOTA}
    wait_until(lambda: outcome_counts(shoal)[("error", "accepted", "")] == QUOTA, 30, "the 5 bugs accepted")
    counts = outcome_counts(shoal)
    assert not [k for k in counts if k[1] == "rate_limited"]
    assert counts[filtered] == QUOTA
    wait_until(lambda: day_usage(shoal, "error") == QUOTA, 30, "the day's error count at the quota")
