"""The notification outbox: rows the digest writes in the transaction that decided to alert, and
the notify workers deliver at least once, each try recorded.

Claiming is portable and race-free: a worker takes a due row by moving its `next_attempt_at` a
lease into the future with a conditional update; the row comes back by itself if that worker dies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from shoal.store.schema import notification, notification_attempt

# Delivered and failed notifications, with their attempts, are kept this long for the issue page.
KEPT_SECONDS = 30 * 86400


@dataclass(frozen=True)
class NewNotification:
    project_id: int
    rule_id: int | None
    issue_id: int | None
    channel_id: int | None
    target: dict[str, Any]  # {"kind", "config"} when no channel row is behind it
    message: dict[str, Any]


@dataclass(frozen=True)
class OutboxRow:
    id: int
    project_id: int
    rule_id: int | None
    issue_id: int | None
    channel_id: int | None
    target: dict[str, Any]
    message: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: float
    delivered_at: float | None


def enqueue(conn: Connection, rows: Sequence[NewNotification], now: float) -> None:
    if not rows:
        return
    conn.execute(
        insert(notification),
        [
            {
                "project_id": r.project_id,
                "rule_id": r.rule_id,
                "issue_id": r.issue_id,
                "channel_id": r.channel_id,
                "target": orjson.dumps(r.target).decode(),
                "message": orjson.dumps(r.message).decode(),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for r in rows
        ],
    )


def due_ids(conn: Connection, now: float, limit: int) -> list[int]:
    rows = conn.execute(
        select(notification.c.id)
        .where(notification.c.status == "pending", notification.c.next_attempt_at <= now)
        .order_by(notification.c.next_attempt_at, notification.c.id)
        .limit(limit)
    )
    return [row.id for row in rows]


def claim(conn: Connection, notification_id: int, now: float, lease_seconds: float) -> OutboxRow | None:
    """Take a due row for `lease_seconds`; None when another worker took it first."""
    changed = conn.execute(
        update(notification)
        .where(
            notification.c.id == notification_id,
            notification.c.status == "pending",
            notification.c.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + lease_seconds, attempts=notification.c.attempts + 1)
    ).rowcount
    if changed != 1:
        return None
    return get_notification(conn, notification_id)


def record_attempt(conn: Connection, notification_id: int, now: float, error: str | None) -> None:
    conn.execute(
        insert(notification_attempt).values(
            notification_id=notification_id, attempted_at=now, ok=error is None, error=error
        )
    )


def mark_delivered(conn: Connection, notification_id: int, now: float) -> None:
    conn.execute(
        update(notification)
        .where(notification.c.id == notification_id)
        .values(status="delivered", delivered_at=now, last_error=None)
    )


def retry_later(conn: Connection, notification_id: int, at: float, error: str) -> None:
    conn.execute(
        update(notification)
        .where(notification.c.id == notification_id)
        .values(next_attempt_at=at, last_error=error)
    )


def mark_failed(conn: Connection, notification_id: int, error: str) -> None:
    conn.execute(
        update(notification)
        .where(notification.c.id == notification_id)
        .values(status="failed", last_error=error)
    )


def get_notification(conn: Connection, notification_id: int) -> OutboxRow | None:
    row = conn.execute(select(notification).where(notification.c.id == notification_id)).first()
    return _outbox_row(row) if row else None


def issue_notifications(conn: Connection, issue_id: int, limit: int = 50) -> list[OutboxRow]:
    rows = conn.execute(
        select(notification)
        .where(notification.c.issue_id == issue_id)
        .order_by(notification.c.id.desc())
        .limit(limit)
    )
    return [_outbox_row(row) for row in rows]


def attempts_of(conn: Connection, notification_id: int) -> list[tuple[float, bool, str | None]]:
    rows = conn.execute(
        select(notification_attempt)
        .where(notification_attempt.c.notification_id == notification_id)
        .order_by(notification_attempt.c.id)
    )
    return [(row.attempted_at, row.ok, row.error) for row in rows]


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        project_id=row.project_id,
        rule_id=row.rule_id,
        issue_id=row.issue_id,
        channel_id=row.channel_id,
        target=orjson.loads(row.target),
        message=orjson.loads(row.message),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def prune(conn: Connection, before: float) -> int:
    """Forget finished notifications made before `before` (their attempts go with them)."""
    result = conn.execute(
        delete(notification).where(notification.c.status != "pending", notification.c.created_at < before)
    )
    return int(result.rowcount)
