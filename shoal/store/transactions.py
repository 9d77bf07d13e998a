"""Transactions: idempotent inserts of a batch's transactions, and which of them keep their spans.

Every transaction keeps its summary row (name, URL path, op, status, timing, span summary). Its
spans, the waterfall, are kept only while it is among the SPAN_SAMPLES slowest of its project, name
and hour (by start time): the Performance page shows the slowest samples, and the spans are most of
a transaction's bytes (a 12-span transaction: ~180 bytes of row, ~500 of compressed spans;
bench/transactions_digest.py). So span storage is bounded by names × hours × SPAN_SAMPLES however
many transactions arrive.

Two workers may store the same hour at once on PostgreSQL; each keeps what it sees as the slowest,
so an hour may briefly hold a few more than SPAN_SAMPLES waterfalls until a later batch of that
hour trims it. Rows are updated in id order, so the two never deadlock on them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, insert, select, update

from shoal.store.schema import transaction_event

SPAN_SAMPLES = 5  # waterfalls kept per project, transaction name and hour
_CHUNK = 1000  # event ids per IN list, well under both backends' bound-parameter limits


@dataclass(frozen=True, slots=True)
class NewTransaction:
    project_id: int
    event_id: str
    trace_id: str
    span_id: str
    name: str
    op: str
    status: str
    start_timestamp: float
    duration_ms: float
    received: float
    release: str | None
    environment: str | None
    span_count: int
    span_ops: str  # JSON {op: [count, total ms]}
    spans: bytes | None  # zstd JSON of the spans, None when it had none
    # The request URL's path, scrubbed, no query string; None without a URL (the filters' preview
    # replays the health-check filter on it with the name).
    url_path: str | None = None
    key_id: int = 0  # the DSN key it came with, for its accepted outcome; not stored

    @property
    def hour(self) -> int:
        return int(self.start_timestamp // 3600)


def store_transactions(conn: Connection, batch: Sequence[NewTransaction]) -> list[NewTransaction]:
    """Insert those of `batch` not stored yet (by project and event id, as events are), keeping
    spans only on each hour's slowest; return the ones inserted."""
    fresh = _without_duplicates(conn, batch)
    if not fresh:
        return []
    rows, cleared = _choose_span_samples(conn, fresh)
    for chunk in _chunks(sorted(cleared)):
        conn.execute(update(transaction_event).where(transaction_event.c.id.in_(chunk)).values(spans=None))
    conn.execute(insert(transaction_event), [_values(row) for row in rows])
    return fresh


def _without_duplicates(conn: Connection, batch: Sequence[NewTransaction]) -> list[NewTransaction]:
    by_project: dict[int, set[str]] = defaultdict(set)
    for t in batch:
        by_project[t.project_id].add(t.event_id)
    seen = {
        (project_id, event_id)
        for project_id, event_ids in by_project.items()
        for event_id in _stored_event_ids(conn, project_id, event_ids)
    }
    fresh = []
    for t in batch:
        if (t.project_id, t.event_id) not in seen:
            seen.add((t.project_id, t.event_id))  # a second copy in the same batch is a duplicate too
            fresh.append(t)
    return fresh


def _stored_event_ids(conn: Connection, project_id: int, event_ids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(event_ids)):
        rows = conn.execute(
            select(transaction_event.c.event_id).where(
                transaction_event.c.project_id == project_id, transaction_event.c.event_id.in_(chunk)
            )
        )
        found.update(row.event_id for row in rows)
    return found


def _choose_span_samples(
    conn: Connection, fresh: list[NewTransaction]
) -> tuple[list[NewTransaction], set[int]]:
    """The rows to insert, spans dropped from those not among their hour's slowest, and the ids of
    stored rows whose spans the batch displaced. One query per (project, name, hour) in the batch."""
    groups: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for index, t in enumerate(fresh):
        if t.spans is not None:
            groups[(t.project_id, t.name, t.hour)].append(index)
    rows = list(fresh)
    cleared: set[int] = set()
    for (project_id, name, hour), members in groups.items():
        stored = _rows_with_spans(conn, project_id, name, hour)
        candidates = [(duration, ("stored", row_id)) for row_id, duration in stored]
        candidates += [(fresh[i].duration_ms, ("new", i)) for i in members]
        candidates.sort(key=lambda c: c[0], reverse=True)
        for _, (kind, ref) in candidates[SPAN_SAMPLES:]:
            if kind == "stored":
                cleared.add(ref)
            else:
                rows[ref] = replace(rows[ref], spans=None)
    return rows, cleared


def _rows_with_spans(conn: Connection, project_id: int, name: str, hour: int) -> list[tuple[int, float]]:
    c = transaction_event.c
    rows = conn.execute(
        select(c.id, c.duration_ms).where(
            c.project_id == project_id,
            c.name == name,
            c.start_timestamp >= hour * 3600,
            c.start_timestamp < (hour + 1) * 3600,
            c.spans.is_not(None),
        )
    )
    return [(int(row.id), float(row.duration_ms)) for row in rows]


def _values(t: NewTransaction) -> dict[str, object]:
    return {
        "project_id": t.project_id,
        "event_id": t.event_id,
        "trace_id": t.trace_id,
        "span_id": t.span_id,
        "name": t.name,
        "url_path": t.url_path,
        "op": t.op,
        "status": t.status,
        "start_timestamp": t.start_timestamp,
        "duration_ms": t.duration_ms,
        "received": t.received,
        "release": t.release,
        "environment": t.environment,
        "span_count": t.span_count,
        "span_ops": t.span_ops,
        "spans": t.spans,
    }


def _chunks(values: Sequence[object], size: int = _CHUNK) -> Iterable[Sequence[object]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
