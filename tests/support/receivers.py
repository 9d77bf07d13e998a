"""Real things for channels to talk to: an HTTP receiver and an SMTP mailbox in threads on
127.0.0.1, a self-signed certificate made with the openssl command, and a record of the sockets a
piece of code opens (Python's audit events, so nothing is patched)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    """An HTTP server that records every request and answers from a list of statuses, one per
    request, repeating the last (`answer(500, 500, 200)`)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self._statuses = [200]
        self._body = b"ok"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        # serve_forever checks for shutdown() every poll_interval (0.5 s by default, per test).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def answer(self, *statuses: int, body: bytes = b"ok") -> None:
        with self._lock:
            self._statuses = list(statuses)
            self._body = body

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _record(self, received: Received) -> tuple[int, bytes]:
        with self._lock:
            self.requests.append(received)
            status = self._statuses.pop(0) if len(self._statuses) > 1 else self._statuses[0]
            return status, self._body


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, reply = receiver._record(Received("POST", self.path, headers, body))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"{receiver.url}/elsewhere")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test asserts on what was received; stderr noise helps no one

    return Handler


@dataclass
class Mailbox:
    """What an SMTP server received: parsed messages and envelope recipients. `refuse` maps an
    address to the reply its RCPT TO gets ("550 5.1.1 no such user")."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@contextmanager
def smtp_server(mailbox: Mailbox, **options: Any) -> Iterator[int]:
    """aiosmtpd on 127.0.0.1 in its own thread; yields its port."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield int(controller.port)
    finally:
        controller.stop()


def free_port() -> int:
    # aiosmtpd's Controller connects to its own port to see that it started, so it needs a
    # number up front rather than port 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: a connection is refused at once."""
    return free_port()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A socket that completes TCP handshakes (the kernel's backlog does that) but never reads
    or answers: the receiver that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self, names_seen: list[str]) -> ssl.SSLContext:
        """A server-side TLS context that records the name each client asked for (SNI)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)

        def record(_sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
            names_seen.append(name or "")

        context.sni_callback = record
        return context


def self_signed_certificate(directory: Path, name: str) -> Certificate | None:
    """A certificate for `name` made with the openssl command; None when it is not installed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}"]
    command += ["-addext", f"subjectAltName=DNS:{name}"]
    subprocess.run(command, check=True, capture_output=True)
    return Certificate(cert, key)


_watchers: list[list[tuple[str, Any]]] = []
_hook_installed = threading.Event()
_hook_lock = threading.Lock()


@contextmanager
def network_calls() -> Iterator[list[tuple[str, Any]]]:
    """Every `socket.getaddrinfo` (with the host) and `socket.connect` (with the address) made
    in the block, by any thread, seen through Python's audit hooks (PEP 578): nothing is patched."""
    with _hook_lock:
        if not _hook_installed.is_set():
            sys.addaudithook(_audit)  # cannot be removed; it does nothing while no one watches
            _hook_installed.set()
    calls: list[tuple[str, Any]] = []
    _watchers.append(calls)
    try:
        yield calls
    finally:
        _watchers.remove(calls)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _watchers or event not in ("socket.connect", "socket.getaddrinfo"):
        return
    call = ("connect", args[1]) if event == "socket.connect" else ("getaddrinfo", args[0])
    for calls in _watchers:
        calls.append(call)
