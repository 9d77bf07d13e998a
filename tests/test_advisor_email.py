"""The quota advisor's weekly email, on SQLite and PostgreSQL, driven by the scheduler's job under
a manual clock and received by a real SMTP server (aiosmtpd): the owners and admins get it with
the advice and its links (HTML escaped), members and those who opted out do not; once per
project and week however often the job runs and however many schedulers run it; again the next
week; not when there is nothing to say; and a transient SMTP failure tries again later."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine

from shoal import advisor_email, scheduler
from shoal.clock import ManualClock
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.notify.base import NotifySettings
from shoal.outcomes import Outcome, OutcomeKey
from shoal.scheduler import FIRST_RUN_AFTER, HOUR, Scheduler
from shoal.store import advisor_emails, aggregates, issues, projects, users
from shoal.store.db import write_transaction
from shoal.store.issues import NewIssue
from tests.support.receivers import Mailbox, smtp_server

# Tuesday 10 November 2026, 09:00 UTC: the next Monday is still in November.
START = datetime(2026, 11, 10, 9, tzinfo=UTC).timestamp()
DAY = 86400
PASSWORD = "a long enough password"
PUBLIC_URL = "https://shoal.example.com"
HOSTILE = "<b>Shop & Co</b>"


@dataclass
class World:
    engine: Engine
    clock: ManualClock
    project_id: int
    quiet_project_id: int
    issue_id: int
    mailbox: Mailbox
    settings: NotifySettings

    def scheduler(self) -> Scheduler:
        """A scheduler as another process would start it."""
        return Scheduler(
            self.engine, scheduler.default_jobs(self.engine, self.clock, self.settings), self.clock
        )


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    clock = ManualClock(START)
    hour = int(START // HOUR)
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        shop = projects.create_project(conn, org, HOSTILE, "python", DEFAULT_CONFIG_ID).id
        quiet = projects.create_project(conn, org, "Quiet", "python", DEFAULT_CONFIG_ID).id
        for email, role in [
            ("owner@example.com", "owner"),
            ("admin@example.com", "admin"),
            ("member@example.com", "member"),
            ("away@example.com", "admin"),
        ]:
            user = users.create_user(conn, email, PASSWORD)
            users.add_membership(conn, org, user.id, role)
            if email == "away@example.com":
                advisor_emails.set_wants_email(conn, user.id, shop, False)
        aggregates.add_outcomes(conn, hour, {OutcomeKey(shop, "error", Outcome.ACCEPTED, "", 0): 1_000})
        issue_id = _issue(conn, shop, "ConnectionResetError", hour, 620)
        # Quiet accepted a little and has no issue: a quota that lasts, nothing to suggest.
        aggregates.add_outcomes(conn, hour, {OutcomeKey(quiet, "error", Outcome.ACCEPTED, "", 0): 10})
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        settings = NotifySettings(
            public_url=PUBLIC_URL, smtp_host="127.0.0.1", smtp_port=port, email_from="shoal@example.com"
        )
        yield World(engine, clock, shop, quiet, issue_id, mailbox, settings)


def _issue(conn: Connection, project_id: int, kind: str, hour: int, events: int) -> int:
    title = f"{kind}: <i>peer</i> gone"
    new = NewIssue(
        project_id, "error", title, "shop.cart", "error", "python", {"type": kind}, hour * HOUR, None
    )
    issue_id = issues.create_issue(conn, new)
    aggregates.add_issue_counts(conn, {}, {(issue_id, hour, ""): events})
    return issue_id


def run(jobs: Scheduler) -> list[str]:
    return jobs.run_due(threading.Event())


def test_the_owners_and_admins_get_the_advice_with_its_links(world: World) -> None:
    jobs = world.scheduler()
    world.clock.advance(FIRST_RUN_AFTER)
    assert "advisor-email" in run(jobs)
    (message,) = world.mailbox.messages
    assert world.mailbox.recipients == [["admin@example.com", "owner@example.com"]]
    assert message["Subject"] == f"Quota advice for {HOSTILE} (November 2026)"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "This issue is 62 % of this month's errors." in text
    assert "Suggested: ignore `ConnectionResetError` (filter preview: −62 %)." in text
    assert f"{PUBLIC_URL}/issues/{world.issue_id}/" in text
    assert f"{PUBLIC_URL}/projects/{world.project_id}/settings/filters/" in text
    assert f"{PUBLIC_URL}/projects/{world.project_id}/stats/#advisor-email" in text
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;b&gt;Shop &amp; Co&lt;/b&gt;" in html and "<b>" not in html
    assert "&lt;i&gt;peer&lt;/i&gt;" in html and "<i>" not in html
    assert f'href="{PUBLIC_URL}/issues/{world.issue_id}/"' in html


def test_it_goes_out_once_a_week_however_many_schedulers_run(world: World) -> None:
    first, second = world.scheduler(), world.scheduler()
    world.clock.advance(FIRST_RUN_AFTER)
    run(first)
    run(second)  # another process, the same hour
    for _ in range(24):  # the rest of the day, hourly, in both
        world.clock.advance(HOUR)
        run(first)
        run(second)
    assert len(world.mailbox.messages) == 1
    # Next Monday, a new week: once more.
    monday = advisor_email.week_start(START) + 7 * DAY
    world.clock.advance(monday - world.clock.now() + 60)
    run(first)
    run(second)
    assert len(world.mailbox.messages) == 2
    with world.engine.connect() as conn:
        assert advisor_emails.sent_weeks(conn, world.project_id) == [monday - 7 * DAY, monday]


def test_a_project_with_nothing_to_say_gets_no_email(world: World) -> None:
    jobs = world.scheduler()
    world.clock.advance(FIRST_RUN_AFTER)
    run(jobs)
    assert all(f"/projects/{world.quiet_project_id}/" not in str(m) for m in world.mailbox.messages)
    with world.engine.connect() as conn:
        assert advisor_emails.sent_weeks(conn, world.quiet_project_id) == []


def test_a_transient_smtp_failure_is_tried_again_at_the_next_run(world: World) -> None:
    world.mailbox.refuse = {
        "owner@example.com": "451 4.3.0 try again later",
        "admin@example.com": "451 4.3.0 try again later",
    }
    jobs = world.scheduler()
    world.clock.advance(FIRST_RUN_AFTER)
    run(jobs)
    assert world.mailbox.messages == []
    with world.engine.connect() as conn:
        assert advisor_emails.sent_weeks(conn, world.project_id) == []
    world.mailbox.refuse = {}
    world.clock.advance(HOUR)
    run(jobs)
    assert len(world.mailbox.messages) == 1


def test_without_email_configured_there_is_no_such_job(engine: Engine) -> None:
    names = [job.name for job in scheduler.default_jobs(engine, ManualClock(START), NotifySettings())]
    assert "retention" in names and "advisor-email" not in names


def test_weeks_start_on_monday_at_midnight_utc() -> None:
    monday = datetime(2026, 11, 9, tzinfo=UTC).timestamp()
    assert advisor_email.week_start(START) == monday
    assert advisor_email.week_start(monday) == monday
    assert advisor_email.week_start(monday - 1) == monday - 7 * DAY
