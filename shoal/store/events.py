"""Events: the compressed payload format, idempotent inserts, and reads for the issue pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import zstandard
from sqlalchemy import Connection, Row, and_, func, insert, or_, select, update

from shoal.store.schema import event, issue, project

# On the corpus events (17 KB of JSON each) level 1 compresses 4.9× in 31 µs; level 3, zstd's
# default, 5.0× in 41 µs. The digest compresses every event, so the faster level wins.
_COMPRESSION_LEVEL = 1


@dataclass(frozen=True, slots=True)
class NewEvent:
    project_id: int
    event_id: str
    issue_id: int
    timestamp: float
    received: float
    level: str
    release: str | None
    environment: str | None
    user_key: str | None
    grouping_config: str
    hashes: list[str]
    payload: bytes
    trace_id: str | None  # contexts.trace.trace_id, 32 lower-case hex digits


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    event_id: str
    issue_id: int
    timestamp: float
    received: float
    data: dict[str, Any]


class PayloadCodec:
    """zstd-compressed JSON. Not thread-safe: one per thread (zstd contexts keep state)."""

    def __init__(self) -> None:
        self._compressor = zstandard.ZstdCompressor(level=_COMPRESSION_LEVEL)
        self._decompressor = zstandard.ZstdDecompressor()

    def encode(self, json: bytes) -> bytes:
        return self._compressor.compress(json)

    def decode(self, payload: bytes) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self._decompressor.decompress(payload))
        return data


def existing_event_ids(conn: Connection, project_id: int, event_ids: Iterable[str]) -> set[str]:
    """Which of `event_ids` the project already has stored."""
    ids = list(event_ids)
    if not ids:
        return set()
    rows = conn.execute(
        select(event.c.event_id).where(event.c.project_id == project_id, event.c.event_id.in_(ids))
    )
    return {row.event_id for row in rows}


def insert_events(conn: Connection, events: Sequence[NewEvent]) -> None:
    if not events:
        return  # an empty executemany would become INSERT … DEFAULT VALUES
    conn.execute(
        insert(event),
        [
            {
                "project_id": e.project_id,
                "event_id": e.event_id,
                "issue_id": e.issue_id,
                "timestamp": e.timestamp,
                "received": e.received,
                "level": e.level,
                "release": e.release,
                "environment": e.environment,
                "user_key": e.user_key,
                "grouping_config": e.grouping_config,
                "hashes": orjson.dumps(e.hashes).decode(),
                "payload": e.payload,
                "trace_id": e.trace_id,
            }
            for e in events
        ],
    )


def latest_event(conn: Connection, codec: PayloadCodec, issue_id: int) -> StoredEvent | None:
    row = conn.execute(
        _event_select()
        .where(event.c.issue_id == issue_id)
        .order_by(event.c.timestamp.desc(), event.c.id.desc())
    ).first()
    return _stored(row, codec) if row else None


def get_event(conn: Connection, codec: PayloadCodec, issue_id: int, event_id: str) -> StoredEvent | None:
    row = conn.execute(
        _event_select().where(event.c.issue_id == issue_id, event.c.event_id == event_id)
    ).first()
    return _stored(row, codec) if row else None


@dataclass(frozen=True, slots=True)
class EventNeighbours:
    oldest: str | None
    older: str | None
    newer: str | None
    latest: str | None


def event_neighbours(conn: Connection, issue_id: int, current: StoredEvent) -> EventNeighbours:
    """Event ids to navigate to from `current`, in (timestamp, id) order within its issue."""
    by_issue = event.c.issue_id == issue_id
    earlier = or_(
        event.c.timestamp < current.timestamp,
        and_(event.c.timestamp == current.timestamp, event.c.id < current.id),
    )
    later = or_(
        event.c.timestamp > current.timestamp,
        and_(event.c.timestamp == current.timestamp, event.c.id > current.id),
    )
    ascending = (event.c.timestamp.asc(), event.c.id.asc())
    descending = (event.c.timestamp.desc(), event.c.id.desc())

    def first_id(*conditions: Any, order: tuple[Any, ...]) -> str | None:
        row = conn.execute(select(event.c.event_id).where(*conditions).order_by(*order).limit(1)).first()
        return str(row.event_id) if row else None

    return EventNeighbours(
        oldest=first_id(by_issue, earlier, order=ascending),
        older=first_id(by_issue, earlier, order=descending),
        newer=first_id(by_issue, later, order=ascending),
        latest=first_id(by_issue, later, order=descending),
    )


@dataclass(frozen=True, slots=True)
class EventListing:
    event_id: str
    timestamp: float
    level: str
    release: str | None
    environment: str | None
    user_key: str | None


def list_events(conn: Connection, issue_id: int, limit: int, offset: int) -> list[EventListing]:
    rows = conn.execute(
        select(
            event.c.event_id,
            event.c.timestamp,
            event.c.level,
            event.c.release,
            event.c.environment,
            event.c.user_key,
        )
        .where(event.c.issue_id == issue_id)
        .order_by(event.c.timestamp.desc(), event.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [EventListing(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class TraceError:
    """An error event of a trace, with its issue, for the trace page."""

    event_id: str
    timestamp: float
    level: str
    issue_id: int
    issue_short_id: str
    issue_title: str


# A trace holds a request's errors: a handful. The cap keeps a runaway loop's trace one page.
TRACE_ERRORS_SHOWN = 100


def trace_errors(conn: Connection, project_id: int, trace_id: str) -> list[TraceError]:
    """The project's error events of the trace, oldest first (index on project and trace id)."""
    rows = conn.execute(
        select(
            event.c.event_id,
            event.c.timestamp,
            event.c.level,
            event.c.issue_id,
            issue.c.short_id,
            issue.c.title,
            project.c.slug,
        )
        .join(issue, issue.c.id == event.c.issue_id)
        .join(project, project.c.id == event.c.project_id)
        .where(event.c.project_id == project_id, event.c.trace_id == trace_id)
        .order_by(event.c.timestamp, event.c.id)
        .limit(TRACE_ERRORS_SHOWN)
    )
    return [
        TraceError(
            row.event_id,
            row.timestamp,
            row.level,
            row.issue_id,
            f"{row.slug.upper()}-{row.short_id}",
            row.title,
        )
        for row in rows
    ]


def _event_select() -> Any:
    return select(
        event.c.id, event.c.event_id, event.c.issue_id, event.c.timestamp, event.c.received, event.c.payload
    )


def _stored(row: Row[Any], codec: PayloadCodec) -> StoredEvent:
    return StoredEvent(
        row.id, row.event_id, row.issue_id, row.timestamp, row.received, codec.decode(row.payload)
    )


@dataclass(frozen=True, slots=True)
class EventRecord(NewEvent):
    """A stored event with everything needed to count it again or group it again."""

    id: int


def event_records(
    conn: Connection, *, issue_ids: Iterable[int] = (), project_id: int | None = None, since: float = 0
) -> list[EventRecord]:
    """The events of some issues, or of a project received since `since`, oldest first."""
    where = (
        event.c.issue_id.in_(sorted(issue_ids)) if project_id is None else event.c.project_id == project_id
    )
    rows = conn.execute(
        select(event).where(where, event.c.received >= since).order_by(event.c.received, event.c.id)
    )
    return [
        EventRecord(
            id=row.id,
            project_id=row.project_id,
            event_id=row.event_id,
            issue_id=row.issue_id,
            timestamp=row.timestamp,
            received=row.received,
            level=row.level,
            release=row.release,
            environment=row.environment,
            user_key=row.user_key,
            grouping_config=row.grouping_config,
            hashes=orjson.loads(row.hashes),
            payload=row.payload,
            trace_id=row.trace_id,
        )
        for row in rows
    ]


def move_events(conn: Connection, event_ids: Iterable[int], to_issue: int) -> None:
    """Move events (by row id) to another issue."""
    ids = sorted(event_ids)
    if ids:
        conn.execute(update(event).where(event.c.id.in_(ids)).values(issue_id=to_issue))


def regrouped(
    conn: Connection,
    record: EventRecord,
    *,
    issue_id: int,
    grouping_config: str,
    hashes: list[str],
    payload: bytes,
) -> None:
    """Record an event's new grouping: its issue, config, hashes and the payload that shows them."""
    conn.execute(
        update(event)
        .where(event.c.id == record.id)
        .values(
            issue_id=issue_id,
            grouping_config=grouping_config,
            hashes=orjson.dumps(hashes).decode(),
            payload=payload,
        )
    )


def events_per_issue(conn: Connection, project_id: int) -> dict[int, int]:
    rows = conn.execute(
        select(event.c.issue_id, func.count())
        .where(event.c.project_id == project_id)
        .group_by(event.c.issue_id)
    )
    return {row[0]: row[1] for row in rows}


def find_event(conn: Connection, codec: PayloadCodec, event_id: str) -> tuple[int, StoredEvent] | None:
    """An event by its id in any project, with the project's id."""
    row = conn.execute(
        _event_select().add_columns(event.c.project_id).where(event.c.event_id == event_id)
    ).first()
    return (row.project_id, _stored(row, codec)) if row else None


def count_after(conn: Connection, issue_id: int, after: float, environment: str | None = None) -> int:
    """Events of the issue with a timestamp after `after` (in one environment if given): an index
    range scan, for the questions the per-minute counters cannot answer (one environment, "since
    the issue was ignored")."""
    query = select(func.count()).where(event.c.issue_id == issue_id, event.c.timestamp > after)
    if environment is not None:
        query = query.where(event.c.environment == environment)
    return int(conn.execute(query).scalar_one())


def users_after(conn: Connection, issue_id: int, after: float, environment: str | None = None) -> int:
    """Distinct users among those events."""
    query = select(func.count(func.distinct(event.c.user_key))).where(
        event.c.issue_id == issue_id, event.c.timestamp > after, event.c.user_key.is_not(None)
    )
    if environment is not None:
        query = query.where(event.c.environment == environment)
    return int(conn.execute(query).scalar_one())


def users_in_environment(
    conn: Connection, issue_ids: list[int], after: float, environment: str
) -> dict[int, int]:
    """Distinct users per issue among its events in one environment after `after`. The tag counts
    do not pair users with environments, so this reads the events in the window (index range on
    issue and time); only rules that count users in one environment ask it."""
    if not issue_ids:
        return {}
    rows = conn.execute(
        select(event.c.issue_id, func.count(func.distinct(event.c.user_key)))
        .where(
            event.c.issue_id.in_(sorted(issue_ids)),
            event.c.timestamp > after,
            event.c.environment == environment,
            event.c.user_key.is_not(None),
        )
        .group_by(event.c.issue_id)
    )
    return {issue_id: int(total) for issue_id, total in rows}
