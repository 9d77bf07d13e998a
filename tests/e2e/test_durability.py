"""Nothing answered 200 is lost: kill -9 of the server, or of a digest worker, mid-stream."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import orjson
from sqlalchemy import func, select

from shoal.store.schema import event
from tests.support.http import auth_header, event_envelope
from tests.support.server import RunningShoal, restart, start_shoal, wait_until


class Sender(threading.Thread):
    """Sends events as fast as one keep-alive connection allows; remembers the ids answered 200."""

    def __init__(self, shoal: RunningShoal) -> None:
        super().__init__(daemon=True)
        self.shoal = shoal
        self.acknowledged: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        host, port = self.shoal.url.removeprefix("http://").split(":")
        headers = {**auth_header(self.shoal.public_key), "Content-Type": "application/x-sentry-envelope"}
        path = f"/api/{self.shoal.project_id}/envelope/"
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        while not self.stop.is_set():
            event_id = uuid.uuid4().hex
            body = event_envelope({"message": f"durability check {len(self.acknowledged) % 7}"}, event_id)
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                continue
            if response.status == 200 and orjson.loads(answer) == {"id": event_id}:
                self.acknowledged.append(event_id)


def stored_event_ids(shoal: RunningShoal) -> list[str]:
    with shoal.engine.connect() as conn:
        return [row.event_id for row in conn.execute(select(event.c.event_id))]


def backlog(shoal: RunningShoal) -> int:
    result = subprocess.run(
        [sys.executable, "-m", "shoal", "status", "--json"],
        env=shoal.env,
        capture_output=True,
        text=True,
        check=True,
    )
    count: int = orjson.loads(result.stdout)["backlog"]
    return count


def test_kill_9_of_the_server_loses_no_acknowledged_event_and_stores_none_twice(tmp_path: Path) -> None:
    shoal = start_shoal(tmp_path / "data")
    sender = Sender(shoal)
    sender.start()
    try:
        wait_until(lambda: len(sender.acknowledged) >= 300, 60, "300 acknowledged events")
        shoal.kill()
    finally:
        sender.stop.set()
        sender.join()
    acknowledged = list(sender.acknowledged)

    shoal = restart(shoal)
    try:
        wait_until(lambda: backlog(shoal) == 0, 60, "an empty spool")
        stored = stored_event_ids(shoal)
        assert set(acknowledged) <= set(stored)
        assert len(stored) == len(set(stored))
        with shoal.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(event)).scalar_one() == len(stored)
    finally:
        shoal.stop()


def test_kill_9_of_a_digest_worker_loses_nothing_its_batch_is_redone(tmp_path: Path) -> None:
    shoal = start_shoal(tmp_path / "data", extra_env={"SHOAL_DIGEST_LEASE_SECONDS": "2"})
    sender = Sender(shoal)
    sender.start()
    try:
        wait_until(lambda: len(sender.acknowledged) >= 200, 60, "200 acknowledged events")
        workers = subprocess.run(
            ["pgrep", "-P", str(shoal.process.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        assert workers, "shoal run should have a digest worker child"
        subprocess.run(["kill", "-9", *workers], check=True)
        wait_until(lambda: len(sender.acknowledged) >= 400, 60, "400 acknowledged events")
    finally:
        sender.stop.set()
        sender.join()
    try:
        wait_until(
            lambda: set(sender.acknowledged) <= set(stored_event_ids(shoal)), 60, "every acknowledged event"
        )
        stored = stored_event_ids(shoal)
        assert len(stored) == len(set(stored))
    finally:
        shoal.stop()
