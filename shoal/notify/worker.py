"""The notify worker: deliver the outbox's due notifications through their channels, at least once.

Each try is recorded (`notification_attempt`). A row is claimed for a lease before it is sent, so a
worker that dies mid-send leaves it to be tried again once the lease runs out; two workers never
send the same row at the same time. Failures:
- transient (timeout, refused connection, 5xx, 429): tried again with a growing pause, up to
  MAX_ATTEMPTS tries, then failed with the last error;
- permanent (a 404 webhook, a private address, an SMTP 5xx, email not configured): failed at once,
  and a configured channel is disabled with the reason, which its page shows until someone saves it
  again. Retrying a delivery that cannot succeed only hides the problem.

The send happens outside any database transaction: a slow SMTP server must not hold SQLite's
write lock against the digest.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.notify.base import DeliveryError, Notification, NotifySettings
from shoal.notify.registry import channel_for
from shoal.store import channels, outbox
from shoal.store.channels import ChannelRow
from shoal.store.db import write_transaction
from shoal.store.outbox import OutboxRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE_SECONDS = 120.0  # longer than any one send can take (SHOAL_OUTBOUND_TIMEOUT, SMTP's timeout)
_FIRST_RETRY_SECONDS = 10.0
_MAX_RETRY_SECONDS = 3600.0
_BATCH = 20
_IDLE_SLEEP = 1.0


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: 10 s, 30 s, 90 s, … at most 1 h,
    so eight tries span about three hours, enough to ride out a receiver's restart or outage."""
    return float(min(_FIRST_RETRY_SECONDS * 3 ** (attempts - 1), _MAX_RETRY_SECONDS))


@dataclass(frozen=True)
class Target:
    """Where one notification goes: a channel kind and configuration, and its row if it has one."""

    kind: str
    config: dict[str, Any]
    channel: ChannelRow | None


class NotifyWorker:
    def __init__(self, engine: Engine, settings: NotifySettings, clock: Clock = SYSTEM_CLOCK) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock

    def run_once(self) -> int:
        """Try every notification that is due now; return how many were tried."""
        with self._engine.connect() as conn:
            due = outbox.due_ids(conn, self._clock.now(), _BATCH)
        tried = 0
        for notification_id in due:
            with write_transaction(self._engine) as conn:
                row = outbox.claim(conn, notification_id, self._clock.now(), LEASE_SECONDS)
                target = _target(conn, row) if row else None
            if row is not None:
                self._deliver(row, target)
                tried += 1
        return tried

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                tried = self.run_once()
            except Exception:
                log.exception("notify round failed; trying again shortly")
                tried = 0
            if tried == 0:
                stop.wait(_IDLE_SLEEP)

    def _deliver(self, row: OutboxRow, target: Target | None) -> None:
        error: DeliveryError | None = None
        try:
            if target is None:
                raise DeliveryError("the channel of this notification no longer exists", permanent=True)
            if target.channel is not None and not target.channel.enabled:
                reason = target.channel.disabled_reason or "disabled"
                raise DeliveryError(f"channel {target.channel.name} is disabled: {reason}", permanent=True)
            channel_for(target.kind, target.config, self._settings).send(Notification.from_json(row.message))
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a bug in a channel: keep the row, retry, and say what happened
            log.exception("notification %d: channel raised", row.id)
            error = DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)
        self._record(row, target, error)

    def _record(self, row: OutboxRow, target: Target | None, error: DeliveryError | None) -> None:
        now = self._clock.now()
        with write_transaction(self._engine) as conn:
            outbox.record_attempt(conn, row.id, now, str(error) if error else None)
            if error is None:
                outbox.mark_delivered(conn, row.id, now)
            elif error.permanent:
                outbox.mark_failed(conn, row.id, str(error))
                if target is not None and target.channel is not None and target.channel.enabled:
                    channels.disable_channel(conn, target.channel.id, str(error))
            elif row.attempts >= MAX_ATTEMPTS:
                outbox.mark_failed(conn, row.id, f"gave up after {row.attempts} tries: {error}")
            else:
                outbox.retry_later(conn, row.id, now + retry_delay(row.attempts), str(error))
        if error is not None:
            log.warning("notification %d, try %d: %s", row.id, row.attempts, error)


def _target(conn: Any, row: OutboxRow) -> Target | None:
    if row.channel_id is None:
        return Target(str(row.target.get("kind")), dict(row.target.get("config") or {}), None)
    found = channels.get_channel(conn, row.channel_id)
    return Target(found.kind, found.config, found) if found else None


def send_test(channel: ChannelRow, settings: NotifySettings) -> str | None:
    """Deliver a test notification through `channel` now (the "send test notification" button);
    None when it was delivered, else what went wrong. A failed test does not disable the channel:
    the person who pressed the button is looking at the error already."""
    try:
        channel_for(channel.kind, channel.config, settings).send(test_notification())
    except DeliveryError as exc:
        return str(exc)
    return None


def test_notification(project_slug: str = "shoal") -> Notification:
    now = SYSTEM_CLOCK.now()
    return Notification(
        kind="test",
        rule_name="Test notification",
        reason="someone pressed “Send test notification”",
        project_slug=project_slug,
        issue_short_id=f"{project_slug.upper()}-0",
        issue_url="/",
        title="This is a test notification from Shoal",
        culprit="shoal.notify",
        level="info",
        times_seen=1,
        users_seen=0,
        first_seen=now,
        last_seen=now,
        release=None,
        environment=None,
        event_id=None,
    )
