"""Normalization: turn whatever an SDK sent into an event of one shape, as Relay does before Sentry
stores anything (protocol.md §4).

After `normalize_event`, downstream code may rely on:
- `event_id`: 32 lower-case hex; `timestamp`, `received`: float unix seconds, clock drift corrected;
- `level`: debug | info | warning | error | fatal; `platform`: a string;
- `logger`, `transaction`, `release`, `dist`, `environment`, `server_name`, `culprit`: strings
  within Relay's lengths, or absent;
- `logentry`: {"formatted", ["message", "params"]}, present when the event has a message;
- `exception`, `threads`, `breadcrumbs`: {"values": [dict, …]}, or absent; every stack trace is
  {"frames": [dict, …]} with at most 250 frames;
- `tags`: [[key, value], …] of strings that passed Relay's tag rules; `fingerprint`: [str, …];
- `user`, `request`, `contexts`, `extra`, `sdk`, `modules`, `_meta`: dicts, or absent;
- `errors`: what normalization changed or dropped, as Sentry's event errors.
Nothing raises on a JSON object, however odd; a payload that is not an object is InvalidEvent.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from shoal.digest.frame_paths import with_relay_paths
from shoal.digest.timestamps import parse_timestamp
from shoal.digest.trimming import MAX_STRING, trim
from shoal.event_ids import parse_event_id

# Relay's MINIMUM_CLOCK_DRIFT, and Sentry's MAX_SECS_IN_FUTURE / MAX_SECS_IN_PAST (protocol.md §4).
CLOCK_DRIFT_SECONDS = 55 * 60
MAX_SECONDS_IN_FUTURE = 60
MAX_SECONDS_IN_PAST = 30 * 24 * 3600
MAX_FRAMES = 250
MAX_BREADCRUMBS = 100
MAX_EXCEPTIONS = 100
# Relay's MaxChars for these fields (protocol.md §4); the message cap is 8192.
_FIELD_CHARS = {
    "logger": 64,
    "environment": 64,
    "dist": 64,
    "release": 200,
    "transaction": 200,
    "server_name": 200,
    "culprit": 200,
    "platform": 64,
    "checksum": 128,
}
_SINGLE_LINE_FIELDS = frozenset({"environment", "release", "dist"})
_LEVELS = {
    "debug": "debug",
    "info": "info",
    "log": "info",
    "warning": "warning",
    "error": "error",
    "fatal": "fatal",
    "critical": "fatal",
    "10": "debug",
    "20": "info",
    "30": "warning",
    "40": "error",
    "50": "fatal",
}
_DATA_BAGS = ("user", "request", "contexts", "extra", "sdk", "modules", "_meta")
_TAG_KEY = re.compile(r"[a-zA-Z0-9_.:-]{1,200}")
_HANDLED = frozenset(
    {
        "event_id",
        "timestamp",
        "received",
        "level",
        "message",
        "logentry",
        "exception",
        "threads",
        "stacktrace",
        "breadcrumbs",
        "tags",
        "fingerprint",
        "errors",
        *_FIELD_CHARS,
        *_DATA_BAGS,
    }
)


@dataclass(frozen=True)
class NormalizeContext:
    received_at: float  # unix seconds when ingest accepted the envelope
    sent_at: float | None  # the envelope header's sent_at, for clock drift
    envelope_event_id: str | None  # the id ingest answered with; wins over the payload's
    client_ip: str | None  # for user.ip_address "{{auto}}"


class InvalidEvent(ValueError):
    """The payload is not a JSON object."""


def normalize_event(payload: object, context: NormalizeContext) -> dict[str, Any]:
    """A new, normalized event built from `payload` (which is left as it was)."""
    if not isinstance(payload, dict):
        raise InvalidEvent("the event is not a JSON object")
    errors: list[dict[str, Any]] = []
    # Keys Shoal does not know are kept as they are.
    event: dict[str, Any] = {k: v for k, v in payload.items() if k not in _HANDLED}
    event["event_id"] = _event_id(payload, context, errors)
    event["timestamp"] = _timestamp(payload.get("timestamp"), context, errors)
    event["received"] = context.received_at
    event["level"] = _level(payload.get("level"), errors)
    event.update(_fields(payload, errors))
    event.setdefault("platform", "other")
    _set(event, "logentry", _logentry(payload))
    _set(event, "exception", _values(payload.get("exception"), _exception, MAX_EXCEPTIONS))
    _set(event, "threads", _values(payload.get("threads"), _container))
    _set(event, "breadcrumbs", _breadcrumbs(payload.get("breadcrumbs")))
    if isinstance(payload.get("stacktrace"), dict):
        event["stacktrace"] = _stacktrace(payload["stacktrace"])
    _set(event, "tags", _tags(payload.get("tags"), errors))
    _set(event, "fingerprint", _fingerprint(payload.get("fingerprint")))
    for bag in _DATA_BAGS:
        if isinstance(payload.get(bag), dict):
            event[bag] = payload[bag]
    _resolve_auto_ip(event, context.client_ip)
    if errors:
        event["errors"] = errors
    return event


def _set(event: dict[str, Any], key: str, value: object) -> None:
    if value:
        event[key] = value


def _event_id(payload: dict[str, Any], context: NormalizeContext, errors: list[dict[str, Any]]) -> str:
    event_id = parse_event_id(context.envelope_event_id) or parse_event_id(payload.get("event_id"))
    if event_id is None:
        if "event_id" in payload:
            errors.append({"type": "invalid_data", "name": "event_id", "value": trim(payload["event_id"])})
        event_id = uuid.uuid4().hex
    return event_id


def _timestamp(value: object, context: NormalizeContext, errors: list[dict[str, Any]]) -> float:
    received = context.received_at
    timestamp = parse_timestamp(value)
    if timestamp is None:
        if value is not None:
            errors.append({"type": "invalid_data", "name": "timestamp", "value": trim(value)})
        return received
    if context.sent_at is not None and abs(received - context.sent_at) >= CLOCK_DRIFT_SECONDS:
        # The device's clock is off: shift by how far its "sent at" is from our "received at".
        errors.append(
            {"type": "clock_drift", "name": "timestamp", "sdk_time": context.sent_at, "server_time": received}
        )
        timestamp += received - context.sent_at
    if timestamp > received + MAX_SECONDS_IN_FUTURE:
        errors.append({"type": "future_timestamp", "name": "timestamp", "value": timestamp})
        return received
    if timestamp < received - MAX_SECONDS_IN_PAST:
        errors.append({"type": "past_timestamp", "name": "timestamp", "value": timestamp})
        return received
    return timestamp


def _level(value: object, errors: list[dict[str, Any]]) -> str:
    if value is None:
        return "error"
    level = _LEVELS.get(str(value).strip().lower()) if isinstance(value, str | int) else None
    if level is None:
        errors.append({"type": "invalid_data", "name": "level", "value": trim(value)})
        return "error"
    return level


def _fields(payload: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, str]:
    fields = {}
    for name, limit in _FIELD_CHARS.items():
        value = payload.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or (name in _SINGLE_LINE_FIELDS and "\n" in value):
            errors.append({"type": "invalid_data", "name": name, "value": trim(value)})
            continue
        if len(value) > limit:
            errors.append({"type": "value_too_long", "name": name})
            value = value[:limit]
        fields[name] = value
    return fields


def _logentry(payload: dict[str, Any]) -> dict[str, Any] | None:
    """`logentry`, or a top-level `message` (string or object) moved there (protocol.md §4)."""
    source = payload.get("logentry")
    if not isinstance(source, dict):
        source = payload.get("message")
    if isinstance(source, str):
        return {"formatted": source[:MAX_STRING]} if source else None
    if not isinstance(source, dict):
        return None
    template, formatted, params = source.get("message"), source.get("formatted"), source.get("params")
    entry: dict[str, Any] = {}
    if isinstance(template, str) and template:
        entry["message"] = template[:MAX_STRING]
    if isinstance(formatted, str) and formatted:
        entry["formatted"] = formatted[:MAX_STRING]
    elif "message" in entry:
        entry["formatted"] = format_message(entry["message"], params)[:MAX_STRING]
    if params is not None and entry:
        entry["params"] = trim(params)
    return entry or None


def format_message(template: str, params: object) -> str:
    """Fill a logging template with its params: %-style (positional or named) or {}-style. A
    template that does not fit its params is left as it is."""
    try:
        if isinstance(params, dict):
            return template % params if "%(" in template else template.format(**params)
        if isinstance(params, list):
            return template % tuple(params) if "%" in template else template.format(*params)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        pass
    return template


def _values(container: object, convert: Any, limit: int = 1000) -> dict[str, list[dict[str, Any]]] | None:
    """Sentry's `Values`: {"values": [...]} or a bare list (protocol.md §4); non-objects dropped."""
    if isinstance(container, dict):
        container = container.get("values")
    if not isinstance(container, list):
        return None
    values = [convert(v) for v in container[-limit:] if isinstance(v, dict)]
    return {"values": values} if values else None


def _container(value: dict[str, Any]) -> dict[str, Any]:
    """An exception or a thread, with its stack trace normalized."""
    out = dict(value)
    if isinstance(value.get("stacktrace"), dict):
        out["stacktrace"] = _stacktrace(value["stacktrace"])
    else:
        out.pop("stacktrace", None)
    return out


def _exception(value: dict[str, Any]) -> dict[str, Any]:
    out = _container(value)
    for name in ("type", "value", "module"):
        if name in out and not isinstance(out[name], str):
            out[name] = None if out[name] is None else str(out[name])
    return out


def _stacktrace(stacktrace: dict[str, Any]) -> dict[str, Any]:
    frames = stacktrace.get("frames")
    frames = [with_relay_paths(f) for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []
    if len(frames) > MAX_FRAMES:
        # Keep both ends, as SDKs do: where it started and where it broke (protocol.md §4).
        frames = frames[: MAX_FRAMES // 2] + frames[-(MAX_FRAMES // 2) :]
    return {**stacktrace, "frames": frames}


def _breadcrumbs(container: object) -> dict[str, list[dict[str, Any]]] | None:
    return _values(container, dict, MAX_BREADCRUMBS)


def _tags(tags: object, errors: list[dict[str, Any]]) -> list[list[str]] | None:
    """Tags as a dict or as pairs → [[key, value], …]; numbers and booleans become text like in
    Relay; keys must match ^[a-zA-Z0-9_.:-]+$ (≤ 200), values ≤ 200 without newlines."""
    pairs = tags.items() if isinstance(tags, dict) else tags if isinstance(tags, list) else ()
    kept: dict[str, str] = {}
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        key, value = _tag_text(pair[0]), _tag_text(pair[1])
        if key is None or value is None or not _TAG_KEY.fullmatch(key) or len(value) > 200 or "\n" in value:
            errors.append(
                {"type": "invalid_data", "name": f"tags.{str(pair[0])[:200]}", "value": trim(pair[1])}
            )
            continue
        kept[key] = value  # a later duplicate wins
    return [[key, value] for key, value in kept.items()] or None


def _tag_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _fingerprint(fingerprint: object) -> list[str] | None:
    if not isinstance(fingerprint, list):
        return None
    return [str(part)[:MAX_STRING] for part in fingerprint if isinstance(part, str | int | float)] or None


def _resolve_auto_ip(event: dict[str, Any], client_ip: str | None) -> None:
    user = event.get("user")
    if isinstance(user, dict) and user.get("ip_address") == "{{auto}}":
        # A copy: the payload's own dict stays as the SDK sent it.
        event["user"] = {k: v for k, v in user.items() if k != "ip_address"}
        if client_ip:
            event["user"]["ip_address"] = client_ip
