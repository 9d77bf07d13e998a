"""The webhook channel: the documented version-1 JSON, its HMAC signature, and retries, against a
real receiver."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

import pytest

from shoal.clock import ManualClock
from shoal.notify.base import ConfigInvalid, DeliveryError, Notification, NotifySettings
from shoal.notify.webhook import WebhookChannel
from tests.notify.conftest import FIRST_SEEN, LOOPBACK_ALLOWED
from tests.support.receivers import Receiver

SENT_AT = FIRST_SEEN + 3600  # 2026-03-01T13:00:00Z


def _channel(
    receiver: Receiver, secret: str | None = None, settings: NotifySettings = LOOPBACK_ALLOWED
) -> WebhookChannel:
    return WebhookChannel(f"{receiver.url}/shoal-hook", secret, settings, clock=ManualClock(SENT_AT))


def test_it_posts_the_version_1_schema(receiver: Receiver, notification: Notification) -> None:
    _channel(receiver).send(notification)

    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/shoal-hook")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Shoal"
    assert "x-shoal-signature" not in request.headers
    assert request.json() == {
        "version": 1,
        "kind": "new_issue",
        "reason": "a new issue was created",
        "rule": {"name": "Notify on new issues"},
        "project": {"slug": "my-project"},
        "issue": {
            "short_id": "MY-PROJECT-12",
            "url": "https://shoal.example.com/issues/12/",
            "title": "KeyError: 'discount'",
            "culprit": "shop.checkout in apply_discount",
            "level": "error",
            "times_seen": 3,
            "users_seen": 2,
            "first_seen": "2026-03-01T12:00:00Z",
            "last_seen": "2026-03-01T12:10:00Z",
            "suspect_commit": None,
        },
        "event": {
            "id": "9f3c2a1b4d5e6f708192a3b4c5d6e7f8",
            "release": "shop@1.4.2",
            "environment": "production",
            "tags": {"browser": "Firefox 128", "server_name": "web-1"},
        },
        "sent_at": "2026-03-01T13:00:00Z",
    }


def test_a_test_notification_has_nulls_where_it_has_no_event(
    receiver: Receiver, notification: Notification
) -> None:
    test = replace(notification, kind="test", event_id=None, release=None, environment=None, tags=())
    _channel(receiver).send(test)

    body = receiver.requests[0].json()
    assert body["kind"] == "test"
    assert body["event"] == {"id": None, "release": None, "environment": None, "tags": {}}


def test_the_signature_is_the_hmac_of_the_exact_body(receiver: Receiver, notification: Notification) -> None:
    _channel(receiver, secret="s3cret").send(notification)

    [request] = receiver.requests
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-shoal-signature"], expected)


def test_a_failing_receiver_is_tried_again_until_it_answers(
    receiver: Receiver, notification: Notification
) -> None:
    receiver.answer(500, 500, 200)
    channel = _channel(receiver)
    for _ in range(2):
        with pytest.raises(DeliveryError) as failed:
            channel.send(notification)
        assert not failed.value.permanent
    channel.send(notification)

    assert len(receiver.requests) == 3
    assert len({request.body for request in receiver.requests}) == 1


def test_a_receiver_that_answers_404_is_permanent(receiver: Receiver, notification: Notification) -> None:
    receiver.answer(404, body=b"Not Found")
    with pytest.raises(DeliveryError) as failed:
        _channel(receiver).send(notification)
    assert str(failed.value) == "127.0.0.1 answered 404: Not Found"
    assert failed.value.permanent


def test_a_webhook_to_loopback_is_refused_without_the_allow_list(
    receiver: Receiver, notification: Notification
) -> None:
    with pytest.raises(DeliveryError) as refused:
        _channel(receiver, settings=NotifySettings()).send(notification)
    assert refused.value.permanent
    assert receiver.requests == []


def test_the_config_keeps_a_secret_only_when_one_is_given() -> None:
    assert WebhookChannel.check_config({"url": " https://example.com/hook ", "secret": "  "}) == {
        "url": "https://example.com/hook"
    }
    assert WebhookChannel.check_config({"url": "http://example.com/", "secret": " k "}) == {
        "url": "http://example.com/",
        "secret": "k",
    }


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "url: give the URL to POST to"),
        ({"url": "gopher://example.com/"}, "url: must start with https:// (or http://)"),
        ({"url": "https://example.com/", "secret": 12}, "secret: must be text"),
    ],
)
def test_a_bad_webhook_config_is_refused_naming_the_field(config: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigInvalid) as invalid:
        WebhookChannel.check_config(config)
    assert str(invalid.value) == problem
