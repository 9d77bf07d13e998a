"""From one spooled request to the events it holds, ready to store: decode → split the envelope →
for each event: parse → normalize → scrub → group → summarize → tag → compress.

Items Shoal does not store (yet) become outcomes with their reason, as do events that are not valid
JSON objects; client reports become "client_discard" outcomes. Nothing here touches the database,
so a batch can be prepared before the store transaction starts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from shoal import outcomes
from shoal.alerts.attributes import attribute_values
from shoal.digest.client_reports import client_report_outcomes
from shoal.digest.normalize import InvalidEvent, NormalizeContext, normalize_event
from shoal.digest.project_grouping import group_event
from shoal.digest.scrub import scrub_event
from shoal.digest.summary import IssueSummary, summarize
from shoal.digest.tags import event_tags, user_tag_value
from shoal.digest.timestamps import parse_timestamp
from shoal.digest.trimming import serialize
from shoal.ingest.decode import decode_body
from shoal.ingest.envelope import Item, parse_envelope
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import SpoolEntry
from shoal.store.events import PayloadCodec
from shoal.store.projects import ProjectGrouping, ScrubbingSettings


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


@dataclass(frozen=True)
class ProjectSettings:
    """What digesting a project's events depends on: how it groups them, which event
    attributes its active alert rules compare, and what it scrubs."""

    grouping: ProjectGrouping
    alert_attributes: frozenset[str] = frozenset()
    scrubbing: ScrubbingSettings = field(default_factory=ScrubbingSettings)


@dataclass
class Digested:
    """What a batch of spool entries turned into."""

    events: list[DigestedEvent] = field(default_factory=list)
    outcomes: Counter[OutcomeKey] = field(default_factory=Counter)


@dataclass(frozen=True)
class DigestLimits:
    max_envelope_bytes: int
    max_event_bytes: int


# A NUL character, as JSON writes it: `\u0000` after an even number of backslashes (an odd one
# makes it the text "\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


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
        elif item.type == "client_report":
            into.outcomes.update(client_report_outcomes(entry.project_id, item.payload))
        else:
            category = outcomes.category_of_item(item.type)
            quantity = len(item.payload) if category == Category.ATTACHMENT else 1
            key = OutcomeKey(entry.project_id, category, Outcome.FILTERED, outcomes.UNSUPPORTED_ITEM)
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
                OutcomeKey(entry.project_id, Category.ERROR, Outcome.INVALID, outcomes.INVALID_JSON)
            ] += 1
            return
        except InvalidEvent:
            into.outcomes[
                OutcomeKey(entry.project_id, Category.ERROR, Outcome.INVALID, outcomes.NOT_AN_OBJECT)
            ] += 1
            return
        into.events.append(self._prepare(event, entry.project_id, project))

    def _prepare(self, event: dict[str, Any], project_id: int, project: ProjectSettings) -> DigestedEvent:
        # Before grouping, as Sentry does: nothing made from the event below (hashes, title, tags,
        # the stored payload) can carry what was removed (shoal/digest/scrub.py).
        event = scrub_event(event, project.scrubbing)
        grouping = group_event(event, project.grouping)
        return DigestedEvent(
            project_id=project_id,
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
        )
