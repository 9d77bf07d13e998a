"""What every notification channel shares: the message it delivers, the settings it reads, the
error it raises, and the contract a channel module fulfils (`shoal/notify/registry.py` maps each
channel kind to its class).

A channel turns one `Notification` into one delivery (an email, a Slack message, a webhook POST).
It raises `DeliveryError` when the delivery failed; `permanent=True` says that trying again cannot
help (a 404 webhook, a refused private address, an SMTP 5xx), and the notify worker then disables
the channel and shows the reason. Anything else is retried with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from shoal.config import Config


@dataclass(frozen=True)
class Notification:
    """One alert about one issue (or a test), with everything a message shows."""

    kind: str  # new_issue | regression | escalation | alert | test
    rule_name: str
    reason: str  # why the rule fired, in words: "a new issue was created"
    project_slug: str
    issue_short_id: str
    issue_url: str
    title: str
    culprit: str
    level: str
    times_seen: int
    users_seen: int
    first_seen: float  # unix seconds
    last_seen: float
    release: str | None
    environment: str | None
    event_id: str | None
    tags: tuple[tuple[str, str], ...] = ()
    # The best suspect commit (shoal/suspects.py) in words: "758a0d6 by Dev Person: 'second: add b,
    # change a'"; None when there is none (and in outbox rows written before it existed).
    suspect_commit: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notification:
        """From the outbox row's JSON, which the digest wrote with these field names."""
        fields = dict(data)
        fields["tags"] = tuple((str(key), str(value)) for key, value in fields.get("tags", ()))
        return cls(**fields)


@dataclass(frozen=True)
class NotifySettings:
    """The SHOAL_SMTP_* and SHOAL_OUTBOUND_* settings (docs/configuration.md), and the public URL
    that links in messages start with."""

    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = ""  # empty: email is not configured
    smtp_port: int = 25
    smtp_tls: str = "none"  # none | starttls | ssl
    smtp_user: str = ""
    smtp_password: str = ""
    email_from: str = "shoal@localhost"
    # Outbound HTTP may reach these private or loopback networks and hosts (CIDRs or host names);
    # everything else that is not a public address is refused (SSRF).
    outbound_allow: tuple[str, ...] = ()
    outbound_timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Config) -> NotifySettings:
        return cls(
            public_url=config.public_url,
            smtp_host=config.smtp_host,
            smtp_port=config.smtp_port,
            smtp_tls=config.smtp_tls,
            smtp_user=config.smtp_user,
            smtp_password=config.smtp_password,
            email_from=config.email_from,
            outbound_allow=config.outbound_allow,
            outbound_timeout=float(config.outbound_timeout),
        )


class DeliveryError(Exception):
    """A delivery failed; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ConfigInvalid(ValueError):
    """A channel's configuration cannot be used; the message says which field and why."""


class Channel(Protocol):
    kind: ClassVar[str]

    def send(self, notification: Notification) -> None:
        """Deliver once; raise DeliveryError on failure."""


class ChannelFactory(Protocol):
    kind: ClassVar[str]
    label: ClassVar[str]  # shown in the UI: "Email", "Slack", "Webhook", "Apprise"

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The configuration cleaned (stripped, defaults filled); raises ConfigInvalid."""
        ...

    @classmethod
    def build(cls, config: dict[str, Any], settings: NotifySettings) -> Channel:
        """A channel for a configuration `check_config` accepted."""
        ...
