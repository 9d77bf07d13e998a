"""The email channel: one message to a list of addresses, over real SMTP (the SHOAL_SMTP_* settings),
with a plain-text part and an HTML part.

Failures follow SMTP's own split (RFC 5321 §4.2.1): a 5xx reply is permanent (unknown mailbox,
bad login, message refused), a 4xx reply is transient (greylisting, a full queue); a connection
that fails or times out is transient too.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, ClassVar

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.notify.base import ConfigInvalid, DeliveryError, Notification, NotifySettings
from shoal.notify.message import Message, compose

MAX_RECIPIENTS = 50
# "Valid-looking", not RFC 5322: one @, no spaces or list separators, a domain of word characters,
# hyphens and dots (so IDN domains pass). The SMTP server has the last word on the rest.
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[\w-]+(\.[\w-]+)*")
_SEPARATORS = re.compile(r"[\s,;]+")
_MAX_ADDRESS_CHARS = 254  # RFC 5321 §4.5.3.1.3, a path of 256 including the angle brackets


class EmailChannel:
    kind: ClassVar[str] = "email"
    label: ClassVar[str] = "Email"

    def __init__(self, to: list[str], settings: NotifySettings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.to = to
        self._settings = settings
        self._clock = clock

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        return {"to": clean_addresses(config.get("to"))}

    @classmethod
    def build(cls, config: dict[str, Any], settings: NotifySettings) -> EmailChannel:
        return cls(list(config["to"]), settings)

    def send(self, notification: Notification) -> None:
        send_email(self.email(notification), self._settings)

    def email(self, notification: Notification) -> EmailMessage:
        """The message `send` hands to the SMTP server."""
        message = compose(notification, self._settings)
        email = EmailMessage()
        email["Subject"] = message.headline
        email["From"] = self._settings.email_from
        email["To"] = ", ".join(self.to)
        email["Date"] = format_datetime(datetime.fromtimestamp(self._clock.now(), UTC), usegmt=True)
        email["Message-ID"] = message_id(self._settings.email_from)
        # RFC 3834 §5: tells vacation responders and ticket systems not to answer a robot.
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.text())
        email.add_alternative(html_body(message), subtype="html")
        return email


def clean_addresses(value: object) -> list[str]:
    """The recipients as a list: from a list, or from one string separated by commas, semicolons,
    spaces or newlines (what people paste); each checked, duplicates dropped."""
    if isinstance(value, str):
        candidates = _SEPARATORS.split(value)
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        candidates = [part for item in value for part in _SEPARATORS.split(item)]
    else:
        raise ConfigInvalid("to: give the addresses as a list or as one comma-separated string")
    addresses: list[str] = []
    for candidate in filter(None, candidates):
        if len(candidate) > _MAX_ADDRESS_CHARS or not _ADDRESS.fullmatch(candidate):
            raise ConfigInvalid(f"to: {candidate!r} is not an email address")
        if candidate.lower() not in (known.lower() for known in addresses):
            addresses.append(candidate)
    if not addresses:
        raise ConfigInvalid("to: give at least one email address")
    if len(addresses) > MAX_RECIPIENTS:
        raise ConfigInvalid(f"to: at most {MAX_RECIPIENTS} addresses, got {len(addresses)}")
    return addresses


def html_body(message: Message) -> str:
    """The HTML part; every value is escaped, since titles and culprits come from events."""
    e = html.escape
    rows = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{e(label)}</th><td>{e(value)}</td></tr>'
        for label, value in message.fields
    )
    return (
        '<!doctype html>\n<html><body style="font-family:sans-serif">\n'
        f"<h2>{e(message.headline)}</h2>\n"
        f"<table>{rows}</table>\n"
        f"<p>{e(message.why)}</p>\n"
        f'<p><a href="{e(message.link)}">View the issue</a></p>\n'
        "</body></html>\n"
    )


def send_email(email: EmailMessage, settings: NotifySettings) -> None:
    """Send one message over SMTP with the SHOAL_SMTP_* settings (alerts, and the account emails
    of `shoal.web`); raises DeliveryError, permanent or not as RFC 5321 says."""
    if not settings.smtp_host:
        raise DeliveryError("email is not configured: set SHOAL_SMTP_HOST", permanent=True)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with _connect(settings) as smtp:
            refused = smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refused(exc.recipients, some_sent=False) from exc
    except smtplib.SMTPResponseException as exc:
        raise _smtp_error(exc.smtp_code, exc.smtp_error) from exc
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, no AUTH, no SMTPUTF8
        raise DeliveryError(f"cannot send email through {where}: {exc}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot send email through {where}: {exc}", permanent=False) from exc
    if refused:
        raise _refused(refused, some_sent=True)


def message_id(from_address: str) -> str:
    """A Message-ID on the From address's domain."""
    return make_msgid("shoal", domain=_domain(from_address))


def _connect(settings: NotifySettings) -> smtplib.SMTP:
    timeout = settings.outbound_timeout
    smtp: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        context = ssl.create_default_context()
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    try:
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _smtp_error(code: int, error: bytes | str) -> DeliveryError:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
    return DeliveryError(f"the SMTP server answered {code} {text}", permanent=500 <= code < 600)


def _refused(recipients: dict[str, tuple[int, bytes]], *, some_sent: bool) -> DeliveryError:
    # A 4xx refusal (a full mailbox, greylisting) may pass later; only 5xx for all is permanent.
    # When some addresses were accepted, the message reached them: retrying would send it twice,
    # so that case is permanent too, and the message says which address to fix.
    details = "; ".join(
        f"{address}: {code} {reply.decode('utf-8', 'replace')}"
        for address, (code, reply) in recipients.items()
    )
    permanent = some_sent or all(500 <= code < 600 for code, _ in recipients.values())
    others = " (the other recipients got it)" if some_sent else ""
    return DeliveryError(f"the SMTP server refused {details}{others}", permanent=permanent)


def _domain(address: str) -> str:
    # make_msgid() without a domain calls socket.getfqdn(), a DNS lookup that can take seconds.
    domain = address.rpartition("@")[2].strip(" >")
    return domain or "shoal.localhost"
