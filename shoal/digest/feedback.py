"""User feedback: from a `user_report` or `feedback` item to a report ready to store.

Two shapes arrive (protocol.md §3):
- `user_report`, the older one (sentry-python's former `capture_user_feedback`, which 2.75 no
  longer has; the JS `captureUserFeedback`): {"event_id", "name", "email", "comments"}, always
  about one event;
- `feedback`, the newer one (the JS feedback widget, `captureFeedback`): an event whose
  `contexts.feedback` holds {message, contact_email, name, url, associated_event_id}; the event's
  own id is the report's, and it may be about no error at all.

Both are scrubbed with the project's settings before they are stored, as the feedback's event would
be: they pass through scrub.py as `contexts.feedback`, so a card number in a message is masked and an
additional sensitive field such as `email` removes the contact address (docs/feedback.md). Both count
as category `feedback`: Sentry turns an accepted user report into a user feedback (develop docs,
"User Report - Deprecated"). Not JSON, not an object, or naming no event where one is needed:
invalid, counted, never stored.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection

from shoal import outcomes
from shoal.digest.scrub import scrub_event
from shoal.event_ids import parse_event_id
from shoal.ingest.envelope import Item
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import SpoolEntry
from shoal.store import feedback
from shoal.store.feedback import NewFeedback
from shoal.store.projects import ScrubbingSettings

# Relay's caps for the same kinds of fields (protocol.md §4: email 75, message 8192 characters);
# a name and a URL are bounded as the UI shows them.
_NAME_CHARS = 128
_EMAIL_CHARS = 75
_MESSAGE_CHARS = 8192
_URL_CHARS = 2048


class _Unusable(ValueError):
    """The item cannot become a report; the message is the outcome's reason."""


def digest_feedback_item(
    item: Item,
    entry: SpoolEntry,
    scrubbing: ScrubbingSettings,
    into: list[NewFeedback],
    counts: Counter[OutcomeKey],
) -> None:
    """Add the report the item holds to `into`, or count why there is none."""
    try:
        data = _json_object(item.payload)
        fields = _user_report(data, entry) if item.type == "user_report" else _feedback(data, entry)
    except _Unusable as reason:
        key = OutcomeKey(entry.project_id, Category.FEEDBACK, Outcome.INVALID, str(reason), entry.key_id)
        counts[key] += 1
        return
    into.append(_scrubbed(fields, item.type, entry, scrubbing))


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise _Unusable(outcomes.INVALID_JSON) from None
    if not isinstance(data, dict):
        raise _Unusable(outcomes.NOT_AN_OBJECT)
    return data


def _user_report(data: dict[str, Any], entry: SpoolEntry) -> dict[str, Any]:
    """The report as `contexts.feedback` fields, its event id as both its id and its event's."""
    event_id = parse_event_id(data.get("event_id")) or entry.event_id
    if event_id is None:
        raise _Unusable(outcomes.MISSING_EVENT_ID)
    return {
        "id": event_id,
        "associated_event_id": event_id,
        "name": _text(data.get("name")),
        "contact_email": _text(data.get("email")),
        "message": _text(data.get("comments")),
        "url": "",
    }


def _feedback(data: dict[str, Any], entry: SpoolEntry) -> dict[str, Any]:
    contexts = data.get("contexts")
    context = contexts.get("feedback") if isinstance(contexts, dict) else None
    feedback_id = parse_event_id(data.get("event_id")) or entry.event_id
    if feedback_id is None:
        raise _Unusable(outcomes.MISSING_EVENT_ID)
    if not isinstance(context, dict):
        raise _Unusable(outcomes.NO_FEEDBACK_CONTEXT)
    user = data.get("user")
    if not isinstance(user, dict):
        user = {}
    return {
        "id": feedback_id,
        "associated_event_id": parse_event_id(context.get("associated_event_id")),
        # The widget fills name and email from the user it knows unless the person typed others.
        "name": _text(context.get("name") or user.get("name") or user.get("username")),
        "contact_email": _text(context.get("contact_email") or user.get("email")),
        "message": _text(context.get("message")),
        "url": _text(context.get("url")),
    }


def _scrubbed(
    fields: dict[str, Any], kind: str, entry: SpoolEntry, scrubbing: ScrubbingSettings
) -> NewFeedback:
    shown = {k: fields[k] for k in ("name", "contact_email", "message", "url")}
    scrubbed = scrub_event({"contexts": {"feedback": shown}}, scrubbing)["contexts"]["feedback"]
    return NewFeedback(
        project_id=entry.project_id,
        feedback_id=fields["id"],
        kind=kind,
        event_id=fields["associated_event_id"],
        name=_cut(scrubbed["name"], _NAME_CHARS),
        email=_cut(scrubbed["contact_email"], _EMAIL_CHARS),
        message=_cut(scrubbed["message"], _MESSAGE_CHARS),
        url=_cut(scrubbed["url"], _URL_CHARS),
        received=entry.received_at,
        key_id=entry.key_id,
    )


def _text(value: object) -> str:
    """A string field as text: absent or null is empty, anything else its JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _cut(value: object, limit: int) -> str:
    # A field a scrub rule removed whole is null; NUL cannot go into PostgreSQL's text.
    text = value if isinstance(value, str) else ""
    return text.replace("\x00", "\ufffd")[:limit]


def store_reports(
    conn: Connection, reports: Sequence[NewFeedback], batch: Iterable[tuple[int, str]]
) -> Counter[OutcomeKey]:
    """Store the reports and link earlier ones to the batch's events, `(project id, event id)`
    pairs, now stored; return the reports' outcomes. Runs after the batch's events are inserted."""
    counts: Counter[OutcomeKey] = Counter()
    for report in reports:
        if feedback.store_feedback(conn, report):
            counts[OutcomeKey(report.project_id, Category.FEEDBACK, Outcome.ACCEPTED, "", report.key_id)] += 1
    by_project: dict[int, list[str]] = defaultdict(list)
    for project_id, event_id in batch:
        by_project[project_id].append(event_id)
    for project_id, event_ids in by_project.items():
        feedback.link_to_events(conn, project_id, event_ids)
    return counts
