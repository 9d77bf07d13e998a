"""What alert rules remember per issue: when each rule last fired (the action interval, claimed
with a conditional update so two workers never both fire), and the decision log, which says for
every rule evaluated on an issue whether it fired and why."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, delete, func, insert, select

from shoal.store.db import upsert
from shoal.store.schema import alert_decision, alert_rule, rule_issue_status

# The decision log keeps this many rows per issue (the newest), and none older than this.
DECISIONS_KEPT_PER_ISSUE = 500
DECISIONS_KEPT_SECONDS = 30 * 86400


@dataclass(frozen=True)
class Decision:
    rule_id: int
    issue_id: int
    event_id: str | None
    fired: bool
    reason: str
    created_at: float


@dataclass(frozen=True)
class LoggedDecision(Decision):
    rule_name: str = ""
    id: int = 0


def last_fired(conn: Connection, issue_ids: Iterable[int]) -> dict[tuple[int, int], float]:
    """(rule_id, issue_id) → when that rule last fired for that issue, for every rule."""
    ids = sorted(set(issue_ids))
    if not ids:
        return {}
    rows = conn.execute(select(rule_issue_status).where(rule_issue_status.c.issue_id.in_(ids)))
    return {(row.rule_id, row.issue_id): row.last_fired for row in rows}


def last_fired_per_rule(conn: Connection, rule_ids: list[int]) -> dict[int, float]:
    """When each rule last fired, for any issue."""
    if not rule_ids:
        return {}
    rows = conn.execute(
        select(rule_issue_status.c.rule_id, func.max(rule_issue_status.c.last_fired))
        .where(rule_issue_status.c.rule_id.in_(rule_ids), rule_issue_status.c.last_fired > 0)
        .group_by(rule_issue_status.c.rule_id)
    )
    return {int(rule_id): float(at) for rule_id, at in rows}


def claim_intervals(
    conn: Connection, wanted: Sequence[tuple[int, int, int]], now: float
) -> set[tuple[int, int]]:
    """Take the action interval of each (rule, issue, interval in minutes); return the (rule,
    issue) pairs taken. Sentry's guard (reference §2.6) as one upsert per interval length: a row
    is made, or changed only when its rule has not fired for its issue within the interval, and
    only the worker whose statement made or changed it may fire. A racing worker waits for the
    winner's row, then finds it inside the interval."""
    by_interval: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for rule_id, issue_id, minutes in wanted:
        by_interval[minutes].append((rule_id, issue_id))
    won: set[tuple[int, int]] = set()
    for minutes, pairs in sorted(by_interval.items()):
        rows = [{"rule_id": r, "issue_id": i, "last_fired": now} for r, i in sorted(pairs)]
        stmt = upsert(rule_issue_status, conn).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["rule_id", "issue_id"],
            set_={"last_fired": stmt.excluded.last_fired},
            where=rule_issue_status.c.last_fired <= now - minutes * 60,
        )
        # RETURNING, not rowcount: psycopg reports no rowcount for an INSERT … ON CONFLICT.
        returning = stmt.returning(rule_issue_status.c.rule_id, rule_issue_status.c.issue_id)
        won.update((row.rule_id, row.issue_id) for row in conn.execute(returning))
    return won


def record_decisions(conn: Connection, decisions: Sequence[Decision]) -> None:
    if decisions:
        conn.execute(
            insert(alert_decision),
            [
                {
                    "rule_id": d.rule_id,
                    "issue_id": d.issue_id,
                    "event_id": d.event_id,
                    "fired": d.fired,
                    "reason": d.reason,
                    "created_at": d.created_at,
                }
                for d in decisions
            ],
        )


def issue_decisions(conn: Connection, issue_id: int, limit: int = 100) -> list[LoggedDecision]:
    """The newest decisions on an issue, newest first."""
    return decision_page(conn, alert_decision.c.issue_id == issue_id, limit=limit)[0]


def rule_decisions(conn: Connection, rule_id: int, limit: int = 100) -> list[LoggedDecision]:
    return decision_page(conn, alert_decision.c.rule_id == rule_id, limit=limit)[0]


def decision_page(
    conn: Connection,
    where: ColumnElement[bool],
    *,
    limit: int,
    before: int | None = None,
    after: int | None = None,
) -> tuple[list[LoggedDecision], bool]:
    """Up to `limit` decisions, newest first, older than id `before` (or newer than id `after`),
    and whether there are more beyond them in that direction. A keyset page on the log's
    (issue_id, id) and (rule_id, id) indexes, so pages stay put while the digest keeps logging."""
    query = (
        select(alert_decision, alert_rule.c.name)
        .join(alert_rule, alert_rule.c.id == alert_decision.c.rule_id)
        .where(where)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(alert_decision.c.id > after).order_by(alert_decision.c.id)
    else:
        if before is not None:
            query = query.where(alert_decision.c.id < before)
        query = query.order_by(alert_decision.c.id.desc())
    rows = [
        LoggedDecision(r.rule_id, r.issue_id, r.event_id, r.fired, r.reason, r.created_at, r.name, r.id)
        for r in conn.execute(query)
    ]
    page = rows[:limit]
    return (page[::-1] if after is not None else page), len(rows) > limit


def prune_decisions(conn: Connection, now: float) -> int:
    """Keep the log bounded: drop rows older than 30 days, and all but the newest 500 per issue."""
    removed = conn.execute(
        delete(alert_decision).where(alert_decision.c.created_at < now - DECISIONS_KEPT_SECONDS)
    ).rowcount
    crowded = (
        select(alert_decision.c.issue_id)
        .group_by(alert_decision.c.issue_id)
        .having(func.count() > DECISIONS_KEPT_PER_ISSUE)
    )
    for issue_id in conn.execute(crowded).scalars().all():
        newest_kept = (
            select(alert_decision.c.id)
            .where(alert_decision.c.issue_id == issue_id)
            .order_by(alert_decision.c.id.desc())
            .offset(DECISIONS_KEPT_PER_ISSUE - 1)
            .limit(1)
            .scalar_subquery()
        )
        removed += conn.execute(
            delete(alert_decision).where(
                alert_decision.c.issue_id == issue_id, alert_decision.c.id < newest_kept
            )
        ).rowcount
    return int(removed)
