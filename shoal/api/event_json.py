"""Events in the JSON shape of Sentry's API (protocol.md §8): the stored, normalized event reshaped
into `entries` (exception, message, stacktrace, threads, breadcrumbs, request), `tags` as a list of
`{key, value}` (the tags the event is counted under, shoal.digest.tags), and title, culprit and
metadata as the issue computes them (shoal.digest.summary).

`event_json` is the full event, as an event's detail answers it and lists with `full=true`;
`simple_event_json` the short form lists answer by default (Sentry's "simple event"). Every value
comes from a payload anyone with a DSN could write: fields are read with shoal.eventdata's
accessors, so a malformed one is left out, never an error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from shoal.clock import iso_utc
from shoal.digest.summary import IssueSummary, summarize
from shoal.digest.tags import event_tags
from shoal.digest.timestamps import parse_timestamp
from shoal.eventdata import as_dict, as_list, text, values_of
from shoal.store.event_lists import EventRow


def simple_event_json(row: EventRow) -> dict[str, Any]:
    return _simple(row, summarize(row.data))


def _simple(row: EventRow, summary: IssueSummary) -> dict[str, Any]:
    data = row.data
    return {
        "id": row.event_id,
        "eventID": row.event_id,
        "groupID": str(row.issue_id),
        "projectID": str(row.project_id),
        "event.type": summary.type,
        "title": summary.title,
        "message": _message(data),
        "culprit": summary.culprit,
        "location": summary.culprit or None,
        "platform": text(data.get("platform")),
        "dateCreated": iso_utc(row.timestamp),
        "user": as_dict(data.get("user")) or None,
        "tags": [{"key": key, "value": value} for key, value in sorted(event_tags(data))],
        "metadata": summary.metadata,
        "crashFile": None,
    }


def event_json(row: EventRow, *, previous: str | None = None, following: str | None = None) -> dict[str, Any]:
    """The full event; `previous` and `following` are the ids of the issue's events before and
    after it (Sentry's previousEventID and nextEventID)."""
    data = row.data
    summary = summarize(data)
    sdk = as_dict(data.get("sdk"))
    release = text(data.get("release"))
    return {
        **_simple(row, summary),
        "type": summary.type,
        "dateReceived": iso_utc(row.received),
        "contexts": as_dict(data.get("contexts")),
        "sdk": {"name": text(sdk.get("name")), "version": text(sdk.get("version"))} if sdk else None,
        "release": {"version": release, "shortVersion": release} if release else None,
        "dist": text(data.get("dist")),
        "environment": text(data.get("environment")),
        "fingerprints": row.hashes,
        "entries": entries(data),
        "errors": [e for e in as_list(data.get("errors")) if isinstance(e, dict)],
        "packages": as_dict(data.get("modules")),
        "extra": as_dict(data.get("extra")),
        "_meta": as_dict(data.get("_meta")),
        "occurrence": None,
        "userReport": None,
        "previousEventID": previous,
        "nextEventID": following,
    }


def _message(data: dict[str, Any]) -> str:
    logentry = as_dict(data.get("logentry"))
    return text(logentry.get("formatted")) or text(logentry.get("message")) or text(data.get("message")) or ""


def entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's interfaces as Sentry's `entries` list them, those the event has."""
    found: list[dict[str, Any]] = []
    exceptions = values_of(data.get("exception"))
    if exceptions:
        system = any(not as_dict(f).get("in_app") for e in exceptions for f in _frames(e.get("stacktrace")))
        found.append({"type": "exception", "data": {"values": exceptions, "hasSystemFrames": system}})
    logentry = as_dict(data.get("logentry"))
    if logentry:
        formatted = text(logentry.get("formatted")) or text(logentry.get("message"))
        params = logentry.get("params")
        found.append({"type": "message", "data": {"formatted": formatted, "params": params}})
    stacktrace = as_dict(data.get("stacktrace"))
    if stacktrace:
        found.append({"type": "stacktrace", "data": stacktrace})
    threads = values_of(data.get("threads"))
    if threads:
        found.append({"type": "threads", "data": {"values": threads}})
    crumbs = values_of(data.get("breadcrumbs"))
    if crumbs:
        found.append({"type": "breadcrumbs", "data": {"values": [_crumb(c) for c in crumbs]}})
    request = as_dict(data.get("request"))
    if request:
        found.append({"type": "request", "data": _request(request)})
    return found


def _frames(stacktrace: object) -> list[Any]:
    return as_list(as_dict(stacktrace).get("frames"))


def _crumb(crumb: dict[str, Any]) -> dict[str, Any]:
    """Sentry's API writes a breadcrumb's time as ISO 8601; one it cannot read stays as sent."""
    moment = parse_timestamp(crumb.get("timestamp"))
    try:
        stamp = iso_utc(moment) if moment is not None else crumb.get("timestamp")
    except (OverflowError, ValueError, OSError):
        stamp = crumb.get("timestamp")
    return {
        "type": text(crumb.get("type")) or "default",
        "category": text(crumb.get("category")),
        "level": text(crumb.get("level")) or "info",
        "message": text(crumb.get("message")),
        "data": as_dict(crumb.get("data")) or None,
        "timestamp": stamp,
        "event_id": text(crumb.get("event_id")),
    }


def _request(request: dict[str, Any]) -> dict[str, Any]:
    """Sentry's API lists headers, query and cookies as [name, value] pairs."""
    return {
        "url": text(request.get("url")),
        "method": text(request.get("method")),
        "query": _pairs(request.get("query_string")),
        "fragment": text(request.get("fragment")),
        "data": request.get("data"),
        "headers": _pairs(request.get("headers")),
        "cookies": _pairs(request.get("cookies")),
        "env": as_dict(request.get("env")) or None,
        "inferredContentType": None,
    }


def _pairs(value: object) -> list[list[Any]]:
    if isinstance(value, dict):
        return [[key, item] for key, item in sorted(value.items())]
    if isinstance(value, list):
        return [list(pair) for pair in value if isinstance(pair, list | tuple) and len(pair) == 2]
    if isinstance(value, str) and value:
        return [[key, item] for key, item in parse_qsl(value.lstrip("?"), keep_blank_values=True)]
    return []
