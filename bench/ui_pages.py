"""How fast the UI's pages are on a big project: a generated store with 10,000 issues and 1,000,000
events, then server time per page over real HTTP.

    .venv/bin/python bench/ui_pages.py generate DIR [ISSUES] [EVENTS]   # default 10000 1000000
    .venv/bin/python bench/ui_pages.py measure DIR [ROUNDS]              # default 20

`generate` writes a Shoal data directory directly through the store's tables (the digest would
take minutes and the pages read only what it leaves): issues with Zipf-distributed event counts
(the busiest has tens of thousands, most a handful), their events over 90 days with small real
payloads, and the tag counts and per-hour counts the digest would have made. `measure` starts
`shoal web` on that directory, logs in, and requests each page ROUNDS times after a warm-up,
printing the median and 95th percentile. On loopback the response time is the server's time.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from shoal.bootstrap import prepare
from shoal.config import load_config
from shoal.store.events import PayloadCodec
from shoal.store.schema import event, issue, issue_count_hour, issue_count_minute, issue_tag, project

ADMIN_PASSWORD = "bench-password-1234"
DAY = 86400
ENVIRONMENTS = ("production",) * 4 + ("staging",)
RELEASES = tuple(f"shop@4.{minor}.0" for minor in range(10))
SERVERS = tuple(f"web-{n}" for n in range(1, 6))
TYPES = ("KeyError", "ValueError", "TypeError", "ConnectionError", "TimeoutError", "PaymentDeclined")
CHUNK = 20_000


def event_counts(issues: int, events: int, rng: random.Random) -> list[int]:
    """Zipf-like counts, at least one per issue, summing to `events`."""
    weights = [1 / (rank + 1) ** 1.1 for rank in range(issues)]
    rng.shuffle(weights)
    scale = (events - issues) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    counts[counts.index(max(counts))] += events - sum(counts)
    return counts


def generate(data_dir: Path, issues: int, events: int, *, days: int = 90) -> None:
    environ = {"SHOAL_DATA_DIR": str(data_dir), "SHOAL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    engine, _ = prepare(load_config(environ))
    started = time.perf_counter()
    with engine.begin() as conn:
        project_id = int(conn.execute(select(project.c.id)).scalar_one())
        _Generator(conn, project_id, days=days).run(issues, events)
        conn.execute(update(project).values(events_stored=events, next_short_id=issues + 1))
    print(f"generated {issues} issues and {events} events in {time.perf_counter() - started:.0f} s")


class _Generator:
    """Writes issues, their events and the aggregates the digest would keep for them."""

    def __init__(self, conn: Connection, project_id: int, *, days: int = 90) -> None:
        self.conn = conn
        self.project_id = project_id
        self.days = days  # how far back issues begin (bench/retention.py uses 35)
        self.rng = random.Random(1)
        self.now = time.time()
        self.codec = PayloadCodec()

    def run(self, issues: int, events: int) -> None:
        for short_id, count in enumerate(event_counts(issues, events, self.rng), start=1):
            self.issue(short_id, count)

    def issue(self, short_id: int, count: int) -> None:
        row, first_seen = self.issue_row(short_id, count)
        issue_id = int(self.conn.execute(insert(issue).values(row).returning(issue.c.id)).scalar_one())
        payload = self.codec.encode(_payload(issue_id))
        stamps = sorted(self.rng.uniform(first_seen, self.now) for _ in range(count))
        rows = [self.event_row(issue_id, at, payload) for at in stamps]
        for start in range(0, len(rows), CHUNK):
            self.conn.execute(insert(event), rows[start : start + CHUNK])
        _aggregates(self.conn, issue_id, rows, self.now)

    def issue_row(self, short_id: int, count: int) -> tuple[dict[str, object], float]:
        rng = self.rng
        type_ = rng.choice(TYPES)
        first_seen = self.now - rng.uniform(0, self.days * DAY)
        status = rng.choices(("unresolved", "resolved", "ignored"), (7, 2, 1))[0]
        row: dict[str, object] = {
            "project_id": self.project_id,
            "short_id": short_id,
            "type": "error",
            "title": f"{type_}: order {short_id} failed",
            "culprit": f"shop.module{short_id % 97} in handler{short_id % 13}",
            "level": rng.choices(("error", "warning", "fatal"), (8, 2, 1))[0],
            "platform": "python",
            "metadata": orjson.dumps({"type": type_, "value": f"order {short_id} failed"}).decode(),
            "status": status,
            "substatus": "new" if status == "unresolved" else "",
            "first_seen": first_seen,
            "last_seen": first_seen,  # raised to the newest event's time by _aggregates
            "first_release": rng.choice(RELEASES),
            "last_release": RELEASES[-1],
            "times_seen": count,
            "users_seen": 0,
        }
        return row, first_seen

    def event_row(self, issue_id: int, at: float, payload: bytes) -> dict[str, object]:
        return {
            "project_id": self.project_id,
            "event_id": uuid.uuid4().hex,
            "issue_id": issue_id,
            "timestamp": at,
            "received": at,
            "level": "error",
            "release": self.rng.choice(RELEASES),
            "environment": self.rng.choice(ENVIRONMENTS),
            # A few users per issue, fewer than its events: users repeat.
            "user_key": f"id:{self.rng.randrange(50)}",
            "grouping_config": "newstyle:2026-01-20",
            "hashes": "[]",
            "payload": payload,
        }


def _payload(issue_id: int) -> bytes:
    frame = {
        "module": f"shop.module{issue_id % 97}",
        "function": "handler",
        "context_line": "raise",
        "in_app": True,
    }
    exception = {"type": "KeyError", "value": f"order {issue_id}", "stacktrace": {"frames": [frame]}}
    return orjson.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "platform": "python",
            "level": "error",
            "exception": {"values": [exception]},
            "tags": [["server_name", "web-1"]],
        }
    )


def _aggregates(conn: Connection, issue_id: int, rows: list[dict[str, object]], now: float) -> None:
    """The tag counts, per-hour and per-minute counts and counters the digest keeps for the issue."""
    tags: dict[tuple[str, str], list[float]] = defaultdict(list)
    hours: Counter[tuple[int, str]] = Counter()
    minutes: Counter[tuple[int, str]] = Counter()
    for row in rows:
        at, environment = float(str(row["timestamp"])), str(row["environment"])
        for key, value in (
            ("environment", environment),
            ("release", row["release"]),
            ("user", row["user_key"]),
        ):
            tags[(key, str(value))].append(at)
        tags[("level", "error")].append(at)
        tags[("server_name", SERVERS[int(at) % len(SERVERS)])].append(at)
        hours[(int(at // 3600), environment)] += 1
        if at > now - DAY:
            minutes[(int(at // 60), environment)] += 1
    conn.execute(insert(issue_tag), [_tag_row(issue_id, key, value, at) for (key, value), at in tags.items()])
    conn.execute(
        insert(issue_count_hour),
        [{"issue_id": issue_id, "hour": h, "environment": e, "events": n} for (h, e), n in hours.items()],
    )
    if minutes:
        conn.execute(
            insert(issue_count_minute),
            [
                {"issue_id": issue_id, "minute": m, "environment": e, "events": n}
                for (m, e), n in minutes.items()
            ],
        )
    users = sum(1 for key, _ in tags if key == "user")
    last_seen = max(float(str(row["timestamp"])) for row in rows)
    conn.execute(update(issue).where(issue.c.id == issue_id).values(users_seen=users, last_seen=last_seen))


def _tag_row(issue_id: int, key: str, value: str, seen: list[float]) -> dict[str, object]:
    return {
        "issue_id": issue_id,
        "key": key,
        "value": value,
        "times_seen": len(seen),
        "first_seen": min(seen),
        "last_seen": max(seen),
    }


# ----------------------------------------------------------------------------------- measuring


def measure(data_dir: Path, rounds: int, pages: list[str]) -> None:
    port = 8300
    env = {
        **os.environ,
        "SHOAL_DATA_DIR": str(data_dir),
        "SHOAL_BIND": f"127.0.0.1:{port}",
        "SHOAL_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen([sys.executable, "-m", "shoal", "web"], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        opener = _logged_in(base)
        for path in pages:
            times = _timed(opener, base + path, rounds)
            median, p95 = statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1]
            print(f"{path:<70} median {median * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms")
    finally:
        server.terminate()
        server.wait(20)


def _logged_in(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    deadline = time.monotonic() + 60
    while True:
        try:
            form = opener.open(f"{base}/login", timeout=5).read().decode()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    data = urllib.parse.urlencode(
        {"email": "admin@example.com", "password": ADMIN_PASSWORD, "csrf_token": token[1], "next": "/"}
    )
    opener.open(f"{base}/login", data.encode(), timeout=30).read()
    return opener


def _timed(opener: urllib.request.OpenerDirector, url: str, rounds: int) -> list[float]:
    opener.open(url, timeout=60).read()  # warm-up: caches, connections, compiled queries
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        with opener.open(url, timeout=60) as response:
            response.read()
            assert response.status == 200, url
        times.append(time.perf_counter() - started)
    return times


def busiest_issue(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(issue.c.id).order_by(issue.c.times_seen.desc()).limit(1)).scalar_one())


PAGES = [
    "/projects/1/issues/",
    "/projects/1/issues/?page=50",
    "/projects/1/issues/?query=&sort=freq",
    "/projects/1/issues/?query=is:unresolved+level:error+environment:staging",
    "/projects/1/issues/?query=release:shop@4.3.0+server_name:web-2",
    "/projects/1/issues/?query=times_seen:>100+lastSeen:-24h",
    "/projects/1/issues/?query=order+4711",
    "/projects/1/issues/?query=is:unresolved&sort=priority",
    "/issues/",
]


def main() -> None:
    command, data_dir = sys.argv[1], Path(sys.argv[2])
    if command == "generate":
        issues = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
        events = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
        generate(data_dir, issues, events)
        return
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    from shoal.store.db import create_store_engine

    busiest = busiest_issue(create_store_engine(f"sqlite:///{data_dir / 'shoal.db'}"))
    issue_pages = [f"/issues/{busiest}/", f"/issues/{busiest}/?period=30d", f"/issues/{busiest}/events/"]
    measure(data_dir, rounds, [*PAGES, *issue_pages])


if __name__ == "__main__":
    main()
