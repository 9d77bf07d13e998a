"""The digest's reading of a `check_in` item (Sentry's check-in protocol; protocol.md §3): its
monitor, status, duration, environment and release, and the `monitor_config` that creates or
updates the monitor. A check-in that cannot be read is counted as invalid (category `monitor`);
one that can is counted as accepted and stored with the batch (shoal/digest/monitor_check_ins.py).
Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

import orjson

from shoal import outcomes
from shoal.crons.schedule import InvalidConfig, MonitorConfig, config_from_json
from shoal.event_ids import parse_event_id
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import SpoolEntry

STATUSES = frozenset({"in_progress", "ok", "error"})
# The all-zero id means "the newest check-in still in progress" (Sentry's check-in protocol).
NIL_ID = "0" * 32
SLUG_CHARS = 50
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")
# Reasons for INVALID check-ins, next to those of shoal/outcomes.py.
NO_MONITOR_SLUG = "no_monitor_slug"
BAD_STATUS = "invalid_check_in_status"
_ENVIRONMENT_CHARS = 64
_RELEASE_CHARS = 200


@dataclass(frozen=True, slots=True)
class DigestedCheckIn:
    project_id: int
    key_id: int
    monitor_slug: str
    check_in_id: str | None  # None: the nil id, which closes the newest check-in in progress
    new_id: str  # the id a check-in without its own id is stored under (the same on redelivery)
    status: str  # in_progress | ok | error
    received: float
    duration: float | None = None  # seconds
    environment: str | None = None
    release: str | None = None
    trace_id: str | None = None
    config: MonitorConfig | None = None  # from monitor_config, when it was sent and valid
    config_error: str | None = None  # why the monitor_config sent cannot be used


def monitor_slug(value: object) -> str | None:
    """Sentry's slug rule: lower case letters, digits, `-` and `_`, at most 50 characters."""
    if not isinstance(value, str):
        return None
    slug = _NOT_SLUG.sub("-", value.strip().lower()).strip("-")[:SLUG_CHARS]
    return slug or None


def digest_check_in(
    payload: bytes, entry: SpoolEntry, into: list[DigestedCheckIn], counts: Counter[OutcomeKey]
) -> None:
    """Read one check-in item into `into`, counting its outcome in `counts`."""
    reason, check_in = _read(payload, entry)
    if check_in is None:
        counts[OutcomeKey(entry.project_id, Category.MONITOR, Outcome.INVALID, reason, entry.key_id)] += 1
        return
    into.append(check_in)
    counts[OutcomeKey(entry.project_id, Category.MONITOR, Outcome.ACCEPTED, "", entry.key_id)] += 1


def _read(payload: bytes, entry: SpoolEntry) -> tuple[str, DigestedCheckIn | None]:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return outcomes.INVALID_JSON, None
    if not isinstance(data, dict):
        return outcomes.NOT_AN_OBJECT, None
    slug = monitor_slug(data.get("monitor_slug"))
    if slug is None:
        return NO_MONITOR_SLUG, None
    status = data.get("status")
    if status not in STATUSES:
        return BAD_STATUS, None
    config, config_error = _config(data.get("monitor_config"))
    check_in_id = parse_event_id(data.get("check_in_id"))
    return "", DigestedCheckIn(
        project_id=entry.project_id,
        key_id=entry.key_id,
        monitor_slug=slug,
        check_in_id=None if check_in_id in (None, NIL_ID) else check_in_id,
        new_id=_new_id(entry, payload),
        status=str(status),
        received=entry.received_at,
        duration=_duration(data.get("duration")),
        environment=_text(data.get("environment"), _ENVIRONMENT_CHARS),
        release=_text(data.get("release"), _RELEASE_CHARS),
        trace_id=_trace_id(data.get("contexts")),
        config=config,
        config_error=config_error,
    )


def _config(data: object) -> tuple[MonitorConfig | None, str | None]:
    if data is None:
        return None, None
    try:
        return config_from_json(data), None
    except InvalidConfig as exc:
        return None, str(exc)


def _new_id(entry: SpoolEntry, payload: bytes) -> str:
    """Derived from what the spool keeps of the request, so a redelivered entry makes no second
    check-in: its receive time and the item's bytes."""
    digest = hashlib.md5(repr(entry.received_at).encode(), usedforsecurity=False)
    digest.update(payload)
    return digest.hexdigest()


def _duration(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def _trace_id(contexts: object) -> str | None:
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    return parse_event_id(trace.get("trace_id")) if isinstance(trace, dict) else None
