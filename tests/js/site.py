"""A small web server for the browser tests, on its own port, so a page is of another origin than
Shoal: it serves the files of tests/js (the test page, its scripts, and the SDK's own ES modules
from node_modules), forwards every other request to an upstream Shoal as a reverse proxy would,
and records each request it sees, so a test can say what reached the server (say, no preflight).
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

JS_DIR = Path(__file__).resolve().parent
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
}
# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the proxy sets itself.
_NOT_FORWARDED = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "content-length"})


@dataclass(frozen=True)
class SeenRequest:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Site:
    """Serve `root`'s files (when given) and forward the rest to `upstream` (when given)."""

    root: Path | None = None
    upstream: str | None = None
    requests: list[SeenRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the site is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Site:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def seen(self, path: str) -> list[SeenRequest]:
        """The requests whose path (without the query) is `path`."""
        return [request for request in self.requests if urlsplit(request.target).path == path]

    def file_for(self, target: str) -> Path | None:
        if self.root is None:
            return None
        path = (self.root / urlsplit(target).path.lstrip("/")).resolve()
        return path if path.is_file() and path.is_relative_to(self.root) else None


def _handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one_request(self) -> None:
            # One method for every verb: record, then serve a file or forward.
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline or not self.parse_request():
                self.close_connection = True
                return
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            site.requests.append(SeenRequest(self.command, self.path, headers, body))
            file = site.file_for(self.path) if self.command == "GET" else None
            if file is not None:
                self._answer(200, [("content-type", _content_type(file))], file.read_bytes())
            elif site.upstream is not None:
                self._answer(*_forward(site.upstream, self.command, self.path, headers, body))
            else:
                self._answer(404, [("content-type", "text/plain")], b"not found")

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the test asserts on `site.requests` instead

    return Handler


def _forward(
    upstream: str, method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    parts = urlsplit(upstream)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        sent = {name: value for name, value in headers.items() if name not in _NOT_FORWARDED}
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        answer = [
            (name, value) for name, value in response.getheaders() if name.lower() not in _NOT_FORWARDED
        ]
        return response.status, answer, response.read()
    finally:
        connection.close()


def _content_type(path: Path) -> str:
    return _CONTENT_TYPES.get(path.suffix, "application/octet-stream")
