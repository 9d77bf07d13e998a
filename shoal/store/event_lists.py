"""Events as the API reads them: an issue's or a project's a page at a time, newest first, one by id
within some projects, and an issue's latest or oldest; each with its payload and grouping hashes.

Pages are keyset pages: a cursor names the row id of the event a page ended at, so pages stay put
while the digest keeps adding events. An issue's events are in (timestamp, id) order, which the
(issue, timestamp, id) index serves; a project's in row id order (about the order they were
received), since no index orders a project's events by timestamp and the primary key already
orders them by arrival.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from shoal.store.events import PayloadCodec
from shoal.store.schema import event


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    event_id: str
    issue_id: int
    project_id: int
    timestamp: float
    received: float
    hashes: list[str]
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events newest first, and whether more lie beyond the page in the direction it was read."""

    rows: list[EventRow]
    more: bool


def issue_events(
    conn: Connection,
    codec: PayloadCodec,
    issue_id: int,
    *,
    limit: int,
    older_than: int | None = None,
    newer_than: int | None = None,
) -> EventPage:
    """A page of the issue's events, newest first: the newest ones, or those just older (or newer)
    than the event with row id `older_than` (`newer_than`). An id that is not the issue's event
    gives an empty page."""
    where: list[ColumnElement[bool]] = [event.c.issue_id == issue_id]
    boundary = older_than if older_than is not None else newer_than
    if boundary is not None:
        mark = conn.execute(
            select(event.c.timestamp).where(event.c.id == boundary, event.c.issue_id == issue_id)
        ).first()
        if mark is None:
            return EventPage([], False)
        where.append(_beyond(mark.timestamp, boundary, older=newer_than is None))
    backwards = newer_than is not None
    order = (event.c.timestamp.asc(), event.c.id.asc()) if backwards else _newest_first()
    rows = conn.execute(_select().where(*where).order_by(*order).limit(limit + 1)).all()
    return _page(rows, limit, codec, backwards)


def project_events(
    conn: Connection,
    codec: PayloadCodec,
    project_id: int,
    *,
    limit: int,
    older_than: int | None = None,
    newer_than: int | None = None,
) -> EventPage:
    """A page of the project's events, newest received first, around a row id as above."""
    where: list[ColumnElement[bool]] = [event.c.project_id == project_id]
    if older_than is not None:
        where.append(event.c.id < older_than)
    if newer_than is not None:
        where.append(event.c.id > newer_than)
    backwards = newer_than is not None
    order = event.c.id.asc() if backwards else event.c.id.desc()
    rows = conn.execute(_select().where(*where).order_by(order).limit(limit + 1)).all()
    return _page(rows, limit, codec, backwards)


def edge_event(conn: Connection, codec: PayloadCodec, issue_id: int, *, latest: bool) -> EventRow | None:
    """The issue's latest (or oldest) event by timestamp."""
    order = _newest_first() if latest else (event.c.timestamp.asc(), event.c.id.asc())
    row = conn.execute(_select().where(event.c.issue_id == issue_id).order_by(*order).limit(1)).first()
    return _event_row(row, codec) if row else None


def event_in(
    conn: Connection, codec: PayloadCodec, project_ids: Sequence[int], event_id: str
) -> EventRow | None:
    """The event with this id in one of the projects (ids are unique per project; the first
    project's wins should two share one)."""
    if not project_ids:
        return None
    row = conn.execute(
        _select()
        .where(event.c.project_id.in_(list(project_ids)), event.c.event_id == event_id)
        .order_by(event.c.id)
        .limit(1)
    ).first()
    return _event_row(row, codec) if row else None


def _beyond(timestamp: float, row_id: int, *, older: bool) -> ColumnElement[bool]:
    if older:
        return or_(event.c.timestamp < timestamp, and_(event.c.timestamp == timestamp, event.c.id < row_id))
    return or_(event.c.timestamp > timestamp, and_(event.c.timestamp == timestamp, event.c.id > row_id))


def _newest_first() -> tuple[Any, ...]:
    return (event.c.timestamp.desc(), event.c.id.desc())


def _select() -> Any:
    return select(
        event.c.id,
        event.c.event_id,
        event.c.issue_id,
        event.c.project_id,
        event.c.timestamp,
        event.c.received,
        event.c.hashes,
        event.c.payload,
    )


def _page(rows: Sequence[Row[Any]], limit: int, codec: PayloadCodec, backwards: bool) -> EventPage:
    shown = [_event_row(row, codec) for row in rows[:limit]]
    return EventPage(shown[::-1] if backwards else shown, len(rows) > limit)


def _event_row(row: Row[Any], codec: PayloadCodec) -> EventRow:
    return EventRow(
        id=row.id,
        event_id=row.event_id,
        issue_id=row.issue_id,
        project_id=row.project_id,
        timestamp=row.timestamp,
        received=row.received,
        hashes=orjson.loads(row.hashes),
        data=codec.decode(row.payload),
    )
