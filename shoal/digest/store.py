"""Write a digested batch to the store in one transaction.

Order inside the transaction: drop events already stored (idempotence on (project, event_id)) →
find or create each event's issue by its hashes (first known hash wins; every hash of the event is
then attached to that issue; an event whose first known hash is tombstoned, its issue deleted and
discarded, is dropped instead: outcome filtered:discarded-hash) → insert the events → add to issue
counters, tag counts, per-minute and per-hour counts, users seen, the project's stored-event count
→ state changes the events cause (regressions, escalations: `lifecycle.py`) → alert rules, their
decision log and the notification outbox (`alerts.py`), after the session items are folded into
the release health counters (`sessions.py`) → the batch's transactions
(`store/transactions.py`) → the quota refunds of what was filtered (`store/quota_usage.py`:
ingest counted it, a filter or a tombstone dropped it) → the outcome counters. Alerts come last
so that they see the batch counted in ("more than 100 in 1h" includes the 101st event) and the
issue's new state.

Cron check-ins come first (`monitor_check_ins.py`): their monitors' failures join the batch as
events of the monitors' issues (not counted as accepted errors), and a monitor that recovered has
its issue resolved after the alerts.

Two PostgreSQL workers can race to create the issue for the same new hash; the loser's hash insert
fails on the primary key, its whole transaction rolls back and `store_with_retries` runs the batch
again, which then finds the winner's issue. One issue, one creation, by construction.

Lock order, so that workers wait for each other instead of deadlocking: the batch's project rows
first (the stored-event counter), then issue rows in id order, then aggregate rows in key order;
quota counters before outcome counters, as ingest's flush takes them.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from shoal.digest.alerts import evaluate_batch
from shoal.digest.attachments import store_attachments
from shoal.digest.check_ins import DigestedCheckIn
from shoal.digest.decision_memory import DecisionMemory
from shoal.digest.feedback import store_reports
from shoal.digest.lifecycle import apply_transitions
from shoal.digest.monitor_check_ins import MonitorEffects, apply_check_ins, resolve_recovered
from shoal.digest.pipeline import DigestedEvent
from shoal.digest.sessions import SessionItems, store_session_items
from shoal.outcomes import DISCARDED_HASH, DUPLICATE, Category, Outcome, OutcomeKey
from shoal.store import aggregates, discards, events, issues, quota_usage, releases, triage
from shoal.store.aggregates import TagCount
from shoal.store.alert_state import Decision
from shoal.store.attachments import NewAttachment
from shoal.store.db import write_transaction
from shoal.store.feedback import NewFeedback
from shoal.store.quota_usage import Refund
from shoal.store.transactions import NewTransaction, store_transactions

log = logging.getLogger(__name__)

RACE_RETRIES = 5
# PostgreSQL's unique violation (another worker inserted the same hash or event first), "deadlock
# detected" and "could not serialize": the transaction may simply run again.
_RETRYABLE_SQLSTATES = frozenset({"23505", "40P01", "40001"})


@dataclass(frozen=True)
class StoreResult:
    stored: int
    duplicates: int
    new_issue_ids: list[int]
    decisions: list[Decision]


def store_with_retries(
    engine: Engine,
    batch: list[DigestedEvent],
    outcomes: Counter[OutcomeKey],
    now: float,
    memory: DecisionMemory | None = None,
    *,
    transactions: Sequence[NewTransaction] = (),
    check_ins: Sequence[DigestedCheckIn] = (),
    sessions: SessionItems | None = None,
    attachments: Sequence[NewAttachment] = (),
    feedback: Sequence[NewFeedback] = (),
    refunds: Mapping[Refund, int] | None = None,
) -> StoreResult:
    """`store_batch` in its own transaction, run again when it lost a race with another worker.
    `memory` learns the decisions logged once they are committed. Check-ins go first: their
    failures are events of the batch (shoal/digest/monitor_check_ins.py)."""
    attempt = 1
    while True:
        try:
            with write_transaction(engine) as conn:
                monitored = apply_check_ins(conn, check_ins)
                result = store_batch(
                    conn,
                    batch,
                    outcomes,
                    now,
                    memory,
                    transactions=transactions,
                    monitors=monitored,
                    sessions=sessions,
                    refunds=refunds,
                )
                # After the events: an attachment or a report finds its event stored.
                reported = store_attachments(conn, attachments)
                reported += store_reports(conn, feedback, ((e.project_id, e.event_id) for e in batch))
                aggregates.add_outcomes(conn, int(now // 3600), reported)
            if memory is not None:
                memory.remember(result.decisions)
            return result
        except DBAPIError as exc:
            if attempt >= RACE_RETRIES or not _lost_a_race(exc):
                raise
            log.info(
                "lost a race with another worker (attempt %d): %s; storing the batch again",
                attempt,
                type(exc.orig).__name__,
            )
            attempt += 1


def _lost_a_race(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    # SQLite has one writer at a time, so it only gets here when two digest processes share a file.
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc.orig)


def store_batch(
    conn: Connection,
    batch: list[DigestedEvent],
    outcomes: Counter[OutcomeKey],
    now: float,
    memory: DecisionMemory | None = None,
    *,
    transactions: Sequence[NewTransaction] = (),
    monitors: MonitorEffects | None = None,
    sessions: SessionItems | None = None,
    refunds: Mapping[Refund, int] | None = None,
) -> StoreResult:
    """Store the batch; `refunds` are the items the pipeline's inbound filters dropped, given back
    to the quotas with those a tombstone drops here."""
    monitors = monitors or MonitorEffects()
    batch = [*batch, *monitors.failures]
    fresh = _without_duplicates(conn, batch)
    duplicates = len(batch) - len(fresh)
    kept = {id(e) for e in fresh}
    duplicated = Counter(
        OutcomeKey(e.project_id, Category.ERROR, Outcome.INVALID, DUPLICATE, e.key_id)
        for e in batch
        if id(e) not in kept
    )
    aggregates.add_events_stored(conn, Counter(e.project_id for e in fresh))
    assigned = _assign_issues(conn, fresh)
    fresh, issue_ids, new_issue_ids = assigned.events, assigned.issue_ids, assigned.new_issue_ids
    events.insert_events(
        conn, [_new_event(e, issue_id) for e, issue_id in zip(fresh, issue_ids, strict=True)]
    )
    count_into_issues(conn, fresh, issue_ids)
    releases.record_release_events(conn, _release_counts(fresh), now)
    triage.add_first_seen(conn, new_issue_ids, now)
    transitions = apply_transitions(conn, fresh, issue_ids, now)
    # Before the alerts, so that "percent of sessions" counts the sessions of this batch too.
    sessions_accepted = store_session_items(conn, sessions, now)
    decisions = evaluate_batch(
        conn,
        fresh,
        issue_ids=issue_ids,
        new_issue_ids=new_issue_ids,
        transitions=transitions,
        now=now,
        memory=memory,
    )

    resolve_recovered(conn, monitors, now)

    accepted = Counter(
        OutcomeKey(e.project_id, Category.ERROR, Outcome.ACCEPTED, "", e.key_id)
        for e in fresh
        if not monitors.is_failure(e)
    )
    accepted.update(
        OutcomeKey(t.project_id, Category.TRANSACTION, Outcome.ACCEPTED, "", t.key_id)
        for t in store_transactions(conn, transactions)
    )
    accepted.update(sessions_accepted)
    quota_usage.refund(conn, _refunds(refunds, assigned.discarded_events, monitors), now)
    aggregates.add_outcomes(conn, int(now // 3600), outcomes + accepted + assigned.discarded + duplicated)
    return StoreResult(len(fresh), duplicates, new_issue_ids, decisions)


def count_into_issues(conn: Connection, batch: list[DigestedEvent], issue_ids: list[int]) -> None:
    """Add events to their issues' counters, tag counts, per-minute and per-hour counts and users
    seen. Also how merging and regrouping rebuild an issue: by counting its events again."""
    issues.apply_issue_updates(conn, _issue_updates(batch, issue_ids))
    tag_counts = _tag_counts(batch, issue_ids)
    aggregates.add_tag_counts(conn, tag_counts)
    aggregates.add_issue_counts(conn, *_time_buckets(batch, issue_ids))
    issues.recount_users(conn, {issue_id for issue_id, key, _ in tag_counts if key == "user"})


def _without_duplicates(conn: Connection, batch: list[DigestedEvent]) -> list[DigestedEvent]:
    stored = {
        (project_id, event_id)
        for project_id, members in _by_project(batch).items()
        for event_id in events.existing_event_ids(conn, project_id, (e.event_id for e in members))
    }
    fresh = []
    for e in batch:
        key = (e.project_id, e.event_id)
        if key not in stored:
            stored.add(key)  # a second copy within the same batch is a duplicate too
            fresh.append(e)
    return fresh


@dataclass
class _Assigned:
    """The batch's events that go on to be stored, each one's issue, the issues they created, and
    the outcomes of those dropped because their issue was deleted and discarded."""

    events: list[DigestedEvent] = field(default_factory=list)
    issue_ids: list[int] = field(default_factory=list)
    new_issue_ids: list[int] = field(default_factory=list)
    discarded: Counter[OutcomeKey] = field(default_factory=Counter)
    discarded_events: list[DigestedEvent] = field(default_factory=list)


def _assign_issues(conn: Connection, batch: list[DigestedEvent]) -> _Assigned:
    # One lookup per project, as before tombstones: the flag comes with the issue id.
    found = {
        project_id: discards.known_hashes(conn, project_id, {h for e in members for h in e.hashes})
        for project_id, members in _by_project(batch).items()
    }
    known = {(p, h): issue_id for p, hashes in found.items() for h, issue_id in hashes.issues.items()}
    tombstoned = {(p, h) for p, hashes in found.items() for h in hashes.tombstoned}
    new_hashes: list[tuple[int, str, int]] = []
    assigned = _Assigned()
    issue_ids, new_issue_ids = assigned.issue_ids, assigned.new_issue_ids
    for e in batch:
        first = next(((e.project_id, h) for h in e.hashes if (e.project_id, h) in known), None)
        if first in tombstoned:
            key = OutcomeKey(e.project_id, Category.ERROR, Outcome.FILTERED, DISCARDED_HASH, e.key_id)
            assigned.discarded[key] += 1
            assigned.discarded_events.append(e)
            continue
        assigned.events.append(e)
        issue_id = known[first] if first is not None else None
        if issue_id is None:
            issue_id = issues.create_issue(conn, new_issue_for(e))
            new_issue_ids.append(issue_id)
        for h in e.hashes:
            if (e.project_id, h) not in known:
                known[(e.project_id, h)] = issue_id
                new_hashes.append((e.project_id, h, issue_id))
        issue_ids.append(issue_id)
    issues.attach_hashes(conn, new_hashes)
    # They were counted as stored with the batch (the counter is the batch's first lock).
    not_stored: Counter[int] = Counter()
    for key, n in assigned.discarded.items():
        not_stored[key.project_id] -= n
    if not_stored:
        aggregates.add_events_stored(conn, not_stored)
    return assigned


def _refunds(
    filtered: Mapping[Refund, int] | None, discarded: Iterable[DigestedEvent], monitors: MonitorEffects
) -> Counter[Refund]:
    """What ingest counted and the batch does not store for a filter or a tombstone. A monitor's
    failure event was never sent, so never counted: it gives nothing back."""
    refunds = Counter(filtered or {})
    refunds.update(
        Refund(e.project_id, e.key_id, "error", int(e.received))
        for e in discarded
        if not monitors.is_failure(e)
    )
    return refunds


def _by_project(batch: list[DigestedEvent]) -> dict[int, list[DigestedEvent]]:
    members: dict[int, list[DigestedEvent]] = defaultdict(list)
    for e in batch:
        members[e.project_id].append(e)
    return members


def new_issue_for(e: DigestedEvent) -> issues.NewIssue:
    """The issue a first event starts: its headline, level, platform, time and release."""
    s = e.summary
    return issues.NewIssue(
        e.project_id, s.type, s.title, s.culprit, e.level, e.platform, s.metadata, e.timestamp, e.release
    )


def _new_event(e: DigestedEvent, issue_id: int) -> events.NewEvent:
    return events.NewEvent(
        project_id=e.project_id,
        event_id=e.event_id,
        issue_id=issue_id,
        timestamp=e.timestamp,
        received=e.received,
        level=e.level,
        release=e.release,
        environment=e.environment,
        user_key=e.user_key,
        grouping_config=e.grouping_config,
        hashes=e.hashes,
        payload=e.payload,
        trace_id=e.trace_id,
    )


def _issue_updates(batch: list[DigestedEvent], issue_ids: list[int]) -> list[issues.IssueUpdate]:
    by_issue: dict[int, list[DigestedEvent]] = defaultdict(list)
    for e, issue_id in zip(batch, issue_ids, strict=True):
        by_issue[issue_id].append(e)
    updates = []
    for issue_id, members in by_issue.items():
        newest = max(members, key=lambda e: e.timestamp)
        s = newest.summary
        updates.append(
            issues.IssueUpdate(
                issue_id=issue_id,
                times_seen=len(members),
                first_seen=min(e.timestamp for e in members),
                last_seen=newest.timestamp,
                title=s.title,
                culprit=s.culprit,
                level=newest.level,
                metadata=s.metadata,
                release=newest.release,
            )
        )
    return updates


def _tag_counts(batch: Iterable[DigestedEvent], issue_ids: list[int]) -> dict[tuple[int, str, str], TagCount]:
    counts: dict[tuple[int, str, str], TagCount] = {}
    for e, issue_id in zip(batch, issue_ids, strict=True):
        for key, value in e.tags:
            count = counts.get((issue_id, key, value))
            if count is None:
                counts[(issue_id, key, value)] = TagCount(1, e.timestamp, e.timestamp)
            else:
                count.times_seen += 1
                count.first_seen = min(count.first_seen, e.timestamp)
                count.last_seen = max(count.last_seen, e.timestamp)
    return counts


def _time_buckets(
    batch: Iterable[DigestedEvent], issue_ids: list[int]
) -> tuple[Counter[tuple[int, int, str]], Counter[tuple[int, int, str]]]:
    minutes: Counter[tuple[int, int, str]] = Counter()
    hours: Counter[tuple[int, int, str]] = Counter()
    for e, issue_id in zip(batch, issue_ids, strict=True):
        environment = e.environment or ""
        minutes[(issue_id, int(e.timestamp // 60), environment)] += 1
        hours[(issue_id, int(e.timestamp // 3600), environment)] += 1
    return minutes, hours


def _release_counts(batch: Iterable[DigestedEvent]) -> dict[tuple[int, str, str], releases.ReleaseEvents]:
    counts: dict[tuple[int, str, str], releases.ReleaseEvents] = {}
    for e in batch:
        if e.release is None:
            continue
        key = (e.project_id, e.release, e.environment or "")
        seen = counts.get(key)
        if seen is None:
            counts[key] = releases.ReleaseEvents(1, e.timestamp, e.timestamp)
        else:
            seen.events += 1
            seen.first_seen = min(seen.first_seen, e.timestamp)
            seen.last_seen = max(seen.last_seen, e.timestamp)
    return counts
