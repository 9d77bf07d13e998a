"""Retention: delete the events that are older than their project's retention (`retention_days`,
default 30), in bounded batches, and report what was freed. The scheduler runs it every hour in
`shoal run` (shoal/scheduler.py); `shoal cleanup` runs it by hand (shoal/cleanup_commands.py).

What stays (docs/retention.md): every issue with its counters, tag value counts and per-hour
counts; and, as samples, each issue's first event and every event that regressed it (Bugsink keeps
those too), so an issue page always has an event to show. An issue is deleted only when it was
last seen before the retention *and* has no event left (GlitchTip's rule): retention itself never
empties an issue, so this removes issues emptied some other way.

Each batch is one write transaction of at most BATCH_EVENTS deletes, with a pause between batches:
on SQLite the digest needs the same single write lock, and waits at most one batch for it
(bench/retention.py measures how long a batch holds it).
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Event

from sqlalchemy import Connection, Engine

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.store import disk, monitors, retention
from shoal.store.db import write_transaction
from shoal.store.disk import DiskUsage
from shoal.store.retention import ProjectRetention

log = logging.getLogger(__name__)

DAY = 86_400
# Another writer (the digest) waits at most ~100 ms for a batch of 1,000 deletes on a 4 GB store,
# about one digest batch's own transaction; 5,000 made it wait 230-330 ms (bench/RESULTS.md,
# "Retention"). 1,000 a batch still deletes thousands of events a second.
BATCH_EVENTS = 1_000
BATCH_ISSUES = 1_000  # GlitchTip deletes empty issues 1,000 at a time
# Between two batches the write lock is free this long, so a waiting digest gets it: SQLite's busy
# handler polls, and a writer that takes the lock straight back could starve it.
PAUSE_SECONDS = 0.05

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ProjectPlan:
    """What a cleanup will do in one project: the cutoff, and per issue how many events go and
    which regression events stay (the first event stays by its place: store.retention)."""

    project: ProjectRetention
    days: int
    cutoff: float
    events_by_issue: dict[int, int]
    samples: dict[int, set[int]]  # issue → row ids of its regression events
    kept: int  # old events kept as samples (first and regression events)
    activity_seen: int  # the newest activity when planned: regressions after it are looked up again

    @property
    def events(self) -> int:
        return sum(self.events_by_issue.values())


@dataclass
class ProjectResult:
    slug: str
    days: int
    cutoff: float
    events_deleted: int = 0
    payload_bytes: int = 0
    issues_deleted: int = 0
    kept: int = 0
    transactions_deleted: int = 0


@dataclass
class CleanupReport:
    dry_run: bool
    projects: list[ProjectResult] = field(default_factory=list)
    # Per write transaction, from taking the write lock to the end of its commit. A commit that
    # fills the WAL also checkpoints it, after releasing the lock: an upper bound of the lock's hold.
    lock_seconds: list[float] = field(default_factory=list)
    disk_before: DiskUsage | None = None
    disk_after: DiskUsage | None = None
    reclaimed_bytes: int = 0  # given back by incremental vacuum
    stopped: bool = False

    @property
    def events_deleted(self) -> int:
        return sum(p.events_deleted for p in self.projects)

    @property
    def payload_bytes(self) -> int:
        return sum(p.payload_bytes for p in self.projects)

    @property
    def issues_deleted(self) -> int:
        return sum(p.issues_deleted for p in self.projects)

    @property
    def transactions_deleted(self) -> int:
        return sum(p.transactions_deleted for p in self.projects)

    @property
    def kept(self) -> int:
        return sum(p.kept for p in self.projects)

    @property
    def batches(self) -> int:
        return len(self.lock_seconds)

    @property
    def longest_lock(self) -> float:
        return max(self.lock_seconds, default=0.0)

    @property
    def median_lock(self) -> float:
        return statistics.median(self.lock_seconds) if self.lock_seconds else 0.0


@dataclass(frozen=True)
class CleanupOptions:
    dry_run: bool = False
    batch_events: int = BATCH_EVENTS
    pause: float = PAUSE_SECONDS
    reclaim: bool = True  # on SQLite, give back the space of a big cleanup (disk.worth_reclaiming)
    progress: Progress | None = None
    stop: Event | None = None

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def wait(self) -> None:
        if self.stop is not None:
            self.stop.wait(self.pause)
        elif self.pause:
            time.sleep(self.pause)


class NoSuchProject(LookupError):
    pass


# ---------------------------------------------------------------------------------- planning


def plan(
    engine: Engine, now: float, *, slug: str | None = None, days: int | None = None
) -> list[ProjectPlan]:
    """Per project: the cutoff (`days`, or the project's own retention), and how many events of each
    issue are past it and not kept. Reads only the events' index."""
    with engine.connect() as conn:
        projects = retention.project_retentions(conn, slug)
        if slug is not None and not projects:
            raise NoSuchProject(f"No project has the slug {slug!r}.")
        return [_plan_project(conn, p, days or p.days, now) for p in projects]


def _plan_project(conn: Connection, project: ProjectRetention, days: int, now: float) -> ProjectPlan:
    cutoff = now - days * DAY
    activity_seen = retention.last_activity_id(conn)
    old = retention.old_event_counts(
        conn, retention.issues_with_events_before(conn, project.id, cutoff), cutoff
    )
    samples: dict[int, set[int]] = defaultdict(set)
    old_samples: Counter[int] = Counter()
    for sample in retention.regression_samples(conn, sorted(old)):
        if sample.event_id not in samples[sample.issue_id] and sample.timestamp < cutoff:
            old_samples[sample.issue_id] += 1
        samples[sample.issue_id].add(sample.event_id)
    kept = {issue_id: min(n, 1 + old_samples[issue_id]) for issue_id, n in old.items()}  # 1: the first
    deletable = {issue_id: n - kept[issue_id] for issue_id, n in old.items() if n > kept[issue_id]}
    return ProjectPlan(project, days, cutoff, deletable, dict(samples), sum(kept.values()), activity_seen)


# ---------------------------------------------------------------------------------- running


def cleanup(
    engine: Engine, *, clock: Clock = SYSTEM_CLOCK, stop: Event | None = None, pause: float = PAUSE_SECONDS
) -> CleanupReport:
    """Every project to its own retention: the scheduler's job."""
    report = run(engine, plan(engine, clock.now()), CleanupOptions(pause=pause, stop=stop))
    if report.events_deleted or report.issues_deleted or report.transactions_deleted:
        log.info(
            "retention: deleted %d events (%d payload bytes), %d transactions and %d empty issues in "
            "%d batches; the longest took %.0f ms; %d bytes given back to the file system",
            report.events_deleted,
            report.payload_bytes,
            report.transactions_deleted,
            report.issues_deleted,
            report.batches,
            report.longest_lock * 1000,
            report.reclaimed_bytes,
        )
    return report


def run(engine: Engine, plans: list[ProjectPlan], options: CleanupOptions) -> CleanupReport:
    report = CleanupReport(options.dry_run, disk_before=disk.usage(engine))
    for project_plan in plans:
        result = ProjectResult(
            project_plan.project.slug, project_plan.days, project_plan.cutoff, kept=project_plan.kept
        )
        report.projects.append(result)
        if options.dry_run:
            _survey(engine, project_plan, result)
            continue
        _delete_events(engine, project_plan, result, report, options)
        _delete_empty_issues(engine, project_plan, result, report, options)
        _delete_transactions(engine, project_plan, result, report, options)
        _delete_check_ins(engine, project_plan, options)
    report.stopped = options.stopped()
    if not options.dry_run and options.reclaim and disk.worth_reclaiming(disk.usage(engine)):
        report.reclaimed_bytes = disk.incremental_vacuum(engine, options.stop, options.pause)
    report.disk_after = disk.usage(engine)
    return report


def _survey(engine: Engine, project_plan: ProjectPlan, result: ProjectResult) -> None:
    """A dry run: what would go, with the payload bytes (which means reading those rows)."""
    with engine.connect() as conn:
        for issue_id in project_plan.events_by_issue:
            samples = project_plan.samples.get(issue_id, set())
            result.payload_bytes += retention.old_payload_bytes(conn, issue_id, project_plan.cutoff, samples)
        result.events_deleted = project_plan.events
        result.issues_deleted = len(
            retention.empty_idle_issues(conn, project_plan.project.id, project_plan.cutoff, limit=10**9)
        )
        result.transactions_deleted = len(
            retention.old_transaction_ids(conn, project_plan.project.id, project_plan.cutoff, limit=10**9)
        )


def _delete_events(
    engine: Engine,
    project_plan: ProjectPlan,
    result: ProjectResult,
    report: CleanupReport,
    options: CleanupOptions,
) -> None:
    """Batch after batch: choose the events outside the write lock (the per-issue queries are most
    of the work), then, holding it, delete those still in their issue and still not samples."""
    queue = deque(project_plan.events_by_issue)
    while queue and not options.stopped():
        with engine.connect() as conn:
            wanted = _choose_batch(conn, queue, project_plan, options.batch_events)
        if not wanted:
            continue
        with write_transaction(engine) as conn:
            locked_at = time.perf_counter()  # BEGIN IMMEDIATE returned: this transaction has the lock
            sizes = retention.events_in_issues(conn, wanted)
            for late in retention.regression_samples(
                conn, sorted(set(wanted.values())), project_plan.activity_seen
            ):
                project_plan.samples.setdefault(late.issue_id, set()).add(late.event_id)
                sizes.pop(late.event_id, None)
            deleted = retention.delete_events(conn, sizes.keys())
        report.lock_seconds.append(time.perf_counter() - locked_at)
        result.events_deleted += deleted
        result.payload_bytes += sum(sizes.values())
        if options.progress is not None:
            options.progress(deleted)
        options.wait()


def _choose_batch(
    conn: Connection, queue: deque[int], project_plan: ProjectPlan, limit: int
) -> dict[int, int]:
    """Up to `limit` old events (row id → issue id), issue after issue; an issue leaves the queue
    once it has no more."""
    chosen: dict[int, int] = {}
    while queue and len(chosen) < limit:
        issue_id, wanted = queue[0], limit - len(chosen)
        samples = project_plan.samples.get(issue_id, set())
        found = retention.old_event_ids(conn, issue_id, project_plan.cutoff, samples, wanted)
        chosen.update((event_id, issue_id) for event_id in found)
        if len(found) < wanted:
            queue.popleft()
    return chosen


def _delete_transactions(
    engine: Engine,
    project_plan: ProjectPlan,
    result: ProjectResult,
    report: CleanupReport,
    options: CleanupOptions,
) -> None:
    """Transactions past the cutoff, `batch_events` per write transaction; looked for without the
    write lock first, so a project with none old never takes it."""
    project_id, cutoff = project_plan.project.id, project_plan.cutoff
    while not options.stopped():
        with engine.connect() as conn:
            if not retention.old_transaction_ids(conn, project_id, cutoff, 1):
                return
        with write_transaction(engine) as conn:
            locked_at = time.perf_counter()
            ids = retention.old_transaction_ids(conn, project_id, cutoff, options.batch_events)
            deleted = retention.delete_transactions(conn, ids)
        report.lock_seconds.append(time.perf_counter() - locked_at)
        result.transactions_deleted += deleted
        if len(ids) < options.batch_events:
            return
        options.wait()


def _delete_check_ins(engine: Engine, project_plan: ProjectPlan, options: CleanupOptions) -> None:
    """Cron check-ins past the cutoff (their monitors stay), `batch_events` per write transaction."""
    while not options.stopped():
        with write_transaction(engine) as conn:
            deleted = monitors.delete_check_ins_before(
                conn, project_plan.project.id, project_plan.cutoff, options.batch_events
            )
        if deleted < options.batch_events:
            return
        options.wait()


def _delete_empty_issues(
    engine: Engine,
    project_plan: ProjectPlan,
    result: ProjectResult,
    report: CleanupReport,
    options: CleanupOptions,
) -> None:
    """Found without the write lock (nearly always none, and then the lock is not taken), and
    found again while holding it: an event may have arrived for one of them meanwhile."""
    project_id, cutoff = project_plan.project.id, project_plan.cutoff
    while not options.stopped():
        with engine.connect() as conn:
            if not retention.empty_idle_issues(conn, project_id, cutoff, 1):
                return
        with write_transaction(engine) as conn:
            locked_at = time.perf_counter()
            ids = retention.empty_idle_issues(conn, project_id, cutoff, BATCH_ISSUES)
            deleted = retention.delete_issues(conn, ids)
        report.lock_seconds.append(time.perf_counter() - locked_at)
        result.issues_deleted += deleted
        if len(ids) < BATCH_ISSUES:
            return
        options.wait()
