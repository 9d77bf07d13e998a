"""The notify worker on a real store (SQLite and PostgreSQL) and a real HTTP receiver, under a manual
clock: retries with backoff, each try recorded, permanent errors disable the channel with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from shoal.clock import ManualClock
from shoal.notify.base import Notification, NotifySettings
from shoal.notify.worker import MAX_ATTEMPTS, NotifyWorker, retry_delay, send_test
from shoal.store import channels, outbox, projects
from shoal.store.db import write_transaction
from shoal.store.outbox import NewNotification, OutboxRow
from shoal.store.schema import notification as outbox_table
from shoal.store.schema import organization
from tests.support.receivers import Receiver

START = 1_795_000_000.0
ALLOW_LOOPBACK = NotifySettings(outbound_allow=("127.0.0.1/32",), outbound_timeout=5.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def organization_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        return projects.create_organization(conn, "acme", "Acme")


def webhook(engine: Engine, organization_id: int, url: str) -> int:
    with write_transaction(engine) as conn:
        return channels.insert_channel(
            conn, organization_id, "hook", "webhook", config={"url": url}, now=START
        )


def queue(engine: Engine, notification: Notification, channel_id: int | None, target: dict[str, Any]) -> int:
    """Put one notification in the outbox, as the digest does; return its id."""
    with write_transaction(engine) as conn:
        organization_id = conn.execute(select(organization.c.id)).scalar_one()
        project_id = projects.create_project(
            conn, organization_id, "shop", "python", "newstyle:2026-01-20"
        ).id
        message = asdict(notification)
        outbox.enqueue(conn, [NewNotification(project_id, None, None, channel_id, target, message)], START)
        return int(conn.execute(select(func.max(outbox_table.c.id))).scalar_one())


def row(engine: Engine, notification_id: int) -> OutboxRow:
    with engine.connect() as conn:
        found = outbox.get_notification(conn, notification_id)
    assert found is not None
    return found


def test_a_receiver_failing_twice_gets_the_payload_on_the_third_try(
    engine: Engine, organization_id: int, receiver: Receiver, notification: Notification
) -> None:
    receiver.answer(500, 500, 200)
    notification_id = queue(engine, notification, webhook(engine, organization_id, receiver.url), {})
    clock = ManualClock(START)
    worker = NotifyWorker(engine, ALLOW_LOOPBACK, clock)
    assert worker.run_once() == 1
    assert row(engine, notification_id).status == "pending"
    clock.advance(retry_delay(1) - 1)
    assert worker.run_once() == 0  # not due yet
    clock.advance(1)
    assert worker.run_once() == 1
    clock.advance(retry_delay(2))
    assert worker.run_once() == 1
    delivered = row(engine, notification_id)
    assert (delivered.status, delivered.attempts, delivered.last_error) == ("delivered", 3, None)
    assert len(receiver.requests) == 3
    assert receiver.requests[-1].json()["issue"]["short_id"] == notification.issue_short_id
    with engine.connect() as conn:
        attempts = outbox.attempts_of(conn, notification_id)
    assert [ok for _, ok, _ in attempts] == [False, False, True]
    assert "500" in str(attempts[0][2])


def test_a_receiver_on_a_private_address_is_refused_and_the_channel_disabled(
    engine: Engine, organization_id: int, notification: Notification
) -> None:
    channel_id = webhook(engine, organization_id, "http://10.0.0.1/hook")
    notification_id = queue(engine, notification, channel_id, {})
    NotifyWorker(engine, NotifySettings(), ManualClock(START)).run_once()
    failed = row(engine, notification_id)
    assert failed.status == "failed"
    assert "10.0.0.1" in str(failed.last_error)
    assert "SHOAL_OUTBOUND_ALLOW" in str(failed.last_error)
    with engine.connect() as conn:
        channel = channels.get_channel(conn, channel_id)
    assert channel is not None
    assert not channel.enabled
    assert channel.disabled_reason == failed.last_error


def test_a_disabled_channel_fails_new_notifications_with_its_reason(
    engine: Engine, organization_id: int, notification: Notification, receiver: Receiver
) -> None:
    channel_id = webhook(engine, organization_id, receiver.url)
    with write_transaction(engine) as conn:
        channels.disable_channel(conn, channel_id, "HTTP 404 from 127.0.0.1")
    notification_id = queue(engine, notification, channel_id, {})
    NotifyWorker(engine, ALLOW_LOOPBACK, ManualClock(START)).run_once()
    assert row(engine, notification_id).last_error == "channel hook is disabled: HTTP 404 from 127.0.0.1"
    assert receiver.requests == []


def test_a_receiver_that_keeps_failing_is_given_up_after_the_last_try(
    engine: Engine, organization_id: int, receiver: Receiver, notification: Notification
) -> None:
    receiver.answer(503)
    notification_id = queue(engine, notification, webhook(engine, organization_id, receiver.url), {})
    clock = ManualClock(START)
    worker = NotifyWorker(engine, ALLOW_LOOPBACK, clock)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert worker.run_once() == 1
        clock.advance(retry_delay(attempt))
    failed = row(engine, notification_id)
    assert failed.status == "failed"
    assert str(failed.last_error).startswith(f"gave up after {MAX_ATTEMPTS} tries")
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_email_without_an_smtp_server_fails_and_says_which_setting(
    engine: Engine, organization_id: int, notification: Notification
) -> None:
    target = {"kind": "email", "config": {"to": ["dev@example.com"]}}
    notification_id = queue(engine, notification, None, target)
    NotifyWorker(engine, NotifySettings(), ManualClock(START)).run_once()
    failed = row(engine, notification_id)
    assert failed.status == "failed"
    assert "SHOAL_SMTP_HOST" in str(failed.last_error)


def test_the_retry_pause_grows_to_an_hour() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 8)] == [10.0, 30.0, 90.0, 3600.0]


def test_a_test_notification_reports_success_or_the_error(
    engine: Engine, organization_id: int, receiver: Receiver
) -> None:
    with engine.connect() as conn:
        good = channels.get_channel(conn, webhook(engine, organization_id, receiver.url))
    assert good is not None
    assert send_test(good, ALLOW_LOOPBACK) is None
    assert receiver.requests[0].json()["kind"] == "test"
    receiver.answer(404)
    error = send_test(good, ALLOW_LOOPBACK)
    assert error is not None
    assert "404" in error
