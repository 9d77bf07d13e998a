"""What ingest answers: Sentry-style JSON bodies, CORS headers, and the preflight.

Errors are `{"detail": …}` with the same text in `X-Sentry-Error` (protocol.md §2). Every response
carries CORS headers that expose the rate-limit headers (`X-Sentry-Rate-Limits`, `Retry-After`:
shoal/ingest/limits.py), or a browser SDK could not read them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Send

_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"x-sentry-error, x-sentry-rate-limits, retry-after"),
]
# Relay's list (protocol.md §2, middlewares/cors.rs).
_PREFLIGHT = [
    *_CORS,
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (
        b"access-control-allow-headers",
        b"x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
        b"authentication, authorization, content-encoding, transfer-encoding",
    ),
    (b"access-control-max-age", b"3600"),
]


class IngestError(Exception):
    """A request ingest refuses: the HTTP status and a sentence saying why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *_CORS,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def send_error(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """`headers`: more to send, e.g. a 429's Retry-After and X-Sentry-Rate-Limits."""
    # Header values must be latin-1 and one line; details are ours, but keep the guarantee.
    header = detail.encode("latin-1", "replace").replace(b"\n", b" ")
    await send_json(send, status, {"detail": detail}, [(b"x-sentry-error", header), *(headers or [])])


async def send_preflight(send: Send) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [*_PREFLIGHT, (b"content-length", b"0")]}
    )
    await send({"type": "http.response.body", "body": b""})
