"""Start `shoal run` as a real subprocess on a free port and talk to it over HTTP."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, func, select

from shoal.store.db import create_store_engine
from shoal.store.schema import event, issue

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
START_TIMEOUT = 60.0


@dataclass
class RunningShoal:
    url: str
    dsn: str
    data_dir: Path
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_store_engine(self.database_url)
        return self._engine

    @property
    def project_id(self) -> int:
        return int(self.dsn.rsplit("/", 1)[1])

    @property
    def public_key(self) -> str:
        return self.dsn.split("://", 1)[1].split("@", 1)[0]

    def event_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(event)).scalar_one())

    def issue_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(issue)).scalar_one())

    def has_event(self, event_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(event.c.id).where(event.c.event_id == event_id)).first() is not None

    def wait_for_events(self, count: int, timeout: float = 60.0) -> None:
        wait_until(lambda: self.event_count() >= count, timeout, f"{count} stored events")

    def wait_for_event(self, event_id: str, timeout: float = 30.0) -> None:
        wait_until(lambda: self.has_event(event_id), timeout, f"event {event_id} stored")

    def kill(self) -> None:
        """kill -9 of the server process (its digest workers notice and stop by themselves)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_shoal(
    data_dir: Path,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
) -> RunningShoal:
    port = port or free_port()
    env = {
        **os.environ,
        "SHOAL_DATA_DIR": str(data_dir),
        "SHOAL_BIND": f"127.0.0.1:{port}",
        "SHOAL_ADMIN_EMAIL": ADMIN_EMAIL,
        "SHOAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SHOAL_LOG_LEVEL": "warning",
        **({"SHOAL_DATABASE_URL": database_url} if database_url else {}),
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "shoal", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []
    threading.Thread(target=_pump, args=(process.stdout, lines, output), daemon=True).start()
    dsn = _read_dsn(process, lines, output)
    server = RunningShoal(
        f"http://127.0.0.1:{port}",
        dsn,
        data_dir,
        database_url or f"sqlite:///{data_dir / 'shoal.db'}",
        env,
        process,
        output,
    )
    wait_until(lambda: _healthy(server.url), START_TIMEOUT, f"{server.url}/_health", process, output)
    return server


def restart(server: RunningShoal) -> RunningShoal:
    """Start a new `shoal run` on the same data, port and settings."""
    port = int(server.url.rsplit(":", 1)[1])
    return start_shoal(server.data_dir, server.env.get("SHOAL_DATABASE_URL"), port=port)


def _pump(stream: IO[str] | None, lines: queue.Queue[str | None], output: list[str]) -> None:
    assert stream is not None
    for line in stream:
        output.append(line)
        lines.put(line)
    lines.put(None)


def _read_dsn(process: subprocess.Popen[str], lines: queue.Queue[str | None], output: list[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        if line.startswith("DSN: "):
            return line.removeprefix("DSN: ").strip()
    process.kill()
    raise AssertionError("shoal run printed no DSN:\n" + "".join(output))


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    process: subprocess.Popen[Any] | None = None,
    output: list[str] | None = None,
) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited while waiting for {what}:\n" + "".join(output or []))
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
