"""From one spooled request to the events it holds, ready to store: decode → split the envelope →
for each event: parse → normalize → filter → scrub → group → summarize → tag → compress.

Transactions are kept compactly (shoal/digest/transactions.py). Items Shoal does not store (yet)
become outcomes with their reason, as do events that are not valid JSON objects, and events and
transactions an inbound filter drops (`filtered:<reason>`, shoal/digest/filters/; each one also a
quota refund, since ingest counted it); client reports become "client_discard" outcomes. Nothing
here touches the database, so a batch can be prepared before the store transaction starts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from shoal import outcomes
from shoal.alerts.attributes import attribute_values
from shoal.digest.attachments import digest_attachment
from shoal.digest.check_ins import DigestedCheckIn, digest_check_in
from shoal.digest.client_reports import client_report_outcomes
from shoal.digest.feedback import digest_feedback_item
from shoal.digest.filters import Inbound, first_reason
from shoal.digest.normalize import InvalidEvent, NormalizeContext, normalize_event
from shoal.digest.project_grouping import group_event
from shoal.digest.scrub import scrub_event
from shoal.digest.sessions import SessionItems
from shoal.digest.summary import IssueSummary, summarize
from shoal.digest.tags import event_tags, user_tag_value
from shoal.digest.timestamps import parse_timestamp
from shoal.digest.transactions import (
    INVALID_TRANSACTION,
    InvalidTransaction,
    TransactionContext,
    digest_transaction,
)
from shoal.digest.trimming import serialize
from shoal.ingest.decode import decode_body
from shoal.ingest.envelope import Item, parse_envelope
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import SpoolEntry
from shoal.store.attachments import NewAttachment
from shoal.store.events import PayloadCodec
from shoal.store.feedback import NewFeedback
from shoal.store.inbound_filters import FilterSettings
from shoal.store.projects import ProjectGrouping, ScrubbingSettings
from shoal.store.quota_usage import Refund
from shoal.store.quotas import QUOTA_CATEGORY
from shoal.store.transactions import NewTransaction


@dataclass(frozen=True, slots=True)
class DigestedEvent:
    project_id: int
    event_id: str
    timestamp: float
    received: float
    level: str
    platform: str
    release: str | None
    environment: str | None
    user_key: str | None
    grouping_config: str
    hashes: list[str]
    summary: IssueSummary
    tags: list[tuple[str, str]]
    payload: bytes
    # The event attributes the project's alert rules compare ("exception.type": [...]), read
    # here while the event is parsed: parsing it again for a rule costs more than the rest of
    # the rule (bench/alert_rules.py).
    attributes: dict[str, list[str]] = field(default_factory=dict)
    key_id: int = 0  # the DSN key it came with (shoal/spool/base.py), for its accepted outcome
    trace_id: str | None = None  # contexts.trace.trace_id, for the trace page's errors


@dataclass(frozen=True)
class ProjectSettings:
    """What digesting a project's events depends on: how it groups them, which event
    attributes its active alert rules compare, what it scrubs and which inbound filters it has on."""

    grouping: ProjectGrouping
    alert_attributes: frozenset[str] = frozenset()
    scrubbing: ScrubbingSettings = field(default_factory=ScrubbingSettings)
    filters: FilterSettings = field(default_factory=FilterSettings)


@dataclass
class Digested:
    """What a batch of spool entries turned into."""

    events: list[DigestedEvent] = field(default_factory=list)
    outcomes: Counter[OutcomeKey] = field(default_factory=Counter)
    transactions: list[NewTransaction] = field(default_factory=list)
    check_ins: list[DigestedCheckIn] = field(default_factory=list)
    attachments: list[NewAttachment] = field(default_factory=list)
    feedback: list[NewFeedback] = field(default_factory=list)
    sessions: SessionItems = field(default_factory=SessionItems)
    # What ingest counted against quotas and an inbound filter dropped (shoal/store/quota_usage.py).
    refunds: Counter[Refund] = field(default_factory=Counter)


@dataclass(frozen=True)
class DigestLimits:
    max_envelope_bytes: int
    max_event_bytes: int
    max_attachment_bytes: int = 20 * 1024 * 1024  # SHOAL_MAX_ATTACHMENT_BYTES' default


# A NUL character, as JSON writes it: `\u0000` after an even number of backslashes (an odd one
# makes it the text "\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
# A span container holds "one and up to 1000 span objects" (develop.sentry.dev, Span Protocol): a
# larger count is not a span container's, and must not inflate the counters.
MAX_SPANS_PER_ITEM = 1000


def without_nul_characters(payload: bytes) -> bytes:
    """The JSON with every NUL character replaced by U+FFFD. PostgreSQL's text columns refuse NUL
    ("text fields cannot contain NUL (0x00) bytes"), and one such event made its whole batch fail
    on every retry; SQLite takes it, but both stores should hold the same. JSON cannot carry a raw
    NUL byte, so looking for its escape first costs one scan of the bytes."""
    if b"\\u0000" not in payload:
        return payload
    return _JSON_NUL.sub(rb"\1\\ufffd", payload)


class Pipeline:
    def __init__(self, limits: DigestLimits, codec: PayloadCodec) -> None:
        self._limits = limits
        self._codec = codec

    def digest_entry(self, entry: SpoolEntry, project: ProjectSettings, into: Digested) -> None:
        """Add what `entry` holds to `into`. Raises only on a Shoal bug (the caller buries the entry)."""
        limit = self._limits.max_envelope_bytes if entry.kind == "envelope" else self._limits.max_event_bytes
        body = decode_body(entry.body, entry.content_encoding, limit)
        if entry.kind == "store":
            self._digest_event(body, entry, None, project, into)
            return
        envelope = parse_envelope(body)
        sent_at = parse_timestamp(envelope.headers.get("sent_at"))
        for item in envelope.items:
            self._digest_item(item, entry, sent_at, project, into)

    def _digest_item(
        self, item: Item, entry: SpoolEntry, sent_at: float | None, project: ProjectSettings, into: Digested
    ) -> None:
        if item.type == "event":
            self._digest_event(item.payload, entry, sent_at, project, into)
        elif item.type == "transaction":
            self._digest_transaction(item, entry, sent_at, project, into)
        elif item.type == "check_in":
            digest_check_in(item.payload, entry, into.check_ins, into.outcomes)
        elif item.type == "attachment":
            max_bytes = self._limits.max_attachment_bytes
            digest_attachment(item, entry, max_bytes, into.attachments, into.outcomes)
        elif item.type in ("user_report", "feedback"):
            digest_feedback_item(item, entry, project.scrubbing, into.feedback, into.outcomes)
        elif item.type == "client_report":
            into.outcomes.update(client_report_outcomes(entry.project_id, item.payload, entry.key_id))
        elif item.type in ("session", "sessions"):
            rejected = into.sessions.add(item, entry)  # shoal/digest/sessions.py
            if rejected is not None:
                into.outcomes[rejected] += 1
        else:
            category = outcomes.category_of_item(item.type)
            quantity = _unsupported_quantity(item, category)
            key = OutcomeKey(
                entry.project_id, category, Outcome.FILTERED, outcomes.UNSUPPORTED_ITEM, entry.key_id
            )
            into.outcomes[key] += quantity

    def _digest_event(
        self,
        payload: bytes,
        entry: SpoolEntry,
        sent_at: float | None,
        project: ProjectSettings,
        into: Digested,
    ) -> None:
        try:
            raw = orjson.loads(without_nul_characters(payload))
            event = normalize_event(
                raw, NormalizeContext(entry.received_at, sent_at, entry.event_id, entry.client_ip)
            )
        except orjson.JSONDecodeError:
            into.outcomes[
                OutcomeKey(
                    entry.project_id, Category.ERROR, Outcome.INVALID, outcomes.INVALID_JSON, entry.key_id
                )
            ] += 1
            return
        except InvalidEvent:
            into.outcomes[
                OutcomeKey(
                    entry.project_id, Category.ERROR, Outcome.INVALID, outcomes.NOT_AN_OBJECT, entry.key_id
                )
            ] += 1
            return
        # After normalize (filters read its shapes), before scrub: a filter sees the event as sent.
        reason = first_reason(Inbound(event, entry.client_ip), project.filters)
        if reason is not None:
            _count_filtered(entry, Category.ERROR, reason, into)
            return
        into.events.append(self._prepare(event, entry, project))

    def _digest_transaction(
        self, item: Item, entry: SpoolEntry, sent_at: float | None, project: ProjectSettings, into: Digested
    ) -> None:
        """Filtered (`filtered:health-check`, …) or stored (shoal/digest/transactions.py); not
        valid JSON, not an object or without its timestamps: invalid."""
        try:
            data = orjson.loads(without_nul_characters(item.payload))
        except orjson.JSONDecodeError:
            _count_invalid_transaction(entry, outcomes.INVALID_JSON, into)
            return
        if not isinstance(data, dict):
            _count_invalid_transaction(entry, outcomes.NOT_AN_OBJECT, into)
            return
        data.setdefault("type", "transaction")
        reason = first_reason(Inbound(data, entry.client_ip), project.filters)
        if reason is not None:
            _count_filtered(entry, Category.TRANSACTION, reason, into)
            return
        context = TransactionContext(
            entry.project_id, entry.received_at, sent_at, entry.event_id, entry.key_id
        )
        try:
            into.transactions.append(digest_transaction(data, context, project.scrubbing, self._codec))
        except InvalidTransaction:
            _count_invalid_transaction(entry, INVALID_TRANSACTION, into)

    def _prepare(self, event: dict[str, Any], entry: SpoolEntry, project: ProjectSettings) -> DigestedEvent:
        # Before grouping, as Sentry does: nothing made from the event below (hashes, title, tags,
        # the stored payload) can carry what was removed (shoal/digest/scrub.py).
        event = scrub_event(event, project.scrubbing)
        grouping = group_event(event, project.grouping)
        return DigestedEvent(
            project_id=entry.project_id,
            event_id=event["event_id"],
            timestamp=event["timestamp"],
            received=event["received"],
            level=event["level"],
            platform=event["platform"],
            release=event.get("release"),
            environment=event.get("environment"),
            user_key=user_tag_value(event.get("user")),
            grouping_config=grouping.config_id,
            hashes=grouping.hashes,
            summary=summarize(event),
            tags=event_tags(event),
            payload=self._codec.encode(serialize(event)),
            attributes={name: attribute_values(event, name) for name in project.alert_attributes},
            key_id=entry.key_id,
            trace_id=_trace_id(event),
        )


def _unsupported_quantity(item: Item, category: Category) -> int:
    """How much an item Shoal does not store counts for: attachments in bytes, span items in
    spans, anything else 1."""
    if category == Category.ATTACHMENT:
        return len(item.payload)
    if category == Category.SPAN:
        return _span_count(item)
    return 1


def _span_count(item: Item) -> int:
    """The spans of a `span` item. A span v2 container (@sentry/node 11:
    `{"type":"span","item_count":N,"content_type":"application/vnd.sentry.items.span.v2+json"}`,
    payload `{"items":[…]}`) says N in its header, the number the SDK's own client reports count
    too; without a usable header, its `items`; an older standalone span item is one span."""
    declared = item.headers.get("item_count")
    if isinstance(declared, int) and not isinstance(declared, bool) and 0 < declared <= MAX_SPANS_PER_ITEM:
        return declared
    try:
        data = orjson.loads(item.payload)
    except orjson.JSONDecodeError:
        return 1
    spans = data.get("items") if isinstance(data, dict) else None
    return min(len(spans), MAX_SPANS_PER_ITEM) if isinstance(spans, list) and spans else 1


def _trace_id(event: dict[str, Any]) -> str | None:
    """`contexts.trace.trace_id` in lower case when it is 32 hex digits, as transactions store it
    (shoal/digest/transactions.py), so the two meet on the trace page; anything else is no trace."""
    contexts = event.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    value = trace.get("trace_id") if isinstance(trace, dict) else None
    text = value.lower() if isinstance(value, str) else ""
    return text if _TRACE_ID.fullmatch(text) else None


def _count_filtered(entry: SpoolEntry, category: Category, reason: str, into: Digested) -> None:
    """An item an inbound filter dropped: its outcome, and its refund of the quotas ingest counted
    it against (Sentry filters before quotas: a filtered event costs none)."""
    into.outcomes[OutcomeKey(entry.project_id, category, Outcome.FILTERED, reason, entry.key_id)] += 1
    refund = Refund(entry.project_id, entry.key_id, QUOTA_CATEGORY[category], int(entry.received_at))
    into.refunds[refund] += 1


def _count_invalid_transaction(entry: SpoolEntry, reason: str, into: Digested) -> None:
    key = OutcomeKey(entry.project_id, Category.TRANSACTION, Outcome.INVALID, reason, entry.key_id)
    into.outcomes[key] += 1
