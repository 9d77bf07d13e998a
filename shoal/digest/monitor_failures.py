"""The event a monitor's failure adds to the monitor's issue: a check-in that reported an error, a
check-in that never came (missed) or one that ran past its max runtime (timeout).

As in Sentry, a failure is an error event of the project, tagged `monitor.slug`, so the project's
alert rules and channels apply to it as to any error: the first failure makes the issue ("Cron
failure: <slug>", one per monitor, by its fingerprint) and fires the new-issue rules; later ones
while it stays unresolved only count on it; one after the monitor recovered (which resolves the
issue) regresses it. Its event id is derived from the monitor, the kind and the check-in, so a
failure stored twice is one event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shoal.clock import iso_utc
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.normalize import NormalizeContext, normalize_event
from shoal.digest.pipeline import DigestedEvent
from shoal.digest.project_grouping import group_event
from shoal.digest.summary import IssueSummary
from shoal.digest.tags import event_tags
from shoal.digest.trimming import serialize
from shoal.store.events import PayloadCodec
from shoal.store.monitors import MonitorRow
from shoal.store.projects import ProjectGrouping

_IDS = uuid.UUID("5d0c1b7e-3f57-4a0e-9d0f-6a1c2b3d4e5f")  # the namespace of failure event ids
CULPRITS = {"error": "failed check-in", "missed": "missed check-in", "timeout": "check-in timed out"}


@dataclass(frozen=True)
class Failure:
    kind: str  # error | missed | timeout
    at: float  # when it failed: the check-in's time, or when the scheduler found it missed
    check_in_id: str
    environment: str | None = None
    release: str | None = None
    expected_at: float | None = None  # missed: when the check-in was due
    started_at: float | None = None  # timeout: when the job checked in as in progress
    duration: float | None = None  # error: the run's duration the job reported


def failure_title(slug: str) -> str:
    return f"Cron failure: {slug}"


def failure_event(found: MonitorRow, failure: Failure, codec: PayloadCodec) -> DigestedEvent:
    event = normalize_event(_payload(found, failure), NormalizeContext(failure.at, None, None, None))
    # The fingerprint makes the issue the monitor's, whatever the project's rules, and regrouping
    # the project finds the same hash again.
    grouping = group_event(event, ProjectGrouping(DEFAULT_CONFIG_ID))
    title = failure_title(found.slug)
    message = event["logentry"]["formatted"]
    return DigestedEvent(
        project_id=found.project_id,
        event_id=event["event_id"],
        timestamp=event["timestamp"],
        received=event["received"],
        level=event["level"],
        platform=event["platform"],
        release=event.get("release"),
        environment=event.get("environment"),
        user_key=None,
        grouping_config=grouping.config_id,
        hashes=grouping.hashes,
        summary=IssueSummary("default", title, CULPRITS[failure.kind], {"title": title, "value": message}),
        tags=event_tags(event),
        payload=codec.encode(serialize(event)),
    )


def _payload(found: MonitorRow, failure: Failure) -> dict[str, Any]:
    event_id = uuid.uuid5(_IDS, f"{found.id}:{failure.kind}:{failure.check_in_id}").hex
    payload: dict[str, Any] = {
        "event_id": event_id,
        "timestamp": failure.at,
        "level": "error",
        "platform": "other",
        "logger": "shoal.crons",
        "logentry": {"formatted": describe(found, failure)},
        "culprit": CULPRITS[failure.kind],
        "fingerprint": ["cron-monitor", str(found.id)],
        "tags": {"monitor.slug": found.slug, "monitor.failure": failure.kind},
        "contexts": {"monitor": _context(found, failure)},
    }
    if failure.environment:
        payload["environment"] = failure.environment
    if failure.release:
        payload["release"] = failure.release
    return payload


def _context(found: MonitorRow, failure: Failure) -> dict[str, Any]:
    schedule = found.config.schedule
    return {
        "type": "monitor",
        "slug": found.slug,
        "id": found.id,
        "check_in_id": failure.check_in_id,
        "failure": failure.kind,
        "schedule": schedule.describe() if schedule else None,
        "timezone": found.config.timezone,
        "checkin_margin": found.config.checkin_margin,
        "max_runtime": found.config.max_runtime,
    }


def describe(found: MonitorRow, failure: Failure) -> str:
    """The failure in a sentence, for the event's message."""
    if failure.kind == "missed":
        return (
            f"Monitor {found.slug} missed a check-in: one was expected at {iso_utc(failure.expected_at)} "
            f"and none came within the {found.config.checkin_margin}-minute margin."
        )
    if failure.kind == "timeout":
        return (
            f"Monitor {found.slug} timed out: its job checked in as in progress at "
            f"{iso_utc(failure.started_at)} and did not finish within its max runtime of "
            f"{found.config.max_runtime} minutes."
        )
    took = f" after {failure.duration:.1f} s" if failure.duration is not None else ""
    return f"Monitor {found.slug} failed: its job checked in with status error{took}."
