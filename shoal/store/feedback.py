"""User feedback: storing what users wrote about an error, linking it to that error's issue, and
reading it for the issue page and the project's Feedback page.

A report names its error by event id, and may arrive before the error does (an SDK sends the two in
separate envelopes, and two digest workers may take them in either order). So the issue is written
when both are known: when the report is stored, if its event already is, and otherwise when the
event is (`link_to_events`, run by the digest for every batch). Reads prefer the event's current
issue (a merge moves events) and fall back to the one written, which outlives the event when
retention deletes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, select, update

from shoal.store.schema import event, issue, project, user_feedback

# Event ids per IN list: well under SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class NewFeedback:
    project_id: int
    feedback_id: str
    kind: str  # user_report | feedback
    event_id: str | None  # the error it is about
    name: str
    email: str
    message: str
    url: str
    received: float
    key_id: int = 0  # the DSN key it came with, for its outcome


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: int
    kind: str
    event_id: str | None
    name: str
    email: str
    message: str
    url: str
    received: float
    issue_id: int | None
    issue_short_id: str | None
    issue_title: str | None


def store_feedback(conn: Connection, feedback: NewFeedback) -> bool:
    """Insert it, or update the report stored under the same id (an SDK sending a corrected
    report for the same event; a redelivered envelope writes the same values). True if new."""
    values = {
        "kind": feedback.kind,
        "event_id": feedback.event_id,
        "name": feedback.name,
        "email": feedback.email,
        "message": feedback.message,
        "url": feedback.url,
    }
    updated = conn.execute(
        update(user_feedback)
        .where(
            user_feedback.c.project_id == feedback.project_id,
            user_feedback.c.feedback_id == feedback.feedback_id,
        )
        .values(**values)
    ).rowcount
    if updated:
        return False
    issue_id = _issue_of_event(conn, feedback.project_id, feedback.event_id)
    conn.execute(
        insert(user_feedback).values(
            project_id=feedback.project_id,
            feedback_id=feedback.feedback_id,
            issue_id=issue_id,
            received=feedback.received,
            **values,
        )
    )
    return True


def link_to_events(conn: Connection, project_id: int, event_ids: Iterable[str]) -> int:
    """Give reports that arrived before their event the issue of that event, now stored."""
    ids = sorted(set(event_ids))
    event_issue = (
        select(event.c.issue_id)
        .where(event.c.project_id == user_feedback.c.project_id, event.c.event_id == user_feedback.c.event_id)
        .scalar_subquery()
    )
    linked = 0
    for start in range(0, len(ids), _CHUNK):
        linked += conn.execute(
            update(user_feedback)
            .where(
                user_feedback.c.project_id == project_id,
                user_feedback.c.issue_id.is_(None),
                user_feedback.c.event_id.in_(ids[start : start + _CHUNK]),
            )
            .values(issue_id=event_issue)
        ).rowcount
    return linked


def issue_feedback(conn: Connection, project_id: int, issue_id: int, limit: int = 100) -> list[FeedbackRow]:
    """The issue's feedback, newest first."""
    query = _feedback_select().where(user_feedback.c.project_id == project_id, _current_issue() == issue_id)
    return [_row(row) for row in conn.execute(query.order_by(*_NEWEST_FIRST).limit(limit))]


def project_feedback(conn: Connection, project_id: int, limit: int, offset: int = 0) -> list[FeedbackRow]:
    """A page of the project's feedback, newest first, each with its issue if known."""
    query = _feedback_select().where(user_feedback.c.project_id == project_id)
    return [_row(row) for row in conn.execute(query.order_by(*_NEWEST_FIRST).limit(limit).offset(offset))]


def _issue_of_event(conn: Connection, project_id: int, event_id: str | None) -> int | None:
    if event_id is None:
        return None
    found = conn.execute(
        select(event.c.issue_id).where(event.c.project_id == project_id, event.c.event_id == event_id)
    ).scalar()
    return int(found) if found is not None else None


_report_event = event.alias("report_event")
_NEWEST_FIRST = (user_feedback.c.received.desc(), user_feedback.c.id.desc())


def _current_issue() -> Any:
    """The issue its event is in now, else the one written when it was linked."""
    return func.coalesce(_report_event.c.issue_id, user_feedback.c.issue_id)


def _feedback_select() -> Any:
    current = _current_issue()
    return (
        select(
            user_feedback.c.id,
            user_feedback.c.kind,
            user_feedback.c.event_id,
            user_feedback.c.name,
            user_feedback.c.email,
            user_feedback.c.message,
            user_feedback.c.url,
            user_feedback.c.received,
            current.label("current_issue"),
            issue.c.short_id,
            issue.c.title,
            project.c.slug,
        )
        .select_from(user_feedback)
        .outerjoin(
            _report_event,
            and_(
                _report_event.c.project_id == user_feedback.c.project_id,
                _report_event.c.event_id == user_feedback.c.event_id,
            ),
        )
        .outerjoin(issue, issue.c.id == current)
        .join(project, project.c.id == user_feedback.c.project_id)
    )


def _row(row: Row[Any]) -> FeedbackRow:
    known = row.current_issue is not None and row.short_id is not None
    return FeedbackRow(
        id=int(row.id),
        kind=row.kind,
        event_id=row.event_id,
        name=row.name,
        email=row.email,
        message=row.message,
        url=row.url,
        received=float(row.received),
        issue_id=int(row.current_issue) if known else None,
        issue_short_id=f"{row.slug.upper()}-{row.short_id}" if known else None,
        issue_title=row.title if known else None,
    )
