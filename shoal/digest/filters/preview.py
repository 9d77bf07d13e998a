"""The filters' preview: how many of a project's stored events of the last days each filter would
have dropped, with the settings as the page shows them (saved or not), found by running the stored
events through the same checks the digest runs; how many of the stored transactions the
health-check filter would have dropped, found by running their name and URL path through its check;
and how many items each filter did drop in those days, from the outcome counters.

Bounded like the alert replay (shoal/alerts/replay.py): the newest MAX_EVENTS events of the period,
and the newest MAX_EVENTS transactions. What the replay cannot know, the page says: stored events
and URL paths are scrubbed (a value data scrubbing removed cannot match a pattern any more) and
carry no sender address (the IP filter sees only `user.ip_address`). A stored transaction keeps only
the name and URL path of what the filters read (shoal/store/transactions.py), so only the
health-check filter is replayed on transactions: the others' rows, and the filters together, count
error events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from shoal.digest.filters import FILTERS, first_reason, health_check
from shoal.digest.filters.inbound import Inbound
from shoal.store.events import PayloadCodec
from shoal.store.inbound_filters import FilterSettings, filtered_counts
from shoal.store.schema import event, transaction_event

MAX_EVENTS = 20_000
DAYS = 7


@dataclass(frozen=True)
class FilterPreview:
    days: int
    events_replayed: int
    truncated: bool  # more than MAX_EVENTS events in the period: only the newest were replayed
    # Reason → replayed events (for the health-check filter: transactions) that filter alone would
    # drop, were it on with the shown patterns.
    would_drop: Counter[str] = field(default_factory=Counter)
    # Replayed events the filters shown on would drop together (each event counted once).
    together: int = 0
    # Reason → items (events, transactions) the filters or discards dropped in the period.
    dropped: Counter[str] = field(default_factory=Counter)
    transactions_replayed: int = 0
    transactions_truncated: bool = False  # more than MAX_EVENTS transactions: the newest replayed


def preview_filters(
    conn: Connection, project_id: int, settings: FilterSettings, now: float, days: int = DAYS
) -> FilterPreview:
    since = now - days * 86400
    payloads, truncated = _stored_payloads(conn, project_id, since, now)
    codec = PayloadCodec()
    alone = {reason: settings.only(reason) for reason in FILTERS}
    would_drop: Counter[str] = Counter()
    together = 0
    for payload in payloads:
        inbound = Inbound(codec.decode(payload))
        for reason, check in FILTERS.items():
            if check(inbound, alone[reason]) is not None:
                would_drop[reason] += 1
        if first_reason(inbound, settings) is not None:
            together += 1
    transactions, transactions_truncated = _stored_transactions(conn, project_id, since, now)
    health_checks = alone[health_check.REASON]
    would_drop[health_check.REASON] += sum(
        health_check.check(inbound, health_checks) is not None for inbound in transactions
    )
    dropped: Counter[str] = Counter()
    for (_category, reason), quantity in filtered_counts(conn, project_id, int(since // 3600)).items():
        dropped[reason] += quantity
    return FilterPreview(
        days,
        len(payloads),
        truncated,
        would_drop,
        together,
        dropped,
        len(transactions),
        transactions_truncated,
    )


def _stored_payloads(
    conn: Connection, project_id: int, since: float, until: float
) -> tuple[list[bytes], bool]:
    """The newest MAX_EVENTS events' payloads of the period, and whether there were more."""
    rows = conn.execute(
        select(event.c.payload)
        .where(event.c.project_id == project_id, event.c.timestamp >= since, event.c.timestamp <= until)
        .order_by(event.c.timestamp.desc(), event.c.id.desc())
        .limit(MAX_EVENTS + 1)
    ).all()
    return [bytes(row.payload) for row in rows[:MAX_EVENTS]], len(rows) > MAX_EVENTS


def _stored_transactions(
    conn: Connection, project_id: int, since: float, until: float
) -> tuple[list[Inbound], bool]:
    """The newest MAX_EVENTS transactions of the period, as the health-check filter reads them (the
    name and the request URL), and whether there were more."""
    c = transaction_event.c
    rows = conn.execute(
        select(c.name, c.url_path)
        .where(c.project_id == project_id, c.start_timestamp >= since, c.start_timestamp <= until)
        .order_by(c.start_timestamp.desc(), c.id.desc())
        .limit(MAX_EVENTS + 1)
    ).all()
    found = [_as_inbound(row.name, row.url_path) for row in rows[:MAX_EVENTS]]
    return found, len(rows) > MAX_EVENTS


def _as_inbound(name: str, url_path: str | None) -> Inbound:
    data: dict[str, object] = {"type": "transaction", "transaction": name}
    if url_path is not None:
        data["request"] = {"url": _url_of(url_path)}
    return Inbound(data)


def _url_of(path: str) -> str:
    """A URL whose path (urlsplit's, as the filter reads it) is `path` again: a path starting with
    "//" alone would read as a host, and one like "a:b" as a scheme."""
    return f"http://replay.invalid{path}" if path.startswith("/") else f"http:{path}"
