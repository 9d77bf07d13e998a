"""`POST /tunnel`: envelopes that a browser SDK sends through its `tunnel` option, ingested exactly
as `/api/<project>/envelope/` ingests them.

With `tunnel: "/tunnel"` the JavaScript SDKs post the raw envelope to that URL with no key in the
query string or headers, and put the whole DSN in the envelope header instead (protocol.md §1,
§9). A tunnel reads that first line, checks that the DSN names its Sentry, and forwards the body to
the DSN's project. Shoal is that Sentry, so "forwarding" is handing the request, body unchanged, to
the envelope endpoint of the DSN's project: the same key check (the DSN's key must belong to the
project in its path), size limits, rate limits and answers. The DSN is the only auth a tunnelled
envelope has: a key in the query string or an auth header is dropped, as a tunnel does not pass
them on.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import orjson
from starlette.types import Message, Receive, Scope, Send

from shoal.config import Config
from shoal.ingest.auth import AuthError, auth_from_dsn
from shoal.ingest.decode import BodyTooLarge, UndecodableBody, decode_body
from shoal.ingest.responses import IngestError, send_error, send_preflight
from shoal.ingest.routes import IngestEndpoint

# Where Shoal serves it: the path Sentry's tunnelling guide and most examples use, with or without
# the trailing slash (Relay's own routes need one, but a tunnel is a user's route, not Relay's).
TUNNEL_PATHS = frozenset({"/tunnel", "/tunnel/"})
_DROPPED_HEADERS = frozenset({b"x-sentry-auth", b"authorization"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# As in routes.py: bigger bodies are decoded in a thread so the event loop keeps serving others.
_DECODE_INLINE_MAX = 256 * 1024


class TunnelEndpoint:
    def __init__(self, config: Config, envelope_endpoint: IngestEndpoint) -> None:
        self._config = config
        self._envelope_endpoint = envelope_endpoint
        self._own_origin = _origin(config.public_url)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await send_preflight(send)
            return
        try:
            if scope["method"] != "POST":
                raise IngestError(405, f"method {scope['method']} not allowed; use POST")
            body = await self._read_body(receive)
            if body is None:
                return  # the client went away; there is no one to answer
            project_id = await self._project_of(body, scope)
        except IngestError as exc:
            await send_error(send, exc.status, exc.detail)
            return
        await self._envelope_endpoint.handle(
            _without_auth(scope), _replay(body), send, project_id, "envelope"
        )

    async def _read_body(self, receive: Receive) -> bytes | None:
        limit = self._config.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise IngestError(413, f"request body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _project_of(self, body: bytes, scope: Scope) -> int:
        """The project the envelope header's DSN names, once the DSN is known to be this Shoal's."""
        if not body:
            raise IngestError(400, "empty request body")
        dsn = _header_dsn(await self._decoded(body, _header(scope, b"content-encoding")))
        try:
            auth = auth_from_dsn(dsn)
        except AuthError as exc:
            raise IngestError(exc.status, exc.detail) from exc
        assert isinstance(dsn, str) and auth.dsn_project_id is not None  # auth_from_dsn checked both
        if _dsn_origin(dsn) not in (self._own_origin, _request_origin(scope)):
            raise IngestError(
                403, f"the DSN in the envelope header is not for this Shoal ({self._config.public_url})"
            )
        return auth.dsn_project_id

    async def _decoded(self, body: bytes, content_encoding: str) -> bytes:
        limit = self._config.max_envelope_bytes
        try:
            if len(body) <= _DECODE_INLINE_MAX:
                return decode_body(body, content_encoding, limit)
            return await asyncio.to_thread(decode_body, body, content_encoding, limit)
        except BodyTooLarge as exc:
            raise IngestError(413, f"decompressed body is larger than {limit} bytes") from exc
        except UndecodableBody as exc:
            raise IngestError(400, str(exc)) from exc


def _header_dsn(envelope: bytes) -> object:
    try:
        header = orjson.loads(envelope.split(b"\n", 1)[0])
    except orjson.JSONDecodeError as exc:
        raise IngestError(400, f"invalid envelope: the header line is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise IngestError(400, "invalid envelope: the header line is not a JSON object")
    if "dsn" not in header:
        raise IngestError(401, "missing authorization information: a tunnelled envelope needs its dsn")
    return header["dsn"]


def _origin(url: str) -> tuple[str, int | None, str]:
    """Host, port and path of a base URL such as SHOAL_URL: what a DSN must name to be Shoal's."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return ("", None, "")
    return ((parts.hostname or "").lower(), port, parts.path.rstrip("/"))


def _dsn_origin(dsn: str) -> tuple[str, int | None, str]:
    """The same for a DSN, whose path is the base URL's path followed by the project id."""
    host, port, path = _origin(dsn)
    return (host, port, path.rsplit("/", 1)[0])


def _request_origin(scope: Scope) -> tuple[str, int | None, str]:
    """The host this request was sent to, for a Shoal reached under another name than SHOAL_URL."""
    host = _header(scope, b"host")
    return _origin(f"{scope.get('scheme', 'http')}://{host}") if host else ("", None, "")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _without_auth(scope: Scope) -> Scope:
    headers = [(key, value) for key, value in scope["headers"] if key not in _DROPPED_HEADERS]
    return {**scope, "headers": headers, "query_string": b""}


def _replay(body: bytes) -> Receive:
    """A `receive` that gives the body already read, in one message."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
