"""A transaction as the store keeps it: read the fields the Performance pages need from the JSON an
SDK sent (protocol.md §3), summarize its spans (count and total time per op), and compact its
spans for a waterfall, scrubbed and compressed.

What is read: the name (`transaction`), the path of `request.url` (scrubbed, and without the query
string and fragment, which can carry PII: the filters' preview replays the health-check filter on
the name and the path, shoal/digest/filters/preview.py), `contexts.trace` (trace id, span id, op,
status), both timestamps in either wire form, release and environment. Sentry's rules where they
matter:
- a missing status is `unknown` (a failure is any status but ok, cancelled and unknown);
- both timestamps are required and the end may not precede the start, or the transaction is
  invalid (outcome `invalid:invalid_transaction`), as Relay rejects it;
- clock drift from the envelope's `sent_at` moves both timestamps, as for errors
  (shoal/digest/normalize.py); so does a time too far in the future or past, which keeps the
  duration.

Only the waterfall's fields of a span are kept (ids, op, description, offset, duration, status):
its `data` and `tags` are dropped, and its description is scrubbed with the project's settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shoal.digest.filters.inbound import request_url, text
from shoal.digest.normalize import CLOCK_DRIFT_SECONDS, MAX_SECONDS_IN_FUTURE, MAX_SECONDS_IN_PAST
from shoal.digest.scrub import scrub_event
from shoal.digest.timestamps import parse_timestamp
from shoal.event_ids import new_event_id, parse_event_id
from shoal.store.events import PayloadCodec
from shoal.store.projects import ScrubbingSettings
from shoal.store.transactions import NewTransaction

INVALID_TRANSACTION = "invalid_transaction"  # Relay's outcome reason for a transaction it rejects
UNLABELED = "<unlabeled transaction>"  # Sentry's name for a transaction sent without one
# sentry-python's `max_spans` default: it sends no more, so neither do we keep more.
MAX_SPANS = 1000
MAX_DESCRIPTION = 500
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX16 = re.compile(r"[0-9a-f]{16}")


class InvalidTransaction(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TransactionContext:
    project_id: int
    received: float
    sent_at: float | None  # the envelope header's, for clock drift
    envelope_event_id: str | None  # wins over the payload's, as for events
    key_id: int


@dataclass(frozen=True, slots=True)
class Span:
    """One span of a waterfall: times in milliseconds from the transaction's start."""

    span_id: str
    parent_span_id: str
    op: str
    description: str
    offset_ms: float
    duration_ms: float
    status: str


def digest_transaction(
    data: Mapping[str, Any], context: TransactionContext, scrubbing: ScrubbingSettings, codec: PayloadCodec
) -> NewTransaction:
    """The row to store for the transaction `data`; raises InvalidTransaction."""
    start, end = parse_timestamp(data.get("start_timestamp")), parse_timestamp(data.get("timestamp"))
    if start is None or end is None:
        raise InvalidTransaction("a transaction needs start_timestamp and timestamp")
    if end < start:
        raise InvalidTransaction("the transaction ends before it starts")
    trace = _mapping(_mapping(data.get("contexts")).get("trace"))
    spans = _spans(data.get("spans"), start)
    return NewTransaction(
        project_id=context.project_id,
        event_id=context.envelope_event_id or parse_event_id(data.get("event_id")) or new_event_id(),
        trace_id=_hex(trace.get("trace_id"), _HEX32),
        span_id=_hex(trace.get("span_id"), _HEX16),
        name=_text(data.get("transaction"), 200) or UNLABELED,
        url_path=_url_path(data, scrubbing),
        op=_text(trace.get("op"), 64),
        status=_text(trace.get("status"), 32).lower() or "unknown",
        start_timestamp=start + _shift(end, context),
        duration_ms=(end - start) * 1000,
        received=context.received,
        release=_text(data.get("release"), 200) or None,
        environment=_text(data.get("environment"), 64) or None,
        span_count=len(spans),
        span_ops=orjson.dumps(span_summary(spans)).decode(),
        spans=codec.encode(_compact(spans, scrubbing)) if spans else None,
        key_id=context.key_id,
    )


def span_summary(spans: list[Span]) -> dict[str, list[float]]:
    """Per op, [count, total milliseconds] (rounded to µs), the ops in first-seen order."""
    summary: dict[str, list[float]] = {}
    for span in spans:
        totals = summary.setdefault(span.op, [0, 0.0])
        totals[0] += 1
        totals[1] += span.duration_ms
    return {op: [count, round(total, 3)] for op, (count, total) in summary.items()}


def decode_spans(compact: bytes, codec: PayloadCodec) -> list[Span]:
    """The spans `digest_transaction` stored, for the waterfall."""
    return [Span(*row) for row in codec.decode(compact)["spans"]]


def _spans(value: object, start: float) -> list[Span]:
    found = value if isinstance(value, list) else []
    spans = []
    for raw in found[:MAX_SPANS]:
        if not isinstance(raw, Mapping):
            continue
        begin, end = parse_timestamp(raw.get("start_timestamp")), parse_timestamp(raw.get("timestamp"))
        if begin is None:
            continue
        end = begin if end is None or end < begin else end
        spans.append(
            Span(
                span_id=_hex(raw.get("span_id"), _HEX16),
                parent_span_id=_hex(raw.get("parent_span_id"), _HEX16),
                op=_text(raw.get("op"), 64) or "default",
                description=_text(raw.get("description"), MAX_DESCRIPTION),
                offset_ms=round((begin - start) * 1000, 3),
                duration_ms=round((end - begin) * 1000, 3),
                status=_text(raw.get("status"), 32),
            )
        )
    return spans


def _url_path(data: Mapping[str, Any], scrubbing: ScrubbingSettings) -> str | None:
    """The request URL's path, scrubbed as an event's URL is (a card number in a path is removed),
    cut to the column's 200 characters like the name. Split before scrubbing: a scrubbed password
    in the host part (`user:[Filtered]@host`) would no longer parse."""
    url = request_url(data)
    if url is None or not url.path:
        return None
    scrubbed = text(scrub_event({"request": {"url": url.path}}, scrubbing)["request"]["url"])
    return scrubbed[:200] if scrubbed else None


def _compact(spans: list[Span], scrubbing: ScrubbingSettings) -> bytes:
    # Only the descriptions can hold a secret (a URL's password, a card number in a query); the
    # scrubber reads them as one data bag, as it reads an event's unknown fields.
    bag = scrub_event({"spans": [span.description for span in spans]}, scrubbing)["spans"]
    rows = [
        (s.span_id, s.parent_span_id, s.op, description, s.offset_ms, s.duration_ms, s.status)
        for s, description in zip(spans, bag, strict=True)
    ]
    return orjson.dumps({"spans": rows})


def _shift(end: float, context: TransactionContext) -> float:
    """Seconds to add to both timestamps: the client's clock drift, then whatever brings an end too
    far in the future or past back to the receive time."""
    shift = 0.0
    if context.sent_at is not None and abs(context.received - context.sent_at) >= CLOCK_DRIFT_SECONDS:
        shift = context.received - context.sent_at
    moved = end + shift
    if moved > context.received + MAX_SECONDS_IN_FUTURE or moved < context.received - MAX_SECONDS_IN_PAST:
        shift = context.received - end
    return shift


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _hex(value: object, pattern: re.Pattern[str]) -> str:
    text = value.lower() if isinstance(value, str) else ""
    return text if pattern.fullmatch(text) else ""
