"""The quota advisor's weekly email in the store: who gets a project's (its organization's owners
and admins, but those who opted out), and the week it went out, claimed once per project and
week (table `advisor_email_week`) so that one scheduler sends it however many run.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from shoal.store.db import upsert
from shoal.store.schema import advisor_email_opt_out, advisor_email_week, membership, users
from shoal.store.teams import MANAGER_ROLES
from shoal.store.users import Member


def recipients(conn: Connection, organization_id: int, project_id: int) -> list[Member]:
    """The organization's owners and admins (who see every project, shoal.store.teams) who did
    not opt out of the project's advisor email, by email."""
    opted_out = select(advisor_email_opt_out.c.user_id).where(
        advisor_email_opt_out.c.project_id == project_id
    )
    rows = conn.execute(
        select(users.c.id, users.c.email)
        .join(membership, membership.c.user_id == users.c.id)
        .where(
            membership.c.organization_id == organization_id,
            membership.c.role.in_(MANAGER_ROLES),
            users.c.id.not_in(opted_out),
        )
        .order_by(users.c.email)
    )
    return [Member(int(row.id), row.email) for row in rows]


def wants_email(conn: Connection, user_id: int, project_id: int) -> bool:
    found = conn.execute(
        select(advisor_email_opt_out.c.user_id).where(
            advisor_email_opt_out.c.user_id == user_id, advisor_email_opt_out.c.project_id == project_id
        )
    ).first()
    return found is None


def set_wants_email(conn: Connection, user_id: int, project_id: int, wanted: bool) -> None:
    where = (advisor_email_opt_out.c.user_id == user_id, advisor_email_opt_out.c.project_id == project_id)
    if wanted:
        conn.execute(delete(advisor_email_opt_out).where(*where))
    else:
        stmt = upsert(advisor_email_opt_out, conn).values(user_id=user_id, project_id=project_id)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["user_id", "project_id"]))


def claim_week(conn: Connection, project_id: int, week_start: int, now: float) -> bool:
    """Whether this caller sends the project's email of the week: the first to insert the row."""
    stmt = (
        upsert(advisor_email_week, conn)
        .values(project_id=project_id, week_start=week_start, sent_at=now)
        .on_conflict_do_nothing(index_elements=["project_id", "week_start"])
        # The row comes back only when this insert made it; rowcount is not 1 here on psycopg
        # (observed: tests/test_advisor_email.py on PostgreSQL).
        .returning(advisor_email_week.c.project_id)
    )
    return conn.execute(stmt).first() is not None


def release_week(conn: Connection, project_id: int, week_start: int) -> None:
    """Give the week back after a send that may succeed later (a transient SMTP failure)."""
    conn.execute(
        delete(advisor_email_week).where(
            advisor_email_week.c.project_id == project_id, advisor_email_week.c.week_start == week_start
        )
    )


def sent_weeks(conn: Connection, project_id: int) -> list[int]:
    rows = conn.execute(
        select(advisor_email_week.c.week_start)
        .where(advisor_email_week.c.project_id == project_id)
        .order_by(advisor_email_week.c.week_start)
    )
    return [int(week) for week in rows.scalars()]
