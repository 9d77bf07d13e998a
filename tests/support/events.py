"""Small Python error events for tests that need issues to exist, and sending one to a running Shoal."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.server import RunningShoal


def python_error(type_: str, function: str, value: str = "peer gone") -> dict[str, Any]:
    """An exception raised in `shop.net.<function>`: one in-app frame, so type and function group it."""
    frame = {"module": "shop.net", "function": function, "context_line": f"{function}()", "in_app": True}
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "exception": {"values": [{"type": type_, "value": value, "stacktrace": {"frames": [frame]}}]},
    }


def send_and_wait(server: RunningShoal, event: dict[str, Any]) -> str:
    """Send the event through ingest and wait until the digest has stored it; return its id."""
    event_id: str = event["event_id"]
    reply = post(
        envelope_url(server.url, server.project_id),
        event_envelope(event, event_id),
        auth_header(server.public_key),
    )
    assert reply.status == 200
    server.wait_for_event(event_id)
    return event_id
