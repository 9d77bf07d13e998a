"""Which class serves which channel kind: the one table the UI lists and the notify worker reads."""

from __future__ import annotations

from typing import Any

from shoal.notify.apprise_urls import AppriseChannel
from shoal.notify.base import Channel, ChannelFactory, ConfigInvalid, DeliveryError, NotifySettings
from shoal.notify.email import EmailChannel
from shoal.notify.slack import SlackChannel
from shoal.notify.webhook import WebhookChannel

CHANNELS: dict[str, type[ChannelFactory]] = {
    "email": EmailChannel,
    "slack": SlackChannel,
    "webhook": WebhookChannel,
    "apprise": AppriseChannel,
}


def channel_for(kind: str, config: dict[str, Any], settings: NotifySettings) -> Channel:
    """The channel that delivers through `config`; DeliveryError (permanent) when the kind is
    unknown or the configuration no longer passes its check (it was stored by an older Shoal, or
    built by an alert action rather than a form)."""
    factory = CHANNELS.get(kind)
    if factory is None:
        raise DeliveryError(f"unknown channel kind {kind!r}", permanent=True)
    try:
        cleaned = factory.check_config(config)
    except ConfigInvalid as exc:
        problem = f"the {factory.label} channel's configuration is invalid: {exc}"
        raise DeliveryError(problem, permanent=True) from exc
    return factory.build(cleaned, settings)
