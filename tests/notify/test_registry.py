"""The registry: every channel kind has a class, and a stored configuration is checked again."""

from __future__ import annotations

import pytest

from shoal.notify.base import DeliveryError, NotifySettings
from shoal.notify.email import EmailChannel
from shoal.notify.registry import CHANNELS, channel_for

SETTINGS = NotifySettings()


def test_each_kind_maps_to_its_class() -> None:
    assert {kind: factory.kind for kind, factory in CHANNELS.items()} == {
        "email": "email",
        "slack": "slack",
        "webhook": "webhook",
        "apprise": "apprise",
    }
    assert [factory.label for factory in CHANNELS.values()] == ["Email", "Slack", "Webhook", "Apprise"]


def test_a_channel_is_built_from_a_cleaned_config() -> None:
    channel = channel_for("email", {"to": "a@example.com, b@example.com"}, SETTINGS)
    assert isinstance(channel, EmailChannel)
    assert channel.to == ["a@example.com", "b@example.com"]


def test_an_unknown_kind_is_permanent() -> None:
    with pytest.raises(DeliveryError) as failed:
        channel_for("carrier-pigeon", {}, SETTINGS)
    assert str(failed.value) == "unknown channel kind 'carrier-pigeon'"
    assert failed.value.permanent


def test_a_config_that_no_longer_passes_its_check_is_permanent() -> None:
    with pytest.raises(DeliveryError) as failed:
        channel_for("webhook", {"url": "ftp://example.com/"}, SETTINGS)
    assert str(failed.value) == (
        "the Webhook channel's configuration is invalid: url: must start with https:// (or http://)"
    )
    assert failed.value.permanent
