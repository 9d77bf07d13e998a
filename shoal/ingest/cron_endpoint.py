"""Sentry's HTTP check-in endpoint, `GET|POST /api/<project>/cron/<monitor_slug>/<public key>/`
(also without the key in the path, given as `?sentry_key=` or an auth header; trailing slash
optional), for jobs that check in with curl instead of an SDK.

The check-in is read from the query string (`status`, `check_in_id`, `environment`, `duration` in
seconds, as Relay's monitor endpoint reads them) or, for a POST with `Content-Type:
application/json`, from the body (a check-in object, `monitor_config` included; the query string
fills in what the body leaves out). It becomes an envelope with one `check_in` item, appended to
the spool before the answer, like every ingest path: `202` with an empty object. Over a quota it is
dropped and counted, but still answered 202, as Relay does: a cron script has no use for a 429.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send

from shoal.config import Config
from shoal.event_ids import parse_event_id
from shoal.ingest.auth import AuthError, auth_from_request
from shoal.ingest.decode import BodyTooLarge, UndecodableBody, decode_body, normalize_encoding
from shoal.ingest.keys import KeyCache
from shoal.ingest.limits import Item, Limiter
from shoal.ingest.responses import IngestError, send_error, send_json, send_preflight
from shoal.spool.base import SpoolEntry
from shoal.spool.group_commit import GroupCommitter, SpoolFull
from shoal.store.projects import KeyInfo

log = logging.getLogger(__name__)

STATUSES = ("in_progress", "ok", "error")
MAX_CHECK_IN_BYTES = 100 * 1024  # Sentry's limit for a check-in item (protocol.md §6)
_QUERY_FIELDS = ("status", "check_in_id", "environment", "duration")


class CronEndpoint:
    def __init__(self, config: Config, keys: KeyCache, committer: GroupCommitter, limiter: Limiter) -> None:
        self._config = config
        self._keys = keys
        self._committer = committer
        self._limiter = limiter

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, project_id: int, *, slug: str, path_key: str | None
    ) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await send_preflight(send)
            return
        try:
            if method not in ("GET", "POST"):
                raise IngestError(405, f"method {method} not allowed; use GET or POST")
            await self._accept(scope, receive, project_id, slug, path_key)
        except IngestError as exc:
            log.info("check-in refused project=%s status=%s detail=%s", project_id, exc.status, exc.detail)
            await send_error(send, exc.status, exc.detail)
            return
        await send_json(send, 202, {}, [])

    async def _accept(
        self, scope: Scope, receive: Receive, project_id: int, slug: str, path_key: str | None
    ) -> None:
        received_at = time.time()
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        query = scope.get("query_string", b"")
        key = self._check_key(_public_key(headers, query, path_key), project_id)
        body = await _read_body(receive, headers.get("content-length"))
        check_in = _check_in(slug, query, headers, body)
        if self._limiter.check(key, [Item("monitor", 1)]).dropped:
            return  # counted as rate_limited by the limiter
        payload = orjson.dumps(check_in)
        item = orjson.dumps({"type": "check_in", "content_type": "application/json", "length": len(payload)})
        client = scope.get("client")
        entry = SpoolEntry(
            project_id=project_id,
            kind="envelope",
            received_at=received_at,
            event_id=None,
            client_ip=client[0] if client else None,
            content_encoding="",
            body=b"{}\n" + item + b"\n" + payload + b"\n",
            key_id=key.id,
        )
        try:
            await self._committer.append(entry)
        except SpoolFull as exc:
            raise IngestError(503, "cannot queue the check-in now; the disk is behind") from exc
        except Exception as exc:
            raise IngestError(503, "cannot queue the check-in now") from exc

    def _check_key(self, public_key: str, project_id: int) -> KeyInfo:
        key = self._keys.lookup(public_key)
        if key is None:
            raise IngestError(403, "unknown project key")
        if not key.enabled:
            raise IngestError(403, "project key is disabled")
        if key.project_id != project_id:
            raise IngestError(403, "project key does not belong to this project")
        return key


def _public_key(headers: dict[str, str], query: bytes, path_key: str | None) -> str:
    """The key from the path, or from the headers or query string as on every ingest route;
    given twice is 401, as Relay has it (protocol.md §1)."""
    try:
        auth = auth_from_request(headers.get("x-sentry-auth"), headers.get("authorization"), query)
        if path_key is not None:
            if auth is not None:
                raise IngestError(401, "multiple authorization payloads detected")
            auth = auth_from_request(None, None, f"sentry_key={path_key}".encode())
    except AuthError as exc:
        raise IngestError(exc.status, exc.detail) from exc
    if auth is None:
        raise IngestError(401, "missing authorization information")
    return auth.public_key


async def _read_body(receive: Receive, content_length: str | None) -> bytes:
    if content_length is not None and content_length.isdigit() and int(content_length) > MAX_CHECK_IN_BYTES:
        raise IngestError(413, f"a check-in is at most {MAX_CHECK_IN_BYTES} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise IngestError(400, "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_CHECK_IN_BYTES:
            raise IngestError(413, f"a check-in is at most {MAX_CHECK_IN_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _check_in(slug: str, query: bytes, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The check-in item's payload: the JSON body's fields over the query string's."""
    fields: dict[str, Any] = {
        name: value for name, value in parse_qsl(query.decode("latin-1")) if name in _QUERY_FIELDS
    }
    if "duration" in fields:
        fields["duration"] = _seconds(fields["duration"])
    if headers.get("content-type", "").lower().startswith("application/json") and body:
        fields.update(_json_body(body, headers.get("content-encoding", "")))
    fields["monitor_slug"] = slug
    if fields.get("status") not in STATUSES:
        raise IngestError(400, f"status must be one of {', '.join(STATUSES)}")
    check_in_id = fields.get("check_in_id")
    if check_in_id is not None and parse_event_id(check_in_id) is None:
        raise IngestError(400, "check_in_id must be a UUID")
    return fields


def _json_body(body: bytes, content_encoding: str) -> dict[str, Any]:
    try:
        data = orjson.loads(decode_body(body, normalize_encoding(content_encoding), MAX_CHECK_IN_BYTES))
    except BodyTooLarge as exc:
        raise IngestError(413, f"a check-in is at most {MAX_CHECK_IN_BYTES} bytes") from exc
    except (UndecodableBody, orjson.JSONDecodeError) as exc:
        raise IngestError(400, f"invalid JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise IngestError(400, "the body must be a JSON object")
    return data


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError as exc:
        raise IngestError(400, "duration is a number of seconds") from exc
    if not seconds >= 0:
        raise IngestError(400, "duration is a number of seconds")
    return seconds
