"""Event ids: 32 lower-case hex digits, accepted as hex or as a dashed UUID in any case.

Ingest answers with the id and the digest stores under it, so both read ids with this one rule.
"""

from __future__ import annotations

import re
import uuid

_EVENT_ID = re.compile(
    r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


def parse_event_id(value: object) -> str | None:
    """The canonical form of `value`, or None if it is not an event id."""
    if not isinstance(value, str) or not _EVENT_ID.fullmatch(value):
        return None
    return value.replace("-", "").lower()


def new_event_id() -> str:
    return uuid.uuid4().hex
