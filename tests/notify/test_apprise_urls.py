"""The apprise channel: a `json://` URL delivered by the real apprise library to a local receiver,
the SSRF check on the URL's host, and what apprise's failure turns into."""

from __future__ import annotations

import apprise
import pytest

from shoal.notify.apprise_urls import AppriseChannel, network_host
from shoal.notify.base import ConfigInvalid, DeliveryError, Notification, NotifySettings
from tests.notify.conftest import LOOPBACK_ALLOWED
from tests.support.receivers import Receiver


def _channel(url: str, settings: NotifySettings = LOOPBACK_ALLOWED) -> AppriseChannel:
    return AppriseChannel.build(AppriseChannel.check_config({"url": url}), settings)


def _json_url(receiver: Receiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/apprise"


def test_it_delivers_the_headline_and_the_text_through_apprise(
    receiver: Receiver, notification: Notification
) -> None:
    _channel(_json_url(receiver)).send(notification)

    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/apprise")
    body = request.json()
    assert body["title"] == "New issue in my-project: KeyError: 'discount'"
    assert body["message"].startswith(
        "New issue in my-project: KeyError: 'discount'\n\nProject: my-project\n"
    )
    assert "https://shoal.example.com/issues/12/" in body["message"]


def test_an_apprise_url_to_loopback_is_refused_before_apprise_sends(
    receiver: Receiver, notification: Notification
) -> None:
    with pytest.raises(DeliveryError) as refused:
        _channel(_json_url(receiver), NotifySettings()).send(notification)
    assert str(refused.value).startswith("refusing to send to 127.0.0.1 (a loopback address)")
    assert refused.value.permanent
    assert receiver.requests == []


def test_an_apprise_failure_is_transient_and_says_what_apprise_logged(
    receiver: Receiver, notification: Notification
) -> None:
    receiver.answer(500)
    with pytest.raises(DeliveryError) as failed:
        _channel(_json_url(receiver)).send(notification)
    assert str(failed.value).startswith("apprise could not deliver the notification: ")
    assert "500" in str(failed.value)
    assert not failed.value.permanent


def test_a_url_apprise_does_not_understand_is_refused() -> None:
    for url in ("nonsense", "https://example.com/", "nosuchservice://x"):
        with pytest.raises(ConfigInvalid) as invalid:
            AppriseChannel.check_config({"url": url})
        assert str(invalid.value) == "url: apprise does not understand this URL"
    with pytest.raises(ConfigInvalid, match=r"^url: give an apprise URL"):
        AppriseChannel.check_config({})


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("json://hooks.example.com/path", "hooks.example.com"),
        ("ntfy://ntfy.example.com/alerts", "ntfy.example.com"),
        ("gotify://gotify.example.com/token", "gotify.example.com"),
        # The host slot holds an id, a token or a topic: the service's own public address is used.
        ("discord://1234567890123/abcdefTOKEN", None),
        ("tgram://123456789:AAHabcdefghijklmnopqrstuvwxyz12345/12345", None),
        ("ntfy://my-topic", None),
    ],
)
def test_only_a_url_that_names_a_network_host_is_checked(url: str, host: str | None) -> None:
    service = apprise.Apprise.instantiate(url)
    assert service is not None
    assert network_host(service) == host
