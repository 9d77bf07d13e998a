"""Sentry envelopes: split a decoded body into its header and items (protocol.md §3).

Both styles the SDKs write are accepted: Python's, where every item header carries `length` and the
body ends with a newline, and JavaScript's, where JSON items have no `length` (the payload runs to
the next newline) and nothing follows the last payload. Only header lines are parsed as JSON;
payloads stay bytes, so ingest never pays for parsing an event it only has to store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

_NEWLINE = 0x0A
_CARRIAGE_RETURN = 0x0D


class EnvelopeError(ValueError):
    """The body is not a well-formed envelope; the message says where."""


@dataclass(frozen=True, slots=True)
class Item:
    headers: dict[str, Any]
    payload: bytes

    @property
    def type(self) -> str:
        item_type: str = self.headers["type"]
        return item_type


@dataclass(frozen=True, slots=True)
class Envelope:
    headers: dict[str, Any]
    items: list[Item]


def parse_envelope(body: bytes) -> Envelope:
    header_end = _line_end(body, 0)
    headers = _parse_header(body[:header_end], "envelope header")
    items = []
    position = header_end + 1
    item_number = 1
    while position < len(body):
        item, position = _parse_item(body, position, item_number)
        items.append(item)
        item_number += 1
    return Envelope(headers, items)


def _parse_item(body: bytes, start: int, number: int) -> tuple[Item, int]:
    header_end = _line_end(body, start)
    headers = _parse_header(body[start:header_end], f"item {number} header")
    item_type = headers.get("type")
    if not isinstance(item_type, str) or not item_type:
        raise EnvelopeError(f"item {number} header has no type")
    payload_start = header_end + 1
    length = headers.get("length")
    if length is None:
        payload_end = _line_end(body, payload_start)
        return Item(headers, body[payload_start:payload_end]), payload_end + 1
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise EnvelopeError(f"item {number} has an invalid length {length!r}")
    payload_end = payload_start + length
    if payload_end > len(body):
        raise EnvelopeError(f"item {number} is shorter than its length {length}")
    # After exactly `length` bytes comes a newline or the end of the body (Relay's rule).
    if payload_end < len(body) and body[payload_end] != _NEWLINE:
        raise EnvelopeError(f"item {number} is longer than its length {length}")
    return Item(headers, body[payload_start:payload_end]), payload_end + 1


def _line_end(body: bytes, start: int) -> int:
    end = body.find(b"\n", start)
    return len(body) if end < 0 else end


def _parse_header(line: bytes, what: str) -> dict[str, Any]:
    if not line.strip():
        raise EnvelopeError(f"{what} is missing")
    # "\r\n" is not a line ending in envelopes; a header followed by one is malformed (protocol.md §3).
    if line[-1] == _CARRIAGE_RETURN:
        raise EnvelopeError(f"{what} ends with a carriage return")
    try:
        headers = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(headers, dict):
        raise EnvelopeError(f"{what} is not a JSON object")
    return headers
