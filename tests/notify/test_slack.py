"""The Slack channel. Slack cannot run here, so the webhook points at a local receiver and the test
pins the exact Block Kit body Slack would receive."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shoal.notify.base import ConfigInvalid, DeliveryError, Notification
from shoal.notify.slack import SlackChannel
from tests.notify.conftest import LOOPBACK_ALLOWED
from tests.support.receivers import Receiver


def _channel(receiver: Receiver) -> SlackChannel:
    config = SlackChannel.check_config({"webhook_url": f" {receiver.url}/services/T0/B0/secret "})
    return SlackChannel.build(config, LOOPBACK_ALLOWED)


def test_it_posts_this_exact_block_kit_message(receiver: Receiver, notification: Notification) -> None:
    _channel(receiver).send(notification)

    [request] = receiver.requests
    assert request.path == "/services/T0/B0/secret"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "text": "New issue in my-project: KeyError: 'discount'",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "New issue in my-project: KeyError: 'discount'"},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Project*\nmy-project"},
                    {"type": "mrkdwn", "text": "*Issue*\nMY-PROJECT-12"},
                    {"type": "mrkdwn", "text": "*Culprit*\nshop.checkout in apply_discount"},
                    {"type": "mrkdwn", "text": "*Level*\nerror"},
                    {"type": "mrkdwn", "text": "*Events*\n3"},
                    {"type": "mrkdwn", "text": "*Users*\n2"},
                    {"type": "mrkdwn", "text": "*First seen*\n2026-03-01T12:00:00Z"},
                    {"type": "mrkdwn", "text": "*Release*\nshop@1.4.2"},
                    {"type": "mrkdwn", "text": "*Environment*\nproduction"},
                ],
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "Why: a new issue was created (rule “Notify on new issues”)"}
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "View issue"},
                        "url": "https://shoal.example.com/issues/12/",
                    }
                ],
            },
        ],
    }


def test_text_from_events_is_escaped_for_slack(receiver: Receiver, notification: Notification) -> None:
    hostile = replace(notification, title="<!channel> & <https://evil.example|click>", culprit="a<b>c")
    _channel(receiver).send(hostile)

    body = receiver.requests[0].json()
    escaped = "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    assert body["text"] == f"New issue in my-project: {escaped}"
    assert body["blocks"][0]["text"]["text"] == f"New issue in my-project: {escaped}"
    assert body["blocks"][1]["fields"][2]["text"] == "*Culprit*\na&lt;b&gt;c"


def test_a_long_title_fits_slacks_150_character_header(
    receiver: Receiver, notification: Notification
) -> None:
    _channel(receiver).send(replace(notification, title="&" * 300))

    header = receiver.requests[0].json()["blocks"][0]["text"]["text"]
    assert len(header) <= 150
    assert header.startswith("New issue in my-project: &amp;") and header.endswith("…")


@pytest.mark.parametrize(
    ("status", "word"), [(404, "no_service"), (410, "channel_is_archived"), (403, "invalid_token")]
)
def test_a_dead_webhook_is_permanent_and_says_slacks_reason(
    receiver: Receiver, notification: Notification, status: int, word: str
) -> None:
    receiver.answer(status, body=word.encode())
    with pytest.raises(DeliveryError) as failed:
        _channel(receiver).send(notification)
    assert str(failed.value) == f"127.0.0.1 answered {status}: {word}"
    assert failed.value.permanent


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_slack_outage_or_rate_limit_is_tried_again(
    receiver: Receiver, notification: Notification, status: int
) -> None:
    receiver.answer(status)
    with pytest.raises(DeliveryError) as failed:
        _channel(receiver).send(notification)
    assert not failed.value.permanent


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "webhook_url: paste the incoming webhook URL Slack gave you"),
        ({"webhook_url": "  "}, "webhook_url: paste the incoming webhook URL Slack gave you"),
        ({"webhook_url": "hooks.slack.com/services/x"}, "webhook_url: must start with https:// (or http://)"),
        ({"webhook_url": "https://"}, "webhook_url: has no host"),
    ],
)
def test_a_bad_webhook_url_is_refused_naming_the_field(config: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigInvalid) as invalid:
        SlackChannel.check_config(config)
    assert str(invalid.value) == problem
