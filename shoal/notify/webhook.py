"""The webhook channel: the notification's facts as versioned JSON, POSTed to any URL, signed with
HMAC-SHA256 when a secret is set. The schema is documented in docs/channels.md; a change that
removes or renames a field needs a new `version`, a new field does not.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar

import orjson

from shoal.clock import SYSTEM_CLOCK, Clock, iso_utc
from shoal.notify import outbound
from shoal.notify.base import ConfigInvalid, Notification, NotifySettings
from shoal.notify.message import issue_link

SCHEMA_VERSION = 1
SIGNATURE_HEADER = "X-Shoal-Signature"


class WebhookChannel:
    kind: ClassVar[str] = "webhook"
    label: ClassVar[str] = "Webhook"

    def __init__(
        self, url: str, secret: str | None, settings: NotifySettings, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.url = url
        self._secret = secret
        self._settings = settings
        self._clock = clock

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        url = config.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigInvalid("url: give the URL to POST to")
        try:
            outbound.parse_url(url)
        except ValueError as exc:
            raise ConfigInvalid(f"url: {exc}") from exc
        secret = config.get("secret") or ""
        if not isinstance(secret, str):
            raise ConfigInvalid("secret: must be text")
        cleaned = {"url": url.strip()}
        if secret.strip():
            cleaned["secret"] = secret.strip()
        return cleaned

    @classmethod
    def build(cls, config: dict[str, Any], settings: NotifySettings) -> WebhookChannel:
        return cls(config["url"], config.get("secret") or None, settings)

    def send(self, notification: Notification) -> None:
        body = orjson.dumps(payload(notification, self._settings, self._clock.now()))
        headers = {SIGNATURE_HEADER: signature(self._secret, body)} if self._secret else {}
        outbound.post_json(self.url, body, headers, self._settings)


def payload(n: Notification, settings: NotifySettings, now: float) -> dict[str, Any]:
    """Version 1 of the webhook body (docs/channels.md). Times are ISO 8601 in UTC."""
    return {
        "version": SCHEMA_VERSION,
        "kind": n.kind,
        "reason": n.reason,
        "rule": {"name": n.rule_name},
        "project": {"slug": n.project_slug},
        "issue": {
            "short_id": n.issue_short_id,
            "url": issue_link(n, settings),
            "title": n.title,
            "culprit": n.culprit,
            "level": n.level,
            "times_seen": n.times_seen,
            "users_seen": n.users_seen,
            "first_seen": iso_utc(n.first_seen),
            "last_seen": iso_utc(n.last_seen),
            "suspect_commit": n.suspect_commit,
        },
        "event": {
            "id": n.event_id,
            "release": n.release,
            "environment": n.environment,
            "tags": dict(n.tags),
        },
        "sent_at": iso_utc(now),
    }


def signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the exact body bytes, keyed with the secret (UTF-8)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
