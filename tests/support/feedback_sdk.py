"""Sending user feedback with the real sentry-sdk, in its own process.

sentry-python 2.75 has neither the old `capture_user_feedback` nor a `capture_feedback`
(protocol.md §3), so the script builds the items with the SDK's own envelope classes and sends
them through its transport, as an SDK that has the API would: `user_report` with the old shape,
`feedback` with `contexts.feedback`. An exception can be captured first, and the report be about it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from tests.support.server import RunningShoal

SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    import time
    import uuid

    import sentry_sdk
    from sentry_sdk.envelope import Envelope, Item, PayloadRef

    sentry_sdk.init(dsn=sys.argv[1], debug=True)
    steps = json.loads(sys.argv[2])

    def checkout():
        return {}["discount"]

    def send(item_type, payload, event_id):
        envelope = Envelope(headers={"event_id": event_id})
        envelope.add_item(Item(payload=PayloadRef(json=payload), type=item_type))
        sentry_sdk.get_client().transport.capture_envelope(envelope)

    last_error = None
    for step in steps:
        if step["do"] == "exception":
            try:
                checkout()
            except KeyError:
                last_error = sentry_sdk.capture_exception()
        elif step["do"] == "user_report":
            event_id = step.get("event_id") or last_error
            report = {"event_id": event_id, "name": step["name"], "email": step["email"],
                      "comments": step["comments"]}
            send("user_report", report, event_id)
        elif step["do"] == "feedback":
            feedback_id = uuid.uuid4().hex
            context = {"message": step["message"], "contact_email": step["email"], "name": step["name"],
                       "url": step.get("url", "")}
            if step.get("about_error"):
                context["associated_event_id"] = last_error
            event = {"event_id": feedback_id, "timestamp": time.time(), "platform": "python",
                     "level": "info", "contexts": {"feedback": context}}
            send("feedback", event, feedback_id)
    sentry_sdk.flush(timeout=10)
    print(json.dumps({"error": last_error}))
    """
)


def run_feedback_script(shoal: RunningShoal, steps: list[dict[str, Any]]) -> str | None:
    """Run the steps (`{"do": "exception"}`, `{"do": "user_report", ...}`, `{"do": "feedback", ...}`);
    return the id of the last exception captured."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, shoal.dsn, json.dumps(steps)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Unexpected status code" not in result.stderr
    error: str | None = json.loads(result.stdout.strip().splitlines()[-1])["error"]
    return error
