"""The chapter's alerts with every part real: the sentry-sdk in its own process, `shoal run`, an SMTP
server (aiosmtpd) for the default new-issue rule and an HTTP receiver for a `level:critical` rule
made through the API. One email per new issue, none for repeats, one webhook call per interval."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shoal.alerts.model import NOTIFY_CHANNEL
from shoal.alerts.templates import TEMPLATES
from shoal.store import channels
from shoal.store.db import write_transaction
from shoal.store.schema import issue, notification, organization
from tests.api.client import Api, create_token
from tests.support.receivers import Mailbox, Receiver, smtp_server
from tests.support.server import ADMIN_EMAIL, RunningShoal, start_shoal, wait_until

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], release="shop@2.0.0")

    def connect_to_database():
        raise ConnectionRefusedError("connection refused by db:5432")

    def charge_card():
        raise RuntimeError("card processor unavailable")

    kind, times = sys.argv[2], int(sys.argv[3])
    for _ in range(times):
        try:
            if kind == "database":
                connect_to_database()
            else:
                sentry_sdk.set_tag("level", "critical")
                sentry_sdk.set_tag("domain", "payments")
                charge_card()
        except Exception:
            sentry_sdk.capture_exception()
    sentry_sdk.flush()
    """
)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with smtp_server(box) as port:
        yield box, port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def alerting_shoal(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[RunningShoal]:
    server = start_shoal(
        tmp_path / "data",
        extra_env={
            "SHOAL_SMTP_HOST": "127.0.0.1",
            "SHOAL_SMTP_PORT": str(mailbox[1]),
            "SHOAL_EMAIL_FROM": "alerts@shoal.test",
            # The webhook receiver runs on this machine; outbound requests to loopback are refused
            # unless allowed.
            "SHOAL_OUTBOUND_ALLOW": "127.0.0.1/32",
        },
    )
    yield server
    server.stop()


def run_sdk(server: RunningShoal, tmp_path: Path, kind: str, times: int) -> None:
    script = tmp_path / "app.py"
    script.write_text(SDK_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), server.dsn, kind, str(times)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def outbox_settled(server: RunningShoal) -> bool:
    with server.engine.connect() as conn:
        pending = conn.execute(select(func.count()).where(notification.c.status == "pending")).scalar_one()
    return pending == 0


def test_one_email_per_new_issue_and_one_critical_webhook_per_interval(
    alerting_shoal: RunningShoal, mailbox: tuple[Mailbox, int], receiver: Receiver, tmp_path: Path
) -> None:
    server, box = alerting_shoal, mailbox[0]
    hook = make_webhook_channel(server, receiver.url)
    api = Api(server, create_token(server))
    critical_rule = {**TEMPLATES["critical"], "actions": [{"id": NOTIFY_CHANNEL, "channel": hook}]}
    assert api.post("projects/default/my-project/rules/", critical_rule).status == 201

    run_sdk(server, tmp_path, "database", 1)
    wait_until(lambda: len(box.messages) == 1, 60, "the new-issue email")
    email = box.messages[0]
    assert email["To"] == ADMIN_EMAIL
    assert "ConnectionRefusedError" in str(email["Subject"])

    run_sdk(server, tmp_path, "database", 50)
    server.wait_for_events(51)
    wait_until(lambda: outbox_settled(server), 30, "the outbox to be empty")
    assert server.issue_count() == 1
    with server.engine.connect() as conn:
        assert conn.execute(select(issue.c.times_seen)).scalar_one() == 51
    assert len(box.messages) == 1

    run_sdk(server, tmp_path, "critical", 2)
    server.wait_for_events(53)
    wait_until(lambda: len(receiver.requests) == 1 and len(box.messages) == 2, 60, "the critical webhook")
    wait_until(lambda: outbox_settled(server), 30, "the outbox to be empty")
    assert len(receiver.requests) == 1
    payload = receiver.requests[0].json()
    assert payload["rule"]["name"] == TEMPLATES["critical"]["name"]
    assert payload["event"]["tags"]["level"] == "critical"
    assert payload["issue"]["url"].startswith(server.url)
    assert len(box.messages) == 2  # the payment error is a new issue too: the default rule's email


def make_webhook_channel(server: RunningShoal, url: str) -> int:
    with write_transaction(server.engine) as conn:
        organization_id = conn.execute(select(organization.c.id)).scalar_one()
        return channels.insert_channel(
            conn, organization_id, "payments webhook", "webhook", config={"url": url}, now=0.0
        )
