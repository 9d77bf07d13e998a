"""The values of an event attribute that the "event attribute" filter compares (Sentry's
`EventAttributeFilter` names: `exception.type`, `user.email`, `http.status_code`, …).

An attribute can have several values (one per exception, one per frame); the filter passes when
any of them matches, or for the negative matches when none does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shoal.eventdata import as_dict, text, values_of


def attribute_values(event: dict[str, Any], attribute: str) -> list[str]:
    read = _READERS.get(attribute)
    if read is None:
        return []
    return [value for value in (text(v) for v in read(event)) if value is not None]


def _exceptions(event: dict[str, Any]) -> list[dict[str, Any]]:
    return values_of(event.get("exception"))


def _frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        frame
        for exception in _exceptions(event)
        for frame in values_of(as_dict(exception.get("stacktrace")).get("frames"))
    ]


def _message(event: dict[str, Any]) -> list[object]:
    logentry = as_dict(event.get("logentry"))
    return [logentry.get("formatted") or logentry.get("message") or event.get("message")]


def _handled(event: dict[str, Any], wanted: bool) -> list[object]:
    flags = [as_dict(e.get("mechanism")).get("handled") for e in _exceptions(event)]
    return ["true" if (flag is not False) == wanted else "false" for flag in flags]


def _user(field: str) -> Callable[[dict[str, Any]], list[object]]:
    return lambda event: [as_dict(event.get("user")).get(field)]


def _request(field: str) -> Callable[[dict[str, Any]], list[object]]:
    return lambda event: [as_dict(event.get("request")).get(field)]


def _frame_field(field: str) -> Callable[[dict[str, Any]], list[object]]:
    return lambda event: [frame.get(field) for frame in _frames(event)]


def _status_code(event: dict[str, Any]) -> list[object]:
    return [as_dict(as_dict(event.get("contexts")).get("response")).get("status_code")]


_READERS: dict[str, Callable[[dict[str, Any]], list[object]]] = {
    "message": _message,
    "platform": lambda event: [event.get("platform")],
    "environment": lambda event: [event.get("environment")],
    "type": lambda event: [event.get("type") or ("error" if _exceptions(event) else "default")],
    "error.handled": lambda event: _handled(event, True),
    "error.unhandled": lambda event: _handled(event, False),
    "exception.type": lambda event: [e.get("type") for e in _exceptions(event)],
    "exception.value": lambda event: [e.get("value") for e in _exceptions(event)],
    "user.id": _user("id"),
    "user.email": _user("email"),
    "user.username": _user("username"),
    "user.ip_address": _user("ip_address"),
    "http.method": _request("method"),
    "http.url": _request("url"),
    "http.status_code": _status_code,
    "sdk.name": lambda event: [as_dict(event.get("sdk")).get("name")],
    "stacktrace.module": _frame_field("module"),
    "stacktrace.filename": _frame_field("filename"),
    "stacktrace.abs_path": _frame_field("abs_path"),
    "stacktrace.package": _frame_field("package"),
}

ATTRIBUTE_NAMES = tuple(_READERS)
