"""What an inbound filter looks at, `Inbound`: an event (normalized) or a transaction (as the SDK
sent it), with the address that sent it; and readers of the fields several filters share.

The readers take what SDKs really send and never raise: headers as an object or as [name, value]
pairs, `exception` as a list or as {"values": [...]}, any field missing or of another type.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit


@dataclass(frozen=True, slots=True)
class Inbound:
    data: Mapping[str, Any]
    # The address of the HTTP client that sent the envelope (ingest's spool entry); None when not
    # known, as for stored events replayed by the preview.
    client_ip: str | None = None

    @property
    def is_transaction(self) -> bool:
        return self.data.get("type") == "transaction"


def exceptions(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The event's exceptions, oldest first: the last is the one raised (protocol.md §4)."""
    container = data.get("exception")
    values = container.get("values") if isinstance(container, Mapping) else container
    return [value for value in values if isinstance(value, Mapping)] if isinstance(values, list) else []


def raised_exception(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = exceptions(data)
    return found[-1] if found else None


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def frames(exception: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The exception's stack frames, outermost first (the last frame is where it was raised)."""
    stacktrace = exception.get("stacktrace")
    found = stacktrace.get("frames") if isinstance(stacktrace, Mapping) else None
    return [frame for frame in found if isinstance(frame, Mapping)] if isinstance(found, list) else []


def request(data: Mapping[str, Any]) -> Mapping[str, Any]:
    found = data.get("request")
    return found if isinstance(found, Mapping) else {}


def _headers(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    headers = request(data).get("headers")
    pairs = headers.items() if isinstance(headers, Mapping) else headers if isinstance(headers, list) else ()
    for pair in pairs:
        if isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[1], str):
            yield str(pair[0]), pair[1]


def header(data: Mapping[str, Any], name: str) -> str | None:
    """A request header's value, its name in any case."""
    wanted = name.lower()
    return next((value for key, value in _headers(data) if key.lower() == wanted), None)


def user_agent(data: Mapping[str, Any]) -> str | None:
    return header(data, "User-Agent")


def request_url(data: Mapping[str, Any]) -> SplitResult | None:
    url = text(request(data).get("url"))
    if url is None:
        return None
    try:
        return urlsplit(url)
    except ValueError:  # an invalid IPv6 host, e.g. "http://[::1"
        return None


def user_ip(data: Mapping[str, Any]) -> str | None:
    user = data.get("user")
    return text(user.get("ip_address")) if isinstance(user, Mapping) else None
