"""The Slack channel: a Block Kit message posted to an incoming webhook.

Slack answers 200 "ok"; a dead webhook answers 4xx with a word that says why (404 "no_service",
410 "channel_is_archived", 403 "invalid_token"), which `outbound.post_json` turns into a permanent
error carrying that word; 5xx and 429 are retried.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from shoal.notify import outbound
from shoal.notify.base import ConfigInvalid, Notification, NotifySettings
from shoal.notify.message import Message, compose, shorten

# Block Kit limits (api.slack.com/reference/block-kit/blocks): a header's text is at most 150
# characters, a section field's 2000.
_HEADER_CHARS = 150
_FIELD_CHARS = 2000


class SlackChannel:
    kind: ClassVar[str] = "slack"
    label: ClassVar[str] = "Slack"

    def __init__(self, webhook_url: str, settings: NotifySettings) -> None:
        self.webhook_url = webhook_url
        self._settings = settings

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        url = config.get("webhook_url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigInvalid("webhook_url: paste the incoming webhook URL Slack gave you")
        try:
            outbound.parse_url(url)
        except ValueError as exc:
            raise ConfigInvalid(f"webhook_url: {exc}") from exc
        return {"webhook_url": url.strip()}

    @classmethod
    def build(cls, config: dict[str, Any], settings: NotifySettings) -> SlackChannel:
        return cls(config["webhook_url"], settings)

    def send(self, notification: Notification) -> None:
        body = orjson.dumps(payload(compose(notification, self._settings)))
        outbound.post_json(self.webhook_url, body, {}, self._settings)


def payload(message: Message) -> dict[str, Any]:
    """The JSON Slack receives: a `text` fallback (notifications, screen readers) and the blocks."""
    fields = [
        {"type": "mrkdwn", "text": _fit(value, _FIELD_CHARS, prefix=f"*{label}*\n")}
        for label, value in message.fields
    ]
    return {
        "text": escape(message.headline),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _fit(message.headline, _HEADER_CHARS)}},
            {"type": "section", "fields": fields},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(message.why)}]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "View issue"},
                        "url": message.link,
                    }
                ],
            },
        ],
    }


def escape(text: str) -> str:
    """Slack reads &, < and > as control characters in every text field (`<!channel>` pings a
    whole channel, `<url|label>` is a link), plain_text included: "All text in Slack uses the same
    system of escaping" (api.slack.com/docs/message-formatting). Only those three are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int, prefix: str = "") -> str:
    """`prefix` + `text` escaped, shortened so that the escaped result stays within `limit`."""
    room = limit - len(prefix)
    cut = room
    while len(escaped := escape(shorten(text, cut))) > room:
        # One character escapes to at most five ("&amp;"): dropping a fifth of the excess never
        # drops more than needed.
        cut -= max(1, (len(escaped) - room) // 5)
    return prefix + escaped
