"""What check-ins do to their monitors, inside the digest's write transaction: create or update
the monitor (its `monitor_config`), open or close the check-in, and, in the check-in's environment
(Sentry keeps a monitor's state per environment: `production` when the check-in names none), move
the next expected check-in and count successes and failures against the thresholds.

A failure (status error here; missed and timeout from the scheduler, shoal/crons/overdue.py) past
`failure_issue_threshold` consecutive ones in an environment becomes an event of the monitor's
issue (`monitor_failures.py`), stored with the batch so the project's alert rules see it, unless
the monitor is muted; a success that ends a failing streak of `recovery_threshold` successes
resolves that issue after the batch once no environment is failing (`resolve_recovered`). A
check-in already closed (a redelivered entry, or an `ok` after the scheduler timed the run out)
changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from shoal.crons.schedule import MonitorConfig, next_expected
from shoal.digest.check_ins import DigestedCheckIn
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.monitor_failures import Failure, failure_event
from shoal.digest.pipeline import DigestedEvent
from shoal.digest.project_grouping import group_event
from shoal.store import issues, monitors
from shoal.store.events import PayloadCodec
from shoal.store.monitors import FAILING, CheckInRow, EnvironmentRow, MonitorRow, NewCheckIn
from shoal.store.projects import ProjectGrouping

DEFAULT_ENVIRONMENT = "production"


@dataclass
class MonitorEffects:
    """What a batch's check-ins (or a scheduler run) add to the batch: failure events to store
    with it, and the monitors that recovered, whose issue is resolved once it is stored."""

    failures: list[DigestedEvent] = field(default_factory=list)
    recovered: dict[int, MonitorRow] = field(default_factory=dict)
    _failure_ids: set[str] = field(default_factory=set)
    _codec: PayloadCodec | None = None

    def add_failure(self, event: DigestedEvent) -> None:
        self.failures.append(event)
        self._failure_ids.add(event.event_id)

    def is_failure(self, event: DigestedEvent) -> bool:
        """Failure events are stored as events but are not items an SDK sent: the batch's
        `accepted` outcomes leave them out."""
        return event.event_id in self._failure_ids

    def codec(self) -> PayloadCodec:
        if self._codec is None:
            self._codec = PayloadCodec()
        return self._codec


def apply_check_ins(conn: Connection, check_ins: Sequence[DigestedCheckIn]) -> MonitorEffects:
    effects = MonitorEffects()
    for check_in in sorted(check_ins, key=lambda c: c.received):
        apply_check_in(conn, check_in, effects)
    return effects


def apply_check_in(conn: Connection, check_in: DigestedCheckIn, effects: MonitorEffects) -> None:
    found = _monitor_for(conn, check_in)
    existing = _by_id(conn, found.id, check_in)
    place = _environment_of(conn, found, check_in, existing)
    if existing is None and check_in.check_in_id is None and check_in.status != "in_progress":
        existing = monitors.latest_in_progress(conn, place.id)
    if existing is None:
        _open(conn, found, place, check_in)
    elif existing.status != "in_progress" or check_in.status == "in_progress":
        return  # closed already, or the same start again
    else:
        duration = (
            check_in.duration if check_in.duration is not None else check_in.received - existing.date_added
        )
        if not monitors.close_check_in(conn, existing.id, check_in.status, duration, check_in.received):
            return
    if check_in.status == "ok":
        count_success(conn, found, place.id, effects)
    elif check_in.status == "error":
        failure = Failure(
            "error",
            check_in.received,
            existing.check_in_id if existing else check_in.check_in_id or check_in.new_id,
            place.environment,
            check_in.release,
            duration=check_in.duration,
        )
        count_failure(conn, found, place.id, failure, effects)


def _monitor_for(conn: Connection, check_in: DigestedCheckIn) -> MonitorRow:
    """The check-in's monitor: made by its first check-in, updated by any that sends a config."""
    found = monitors.monitor_by_slug(conn, check_in.project_id, check_in.monitor_slug)
    if found is None:
        config = check_in.config or MonitorConfig(None)
        found = monitors.create_monitor(
            conn, check_in.project_id, check_in.monitor_slug, config, check_in.received
        )
    elif check_in.config is not None and check_in.config != found.config:
        change_config(conn, found, check_in.config)
    if check_in.config_error is not None:
        monitors.set_config_error(conn, found.id, check_in.config_error)
    reloaded = monitors.get_monitor(conn, found.id)
    assert reloaded is not None  # read in this transaction, which holds the write lock
    return reloaded


def environment_name(check_in: DigestedCheckIn) -> str:
    """Sentry files a check-in without an environment under production."""
    return check_in.environment or DEFAULT_ENVIRONMENT


def _environment_of(
    conn: Connection, found: MonitorRow, check_in: DigestedCheckIn, existing: CheckInRow | None
) -> EnvironmentRow:
    """The environment a check-in counts in: its run's, when it closes one; else the one it names,
    made by its first check-in there."""
    if existing is not None:
        return _reloaded(conn, existing.monitor_environment_id)
    name = environment_name(check_in)
    place = monitors.environment_by_name(conn, found.id, name)
    return place or monitors.create_environment(conn, found.id, name, check_in.received)


def change_config(conn: Connection, found: MonitorRow, config: MonitorConfig) -> None:
    """A new configuration; in each environment, the next check-in it expects follows the last one
    there (none yet: the next check-in starts the schedule)."""
    monitors.save_config(conn, found.id, config)
    for place in monitors.monitor_environments(conn, [found.id])[found.id]:
        due = next_expected(config, place.last_checkin) if place.last_checkin is not None else None
        monitors.schedule_environment(conn, place.id, due, config.checkin_margin * 60)


def _by_id(conn: Connection, monitor_id: int, check_in: DigestedCheckIn) -> CheckInRow | None:
    """The run a check-in names by its id, or the one a redelivery of it stored."""
    return monitors.check_in_by_id(conn, monitor_id, check_in.check_in_id or check_in.new_id)


def _open(conn: Connection, found: MonitorRow, place: EnvironmentRow, check_in: DigestedCheckIn) -> None:
    """Store a new check-in; it is the run the schedule expected, so the next one is due after it."""
    at = check_in.received
    running = check_in.status == "in_progress"
    monitors.insert_check_in(
        conn,
        NewCheckIn(
            monitor_id=found.id,
            monitor_environment_id=place.id,
            project_id=found.project_id,
            check_in_id=check_in.check_in_id or check_in.new_id,
            status=check_in.status,
            at=at,
            environment=place.environment,
            release=check_in.release,
            duration=None if running else check_in.duration,
            expected_at=place.next_checkin,
            timeout_at=at + found.config.max_runtime * 60 if running else None,
            trace_id=check_in.trace_id,
        ),
    )
    if place.last_checkin is not None and at < place.last_checkin:
        return  # an older check-in that arrived late: the newer one set the schedule
    due = next_expected(found.config, at)
    monitors.set_environment_state(conn, place.id, last_checkin=at)
    monitors.schedule_environment(conn, place.id, due, found.config.checkin_margin * 60)


def count_success(conn: Connection, found: MonitorRow, environment_id: int, effects: MonitorEffects) -> None:
    place = _reloaded(conn, environment_id)
    successes = place.consecutive_successes + 1
    failing = place.status in FAILING
    recovers = failing and successes >= found.config.recovery_threshold
    monitors.set_environment_state(
        conn,
        place.id,
        status="ok" if recovers or not failing else place.status,
        consecutive_failures=0,
        consecutive_successes=successes,
    )
    if recovers:
        effects.recovered[found.id] = found


def count_failure(
    conn: Connection, found: MonitorRow, environment_id: int, failure: Failure, effects: MonitorEffects
) -> None:
    """The monitor fails in an environment; past its threshold, the failure is an event of its
    issue, unless the monitor is muted (its status still shows the failure)."""
    place = _reloaded(conn, environment_id)
    failures = place.consecutive_failures + 1
    monitors.set_environment_state(
        conn, place.id, status=failure.kind, consecutive_failures=failures, consecutive_successes=0
    )
    if failures >= found.config.failure_issue_threshold and not found.muted:
        effects.add_failure(failure_event(found, failure, effects.codec()))


def _reloaded(conn: Connection, environment_id: int) -> EnvironmentRow:
    found = monitors.get_environment(conn, environment_id)
    assert found is not None  # read in this transaction, which holds the write lock
    return found


def monitor_issue_hash(found: MonitorRow) -> str:
    """The hash the monitor's failure events group under (their fingerprint)."""
    event = {"platform": "other", "fingerprint": ["cron-monitor", str(found.id)]}
    return group_event(event, ProjectGrouping(DEFAULT_CONFIG_ID)).hashes[0]


def resolve_recovered(conn: Connection, effects: MonitorEffects, now: float) -> None:
    """Resolve the issue of each monitor that recovered, if it is unresolved and no environment of
    the monitor is still failing (its one issue stands for all of them)."""
    for found in effects.recovered.values():
        if monitors.any_failing(conn, found.id):
            continue
        wanted = monitor_issue_hash(found)
        issue_id = issues.issues_by_hash(conn, found.project_id, [wanted]).get(wanted)
        if issue_id is not None:
            monitors.resolve_recovered_issue(conn, issue_id, found.slug, now)
