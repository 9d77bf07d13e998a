"""The apprise channel: the long tail of services (Discord, ntfy, Teams, Telegram, Gotify, a generic
JSON endpoint, …) as one apprise URL, delivered by the apprise library.

The SSRF rule of `outbound` applies where the URL names the host apprise will connect to (`json://`,
`ntfy://host/topic`, `gotify://`, `mmost://`, …): that host is resolved and checked before sending.
Two limits, said in docs/channels.md as well:
- apprise's own HTTP client resolves the name again when it connects, so a DNS server that answers
  differently the second time (DNS rebinding) is not stopped for apprise URLs; the Slack and webhook
  channels, which connect to the address they checked, are;
- a service whose URL holds no host (`discord://id/token`, `tgram://token/chat`, cloud `ntfy://topic`)
  goes to that service's fixed public address, which is not checked.
"""

from __future__ import annotations

from typing import Any, ClassVar

import apprise

from shoal.notify import outbound
from shoal.notify.base import ConfigInvalid, DeliveryError, Notification, NotifySettings
from shoal.notify.message import compose, shorten

_LOG_CHARS = 500


class AppriseChannel:
    kind: ClassVar[str] = "apprise"
    label: ClassVar[str] = "Apprise"

    def __init__(self, url: str, settings: NotifySettings) -> None:
        self.url = url
        self._settings = settings

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        url = config.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigInvalid("url: give an apprise URL, e.g. ntfy://ntfy.example.com/alerts")
        if apprise.Apprise.instantiate(url.strip()) is None:
            raise ConfigInvalid("url: apprise does not understand this URL")
        return {"url": url.strip()}

    @classmethod
    def build(cls, config: dict[str, Any], settings: NotifySettings) -> AppriseChannel:
        return cls(config["url"], settings)

    def send(self, notification: Notification) -> None:
        service = apprise.Apprise.instantiate(self.url)
        if service is None:
            raise DeliveryError("apprise does not understand this URL", permanent=True)
        host = network_host(service)
        if host is not None:
            outbound.check_host(host, _port(service), self._settings)
        message = compose(notification, self._settings)
        sender = apprise.Apprise()
        sender.add(service)
        with sender.notify(
            body=message.text(), title=message.headline, timeout=self._settings.outbound_timeout
        ) as result:
            if not result:
                raise DeliveryError(_failure(result), permanent=False)


def network_host(service: apprise.NotifyBase) -> str | None:
    """The host an apprise service will connect to, when its URL names one. Plugins reuse the URL's
    host slot for ids and tokens (`discord://webhook_id/…`); only those that declare a "host" token
    (apprise's description of the URL's parts) mean a network host by it."""
    if "host" not in service.template_tokens:
        return None
    host = getattr(service, "host", None)
    return host if isinstance(host, str) and host else None


def _port(service: apprise.NotifyBase) -> int:
    port = getattr(service, "port", None)
    return port if isinstance(port, int) else 0


def _failure(result: apprise.AppriseResult) -> str:
    # apprise answers only True or False; what it logged on the way is the only "why" there is.
    logged = shorten("; ".join(entry.message for entry in result.logs()), _LOG_CHARS)
    return "apprise could not deliver the notification" + (f": {logged}" if logged else "")
