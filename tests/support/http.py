"""A raw HTTP client for ingest tests: exact bytes, chosen headers, chunked or not."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return orjson.loads(self.body)


def post(
    url: str, body: bytes | Iterator[bytes], headers: dict[str, str] | None = None, method: str = "POST"
) -> Reply:
    """POST `body` as is. An iterator of chunks is sent with Transfer-Encoding: chunked."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        chunked = not isinstance(body, bytes)
        conn.request(method, target, body=body, headers=headers or {}, encode_chunked=chunked)
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def envelope_url(base_url: str, project_id: int) -> str:
    return f"{base_url}/api/{project_id}/envelope/"


def auth_header(public_key: str) -> dict[str, str]:
    return {
        "X-Sentry-Auth": f"Sentry sentry_key={public_key}, sentry_version=7, sentry_client=shoal-tests/1.0"
    }


def event_envelope(event: Mapping[str, object], event_id: str) -> bytes:
    """A Python-style envelope (lengths, trailing newline) holding one event."""
    payload = orjson.dumps({"event_id": event_id, **event})
    header = orjson.dumps({"event_id": event_id})
    item = orjson.dumps({"type": "event", "content_type": "application/json", "length": len(payload)})
    return header + b"\n" + item + b"\n" + payload + b"\n"


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body)
