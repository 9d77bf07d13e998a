"""Fixtures for channel tests: a sample notification, a running HTTP receiver, a certificate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shoal.notify.base import Notification, NotifySettings
from tests.support.receivers import Certificate, Receiver, self_signed_certificate

# 2026-03-01T12:00:00Z and ten minutes later.
FIRST_SEEN = 1772366400.0
LAST_SEEN = FIRST_SEEN + 600

LOOPBACK_ALLOWED = NotifySettings(
    public_url="https://shoal.example.com", outbound_allow=("127.0.0.1/32",), outbound_timeout=5.0
)


@pytest.fixture
def notification() -> Notification:
    return Notification(
        kind="new_issue",
        rule_name="Notify on new issues",
        reason="a new issue was created",
        project_slug="my-project",
        issue_short_id="MY-PROJECT-12",
        issue_url="/issues/12/",
        title="KeyError: 'discount'",
        culprit="shop.checkout in apply_discount",
        level="error",
        times_seen=3,
        users_seen=2,
        first_seen=FIRST_SEEN,
        last_seen=LAST_SEEN,
        release="shop@1.4.2",
        environment="production",
        event_id="9f3c2a1b4d5e6f708192a3b4c5d6e7f8",
        tags=(("browser", "Firefox 128"), ("server_name", "web-1")),
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def localhost_certificate(tmp_path: Path) -> Certificate:
    certificate = self_signed_certificate(tmp_path, "localhost")
    if certificate is None:
        pytest.skip("the openssl command is not installed")
    return certificate
