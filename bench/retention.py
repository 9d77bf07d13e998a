"""Does retention keep the store's size bounded, and how long does it hold SQLite's write lock?

    .venv/bin/python bench/retention.py DIR [EVENTS] [DAYS_SIMULATED] [PAYLOAD_BYTES]
                                           # defaults: 1000000 60 3500

1. Generates a Shoal data directory in DIR (which must not exist) with bench/ui_pages.py's generator:
   10,000 issues with Zipf-distributed event counts, EVENTS events spread evenly over the last 35
   days, each with a PAYLOAD_BYTES payload of random bytes (3,500: the corpus events' 17 KB of JSON
   after zstd level 1, which random bytes stand for as incompressible as real zstd output).
2. Cleans up with the default 30-day retention, as the scheduler would, and reports the events
   deleted, the time taken, the write transactions and how long each held the lock, and the
   database's size before, after, after an incremental vacuum, and after a full VACUUM.
3. Simulates DAYS_SIMULATED more days: each day adds a day's worth of events (EVENTS / 35) and
   cleans up, printing the size, so a bounded size shows as a flat line.

Sizes are SQLite's pages × page size (what the file holds once the WAL is checkpointed) and the
free pages inside them; "file" is the database file plus its WAL on disk.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Connection, Engine, func, insert, select, update
from ui_pages import DAY, _aggregates, _Generator, event_counts

from shoal import retention
from shoal.bootstrap import prepare
from shoal.config import load_config
from shoal.retention import CleanupOptions, CleanupReport
from shoal.store import disk
from shoal.store.db import write_transaction
from shoal.store.schema import event, issue, issue_count_hour, project

ISSUES = 10_000
SPAN_DAYS = 35
RETENTION_DAYS = 30  # the project's default


class _EvenGenerator(_Generator):
    """The UI benchmark's issues, tags and counts, but each issue's events spread evenly over the
    whole span (a steady stream, so 5 of 35 days' events are past a 30-day retention) and each with a
    payload of its own size."""

    def __init__(self, conn: Connection, project_id: int, payload_bytes: int) -> None:
        super().__init__(conn, project_id, days=SPAN_DAYS)
        self.payload_bytes = payload_bytes

    def issue(self, short_id: int, count: int) -> None:
        row, _ = self.issue_row(short_id, count)
        stamps = sorted(self.rng.uniform(self.now - SPAN_DAYS * DAY, self.now) for _ in range(count))
        row["first_seen"] = stamps[0]
        issue_id = int(self.conn.execute(insert(issue).values(row).returning(issue.c.id)).scalar_one())
        rows = [self.event_row(issue_id, at, os.urandom(self.payload_bytes)) for at in stamps]
        for start in range(0, len(rows), 20_000):
            self.conn.execute(insert(event), rows[start : start + 20_000])
        _aggregates(self.conn, issue_id, rows, self.now)


def generate(data_dir: Path, events: int, payload_bytes: int) -> Engine:
    environ = {"SHOAL_DATA_DIR": str(data_dir), "SHOAL_ADMIN_PASSWORD": "bench-password-1234"}
    engine, _ = prepare(load_config(environ))
    started = time.perf_counter()
    with engine.begin() as conn:
        project_id = int(conn.execute(select(project.c.id)).scalar_one())
        _EvenGenerator(conn, project_id, payload_bytes).run(ISSUES, events)
    took = time.perf_counter() - started
    print(f"generated {ISSUES:,} issues and {events:,} events over {SPAN_DAYS} days in {took:.0f} s")
    return engine


def clean(engine: Engine, now: float, reclaim: bool = True, pause: float = 0) -> tuple[CleanupReport, float]:
    started = time.perf_counter()
    options = CleanupOptions(pause=pause, reclaim=reclaim)
    report = retention.run(engine, retention.plan(engine, now), options)
    return report, time.perf_counter() - started


def sizes(engine: Engine, data_dir: Path) -> str:
    usage = disk.usage(engine)
    on_disk = sum(p.stat().st_size for p in data_dir.glob("shoal.db*"))
    return f"{_mb(usage.total_bytes)} ({_mb(usage.free_bytes)} free pages), file {_mb(on_disk)}"


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


def stored_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(event)).scalar_one())


class LockProbe:
    """Another writer, as the digest is: a one-row write transaction every 10 ms, timing how long its
    BEGIN IMMEDIATE waited for the write lock while the cleanup ran."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.waits = engine, list[float]()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def __enter__(self) -> LockProbe:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(0.01):
            started = time.perf_counter()
            with write_transaction(self.engine) as conn:
                self.waits.append(time.perf_counter() - started)
                conn.execute(update(project).values(events_stored=project.c.events_stored))

    def summary(self) -> str:
        waits = sorted(w * 1000 for w in self.waits)
        return (
            f"a concurrent writer made {len(waits)} transactions; its wait for the lock: median "
            f"{statistics.median(waits):.1f} ms, p99 {waits[int(len(waits) * 0.99) - 1]:.0f} ms, "
            f"longest {waits[-1]:.0f} ms"
        )


def one_shot(engine: Engine, data_dir: Path, now: float) -> None:
    print(f"before cleanup: {stored_events(engine):,} events, {sizes(engine, data_dir)}")
    with LockProbe(engine) as probe:
        report, took = clean(engine, now, reclaim=False, pause=retention.PAUSE_SECONDS)
    print(
        f"cleanup ({RETENTION_DAYS}-day retention): deleted {report.events_deleted:,} events "
        f"({_mb(report.payload_bytes)} of payloads), kept {report.kept:,} older first/regression events, "
        f"deleted {report.issues_deleted} issues, in {took:.1f} s"
    )
    locks = [seconds * 1000 for seconds in sorted(report.lock_seconds)]
    print(
        f"  {report.batches} write transactions; write lock held: median {statistics.median(locks):.0f} ms, "
        f"p95 {locks[int(len(locks) * 0.95) - 1]:.0f} ms, longest {locks[-1]:.0f} ms"
    )
    print(f"  {probe.summary()}", flush=True)
    print(f"after cleanup: {stored_events(engine):,} events, {sizes(engine, data_dir)}")
    started = time.perf_counter()
    freed = disk.incremental_vacuum(engine)
    took = time.perf_counter() - started
    print(f"after incremental vacuum ({took:.1f} s, {_mb(freed)} given back): {sizes(engine, data_dir)}")
    started = time.perf_counter()
    disk.vacuum(engine)
    print(f"after VACUUM ({time.perf_counter() - started:.1f} s): {sizes(engine, data_dir)}")


class Simulation:
    """Day after day: a day's events, then a cleanup at the day's end."""

    def __init__(self, engine: Engine, data_dir: Path, payload_bytes: int) -> None:
        self.engine, self.data_dir, self.payload_bytes = engine, data_dir, payload_bytes
        self.rng = random.Random(2)
        with engine.connect() as conn:
            self.project_id = int(conn.execute(select(project.c.id)).scalar_one())
            self.issue_ids = sorted(int(i) for i in conn.execute(select(issue.c.id)).scalars())
        self.weights = event_counts(len(self.issue_ids), len(self.issue_ids) * 100, self.rng)  # Zipf again

    def run(self, now: float, days: int, per_day: int) -> None:
        print("day  events stored  deleted  cleanup  writer's longest wait  size")
        for day in range(1, days + 1):
            day_start = now + (day - 1) * DAY
            self.add_day(day_start, per_day)
            with LockProbe(self.engine) as probe:
                report, took = clean(self.engine, day_start + DAY, pause=retention.PAUSE_SECONDS)
            print(
                f"{day:>3}  {stored_events(self.engine):>13,}  {report.events_deleted:>7,}  {took:>5.1f} s  "
                f"{max(probe.waits, default=0) * 1000:>18.0f} ms  {sizes(self.engine, self.data_dir)}",
                flush=True,
            )

    def add_day(self, day_start: float, count: int) -> None:
        """`count` events of the existing issues, with their per-hour counts and last_seen."""
        chosen = self.rng.choices(self.issue_ids, self.weights, k=count)
        with self.engine.begin() as conn:
            generator = _Generator(conn, self.project_id)
            generator.rng = self.rng
            rows = [
                generator.event_row(i, day_start + self.rng.uniform(0, DAY), os.urandom(self.payload_bytes))
                for i in chosen
            ]
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(event), rows[start : start + 20_000])
            hours = Counter(
                (r["issue_id"], int(float(str(r["timestamp"])) // 3600), r["environment"]) for r in rows
            )
            conn.execute(
                insert(issue_count_hour),
                [{"issue_id": i, "hour": h, "environment": e, "events": n} for (i, h, e), n in hours.items()],
            )
            conn.execute(update(issue).where(issue.c.id.in_(set(chosen))).values(last_seen=day_start + DAY))


def main() -> None:
    data_dir = Path(sys.argv[1])
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    days = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    payload_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 3500
    if data_dir.exists():
        raise SystemExit(f"{data_dir} exists; give a new directory")
    engine = generate(data_dir, events, payload_bytes)
    now = time.time()
    one_shot(engine, data_dir, now)
    next_hour = (int(now // 3600) + 1) * 3600  # the generator's per-hour counts end in this hour
    Simulation(engine, data_dir, payload_bytes).run(next_hour, days, events // SPAN_DAYS)


if __name__ == "__main__":
    main()
