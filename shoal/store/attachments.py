"""Event attachments: storing them with their event, listing an event's, reading one back for
download, and the bytes they take (what retention frees with their events).

The bytes live in the row, zstd-compressed (docs/attachments.md says why: one transaction with
the event, nothing to clean up after a crash). They go with their event by ON DELETE CASCADE.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import zstandard
from sqlalchemy import Connection, func, insert, select

from shoal.store.schema import event, event_attachment

# Attachments are mostly logs and text dumps, compressed once and read rarely: zstd's default level
# (3) packs text a little tighter than the events' level 1 at a cost paid once per attachment.
_COMPRESSION_LEVEL = 3
# Row ids per IN list: well under SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An attachment ready to store: its event (project and event id), what the SDK called it, and
    its bytes, compressed."""

    project_id: int
    event_id: str
    name: str
    content_type: str
    attachment_type: str
    size: int
    sha1: str
    received: float
    compressed: bytes
    key_id: int = 0  # the DSN key it came with, for its outcome


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    name: str
    content_type: str
    attachment_type: str
    size: int


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    info: AttachmentInfo
    issue_id: int
    event_id: str
    data: bytes


def compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=_COMPRESSION_LEVEL).compress(data)


def event_rows(conn: Connection, project_id: int, event_ids: Iterable[str]) -> dict[str, int]:
    """Of these event ids, those the project has stored, each with its row id."""
    ids = sorted(set(event_ids))
    found: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            select(event.c.event_id, event.c.id).where(
                event.c.project_id == project_id, event.c.event_id.in_(ids[start : start + _CHUNK])
            )
        )
        found.update((row.event_id, int(row.id)) for row in rows)
    return found


def insert_new(conn: Connection, event_row_id: int, attachment: NewAttachment) -> bool:
    """Store the attachment on that event unless the same file (name and bytes) is already there,
    as when an envelope is digested again; True if it was stored now."""
    already = conn.execute(
        select(event_attachment.c.id).where(
            event_attachment.c.event_row_id == event_row_id,
            event_attachment.c.name == attachment.name,
            event_attachment.c.sha1 == attachment.sha1,
        )
    ).first()
    if already is not None:
        return False
    conn.execute(
        insert(event_attachment).values(
            event_row_id=event_row_id,
            name=attachment.name,
            content_type=attachment.content_type,
            attachment_type=attachment.attachment_type,
            size=attachment.size,
            sha1=attachment.sha1,
            received=attachment.received,
            payload=attachment.compressed,
        )
    )
    return True


def event_attachments(conn: Connection, event_row_id: int) -> list[AttachmentInfo]:
    """An event's attachments in the order they arrived (the SDK's order within an envelope)."""
    rows = conn.execute(
        select(*_INFO_COLUMNS)
        .where(event_attachment.c.event_row_id == event_row_id)
        .order_by(event_attachment.c.id)
    )
    return [_info(row) for row in rows]


def attachment_file(conn: Connection, attachment_id: int) -> AttachmentFile | None:
    """One attachment with its bytes, its event's issue and event id (for the access check)."""
    row = conn.execute(
        select(*_INFO_COLUMNS, event_attachment.c.payload, event.c.issue_id, event.c.event_id)
        .join(event, event.c.id == event_attachment.c.event_row_id)
        .where(event_attachment.c.id == attachment_id)
    ).first()
    if row is None:
        return None
    data = zstandard.ZstdDecompressor().decompress(row.payload, max_output_size=row.size)
    return AttachmentFile(_info(row), int(row.issue_id), row.event_id, data)


def stored_bytes(conn: Connection, event_row_ids: Collection[int]) -> dict[int, int]:
    """Per event row, the compressed bytes of its attachments (only events that have some)."""
    found: dict[int, int] = {}
    ids: Sequence[int] = sorted(event_row_ids)
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            select(event_attachment.c.event_row_id, func.sum(func.length(event_attachment.c.payload)))
            .where(event_attachment.c.event_row_id.in_(ids[start : start + _CHUNK]))
            .group_by(event_attachment.c.event_row_id)
        )
        found.update((int(row_id), int(total)) for row_id, total in rows)
    return found


_INFO_COLUMNS = (
    event_attachment.c.id,
    event_attachment.c.name,
    event_attachment.c.content_type,
    event_attachment.c.attachment_type,
    event_attachment.c.size,
)


def _info(row: Any) -> AttachmentInfo:  # a row with the _INFO_COLUMNS
    return AttachmentInfo(int(row.id), row.name, row.content_type, row.attachment_type, int(row.size))
