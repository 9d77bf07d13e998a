"""Attachments: from an envelope's `attachment` item to a stored file on its event.

An attachment belongs to the event its envelope names (the header's `event_id`, protocol.md §3):
the event in the same envelope, as `scope.add_attachment` sends it, or one stored earlier. It is
stored only once that event is in the store, in the digest's transaction, right after the batch's
events; otherwise it is counted as filtered:event_not_stored (its event was filtered, discarded or
never sent: nothing would ever show it). Over SHOAL_MAX_ATTACHMENT_BYTES it is counted as
invalid:too_large; its event is kept. Every quantity is in bytes, as Sentry counts attachments.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection

from shoal import outcomes
from shoal.ingest.envelope import Item
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import SpoolEntry
from shoal.store import attachments
from shoal.store.attachments import NewAttachment

DEFAULT_CONTENT_TYPE = "application/octet-stream"  # the protocol's default (protocol.md §3)
DEFAULT_ATTACHMENT_TYPE = "event.attachment"
# The columns' widths; longer header values are cut, not refused: the bytes are what matters.
_NAME_CHARS = 256
_CONTENT_TYPE_CHARS = 128
_ATTACHMENT_TYPE_CHARS = 64


def digest_attachment(
    item: Item, entry: SpoolEntry, max_bytes: int, into: list[NewAttachment], counts: Counter[OutcomeKey]
) -> None:
    """Add the item to `into`, ready to store, or count why it cannot be."""
    size = len(item.payload)
    if size > max_bytes:
        counts[_outcome(entry, Outcome.INVALID, outcomes.TOO_LARGE)] += size
        return
    if entry.event_id is None:
        counts[_outcome(entry, Outcome.INVALID, outcomes.MISSING_EVENT_ID)] += size
        return
    into.append(
        NewAttachment(
            project_id=entry.project_id,
            event_id=entry.event_id,
            name=_header(item, "filename", "attachment", _NAME_CHARS),
            content_type=_header(item, "content_type", DEFAULT_CONTENT_TYPE, _CONTENT_TYPE_CHARS),
            attachment_type=_header(item, "attachment_type", DEFAULT_ATTACHMENT_TYPE, _ATTACHMENT_TYPE_CHARS),
            size=size,
            sha1=hashlib.sha1(item.payload, usedforsecurity=False).hexdigest(),
            received=entry.received_at,
            compressed=attachments.compress(item.payload),
            key_id=entry.key_id,
        )
    )


def store_attachments(conn: Connection, pending: Sequence[NewAttachment]) -> Counter[OutcomeKey]:
    """Store each attachment on its event, once; return their outcomes (bytes). Runs after the
    batch's events are inserted, so an attachment finds the event of its own envelope."""
    counts: Counter[OutcomeKey] = Counter()
    by_project: dict[int, list[NewAttachment]] = defaultdict(list)
    for attachment in pending:
        by_project[attachment.project_id].append(attachment)
    for project_id, members in by_project.items():
        rows = attachments.event_rows(conn, project_id, (a.event_id for a in members))
        for a in members:
            row_id = rows.get(a.event_id)
            if row_id is None:
                counts[_key(a, Outcome.FILTERED, outcomes.EVENT_NOT_STORED)] += a.size
            elif attachments.insert_new(conn, row_id, a):
                counts[_key(a, Outcome.ACCEPTED, "")] += a.size
    return counts


def _header(item: Item, name: str, default: str, limit: int) -> str:
    value = item.headers.get(name)
    text = value if isinstance(value, str) and value.strip() else default
    return text.replace("\x00", "\ufffd")[:limit]  # PostgreSQL's text refuses NUL


def _outcome(entry: SpoolEntry, outcome: Outcome, reason: str) -> OutcomeKey:
    return OutcomeKey(entry.project_id, Category.ATTACHMENT, outcome, reason, entry.key_id)


def _key(attachment: NewAttachment, outcome: Outcome, reason: str) -> OutcomeKey:
    return OutcomeKey(attachment.project_id, Category.ATTACHMENT, outcome, reason, attachment.key_id)
