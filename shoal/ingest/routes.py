"""The ingest endpoints, `POST /api/<project>/envelope/` and `/api/<project>/store/`, as plain ASGI.

A request goes: preflight or method check → auth from headers/query → key check → read the body
(capped) → decode it (capped, against bombs) → check the envelope's structure and sizes → quotas and
rate limits (`limits.py`: items over a limit are dropped here, all of them over is a 429) → append
to the spool → `200 {"id": …}`. Nothing parses an event payload here except to find an event id the
envelope header did not give. The answer comes only after the append is durable: SDKs never retry
a failed send (protocol.md §9), so a 200 must mean the event cannot be lost any more.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import orjson
from starlette.types import Receive, Scope, Send

from shoal import outcomes
from shoal.config import Config
from shoal.event_ids import new_event_id, parse_event_id
from shoal.ingest.auth import AuthError, SentryAuth, auth_from_dsn, auth_from_request
from shoal.ingest.decode import BodyTooLarge, UndecodableBody, decode_body, normalize_encoding
from shoal.ingest.envelope import Envelope, EnvelopeError, parse_envelope
from shoal.ingest.keys import KeyCache
from shoal.ingest.limits import Item, Limiter, Verdict, envelope_items, envelope_without
from shoal.ingest.responses import IngestError, send_error, send_json, send_preflight
from shoal.spool.base import SpoolEntry
from shoal.spool.group_commit import GroupCommitter, SpoolFull
from shoal.store.projects import KeyInfo

log = logging.getLogger(__name__)

# Item types whose payload is one event-sized JSON document, held to SHOAL_MAX_EVENT_BYTES.
_EVENT_SIZED_ITEMS = frozenset(
    {"event", "transaction", "security", "raw_security", "user_report", "feedback"}
)
_EVENT_ITEMS = frozenset({"event", "transaction", "security", "raw_security"})
# Bodies above this are decoded in a thread so a big (or bomb) body cannot stall the event loop.
_DECODE_INLINE_MAX = 256 * 1024


# Refusals counted as `invalid:<reason>` outcomes, with Relay's reason for an oversized request.
_REFUSAL_REASONS = {400: outcomes.INVALID_REQUEST, 413: outcomes.TOO_LARGE}


@dataclass(frozen=True, slots=True)
class _Accepted:
    """What the 200 says: the event id, and the rate-limit headers of limits in force."""

    event_id: str | None
    headers: list[tuple[bytes, bytes]]


class _RateLimited(IngestError):
    """Every item of the request is over a limit: 429 with Retry-After and X-Sentry-Rate-Limits."""

    def __init__(self, verdict: Verdict) -> None:
        limits = ", ".join(f"{limit.rule.reason} ({limit.rule.scope})" for limit in verdict.limits)
        super().__init__(429, f"rate limited: {limits}; retry in {verdict.retry_after} seconds")
        self.headers = verdict.headers(refused=True)


@dataclass(frozen=True, slots=True)
class _Body:
    data: bytes
    encoding: str  # "" for identity


@dataclass(frozen=True, slots=True)
class _Request:
    """A request that passed every check and limit: what to spool and what to answer."""

    kind: str  # envelope | store
    key: KeyInfo
    event_id: str | None  # the id to answer with
    spooled_id: str | None  # the id of the event that is spooled (None: it was dropped, or none)
    body: _Body
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class _Headers:
    x_sentry_auth: str | None = None
    authorization: str | None = None
    content_encoding: str = ""
    content_type: str = ""
    content_length: int | None = None


class IngestEndpoint:
    def __init__(self, config: Config, keys: KeyCache, committer: GroupCommitter, limiter: Limiter) -> None:
        self._config = config
        self._keys = keys
        self._committer = committer
        self._limiter = limiter

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, project_id: int, endpoint: str
    ) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await send_preflight(send)
            return
        try:
            if method != "POST":
                raise IngestError(405, f"method {method} not allowed; use POST")
            accepted = await self._accept(scope, receive, project_id, endpoint)
        except _RateLimited as exc:
            # Not logged at info: a flood of them is what rate limits are for.
            log.debug("ingest rate limited project=%s detail=%s", project_id, exc.detail)
            await send_error(send, exc.status, exc.detail, exc.headers)
            return
        except IngestError as exc:
            log.info("ingest refused project=%s status=%s detail=%s", project_id, exc.status, exc.detail)
            await send_error(send, exc.status, exc.detail)
            return
        except _ClientGone:
            return
        event_id = accepted.event_id
        await send_json(send, 200, {"id": event_id} if event_id else {}, accepted.headers)

    async def _accept(self, scope: Scope, receive: Receive, project_id: int, endpoint: str) -> _Accepted:
        received_at = time.time()
        headers = _read_headers(scope)
        auth = _auth_or_error(headers, scope.get("query_string", b""))
        key = self._check_key(auth, project_id) if auth is not None else None
        try:
            request = await self._checked_request(
                receive, headers, endpoint, auth=auth, key=key, project_id=project_id
            )
        except IngestError as exc:
            # A refusal from a known key is the sender's outcome too (docs/stats.md); one from
            # an unknown sender is not counted, or anyone could write a project's stats.
            reason = _REFUSAL_REASONS.get(exc.status)
            if key is not None and reason is not None:
                self._limiter.count_invalid(key, reason)
            raise
        client = scope.get("client")
        entry = SpoolEntry(
            project_id=project_id,
            kind=request.kind,
            received_at=received_at,
            event_id=request.spooled_id,
            client_ip=client[0] if client else None,
            content_encoding=request.body.encoding,
            body=request.body.data,
            key_id=request.key.id,
        )
        try:
            await self._committer.append(entry)
        except SpoolFull as exc:
            raise IngestError(503, "cannot queue the event now; the disk is behind") from exc
        except Exception as exc:
            raise IngestError(503, "cannot queue the event now") from exc
        return _Accepted(request.event_id, request.verdict.headers(refused=False))

    async def _checked_request(
        self,
        receive: Receive,
        headers: _Headers,
        endpoint: str,
        *,
        auth: SentryAuth | None,
        key: KeyInfo | None,
        project_id: int,
    ) -> _Request:
        body = await self._read_body(receive, headers)
        decoded = await self._decode(body, headers.content_encoding, endpoint)
        sent = _Body(body, normalize_encoding(headers.content_encoding))
        if endpoint == "envelope" or headers.content_type.startswith("application/x-sentry-envelope"):
            return self._limit_envelope(decoded, sent, key, project_id)
        return self._limit_store(decoded, sent, auth, key)

    def _limit_envelope(self, decoded: bytes, sent: _Body, key: KeyInfo | None, project_id: int) -> _Request:
        envelope, key = self._check_envelope(decoded, key, project_id)
        event_id = _envelope_event_id(envelope)
        verdict = self._limiter.check(key, envelope_items(envelope))
        if verdict.refuses_all(len(envelope.items)):
            raise _RateLimited(verdict)
        if not verdict.dropped:
            return _Request("envelope", key, event_id, event_id, sent, verdict)
        # Some items are over: spool the rest, uncompressed, and tell the SDK with the header (as
        # Relay does). The answer keeps the event id even if the event was the item dropped.
        kept = [item for i, item in enumerate(envelope.items) if i not in verdict.dropped]
        spooled_id = event_id if any(item.type in _EVENT_ITEMS for item in kept) else None
        body = _Body(envelope_without(envelope, verdict.dropped), "")
        return _Request("envelope", key, event_id, spooled_id, body, verdict)

    def _limit_store(
        self, decoded: bytes, sent: _Body, auth: SentryAuth | None, key: KeyInfo | None
    ) -> _Request:
        event_id = self._check_store(decoded, auth)
        assert key is not None  # _check_store refuses a request without auth; its key was checked
        verdict = self._limiter.check(key, [Item("error", 1)])
        if verdict.dropped:
            raise _RateLimited(verdict)
        return _Request("store", key, event_id, event_id, sent, verdict)

    def _check_key(self, auth: SentryAuth, project_id: int) -> KeyInfo:
        key = self._keys.lookup(auth.public_key)
        if key is None:
            raise IngestError(403, "unknown project key")
        if not key.enabled:
            raise IngestError(403, "project key is disabled")
        if key.project_id != project_id or auth.dsn_project_id not in (None, project_id):
            raise IngestError(403, "project key does not belong to this project")
        return key

    async def _read_body(self, receive: Receive, headers: _Headers) -> bytes:
        limit = self._config.max_body_bytes
        if headers.content_length is not None and headers.content_length > limit:
            raise IngestError(413, f"request body is larger than {limit} bytes")
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise IngestError(413, f"request body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if size == 0:
            raise IngestError(400, "empty request body")
        return b"".join(chunks)

    async def _decode(self, body: bytes, content_encoding: str, endpoint: str) -> bytes:
        config = self._config
        limit = config.max_envelope_bytes if endpoint == "envelope" else config.max_event_bytes
        try:
            if len(body) <= _DECODE_INLINE_MAX:
                return decode_body(body, content_encoding, limit)
            return await asyncio.to_thread(decode_body, body, content_encoding, limit)
        except BodyTooLarge as exc:
            raise IngestError(413, f"decompressed body is larger than {limit} bytes") from exc
        except UndecodableBody as exc:
            raise IngestError(400, str(exc)) from exc

    def _check_envelope(self, body: bytes, key: KeyInfo | None, project_id: int) -> tuple[Envelope, KeyInfo]:
        try:
            envelope = parse_envelope(body)
        except EnvelopeError as exc:
            raise IngestError(400, f"invalid envelope: {exc}") from exc
        if key is None:
            # The JS SDK's tunnel sends no auth but the DSN in the envelope header (protocol.md §1).
            if "dsn" not in envelope.headers:
                raise IngestError(401, "missing authorization information")
            key = self._check_key(_auth_or_error_from_dsn(envelope.headers["dsn"]), project_id)
        self._check_items(envelope)
        return envelope, key

    def _check_items(self, envelope: Envelope) -> None:
        limit = self._config.max_event_bytes
        for item in envelope.items:
            if item.type in _EVENT_SIZED_ITEMS and len(item.payload) > limit:
                raise IngestError(413, f"{item.type} item is larger than {limit} bytes")
        if sum(item.type in _EVENT_ITEMS for item in envelope.items) > 1:
            raise IngestError(400, "an envelope may hold only one event")

    def _check_store(self, body: bytes, auth: SentryAuth | None) -> str:
        if auth is None:
            raise IngestError(401, "missing authorization information")
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise IngestError(400, f"invalid JSON: {exc}") from exc
        if not isinstance(event, dict):
            raise IngestError(400, "the event must be a JSON object")
        return parse_event_id(event.get("event_id")) or new_event_id()


class _ClientGone(Exception):
    """The client disconnected before sending its whole body; there is no one to answer."""


def _read_headers(scope: Scope) -> _Headers:
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED_HEADERS:
            found[name] = value.decode("latin-1")
    length = found.get(b"content-length", "")
    return _Headers(
        x_sentry_auth=found.get(b"x-sentry-auth"),
        authorization=found.get(b"authorization"),
        content_encoding=found.get(b"content-encoding", ""),
        content_type=found.get(b"content-type", "").lower(),
        content_length=int(length) if length.isdigit() else None,
    )


_WANTED_HEADERS = frozenset(
    {b"x-sentry-auth", b"authorization", b"content-encoding", b"content-type", b"content-length"}
)


def _auth_or_error(headers: _Headers, query: bytes) -> SentryAuth | None:
    try:
        return auth_from_request(headers.x_sentry_auth, headers.authorization, query)
    except AuthError as exc:
        raise IngestError(exc.status, exc.detail) from exc


def _auth_or_error_from_dsn(dsn: object) -> SentryAuth:
    try:
        return auth_from_dsn(dsn)
    except AuthError as exc:
        raise IngestError(exc.status, exc.detail) from exc


def _envelope_event_id(envelope: Envelope) -> str | None:
    """The id to answer with: the header's, else the event item's own, else a new one."""
    header_id = envelope.headers.get("event_id")
    if header_id is not None:
        event_id = parse_event_id(header_id)
        if event_id is None:
            raise IngestError(400, "invalid event_id in envelope header")
        return event_id
    events = [item for item in envelope.items if item.type in _EVENT_ITEMS]
    if not events:
        return None
    # Rare (every SDK sets the header): read the payload's own id so the answer matches what is stored.
    try:
        payload = orjson.loads(events[0].payload)
    except orjson.JSONDecodeError:
        return new_event_id()
    return parse_event_id(payload.get("event_id") if isinstance(payload, dict) else None) or new_event_id()
