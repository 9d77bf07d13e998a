"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult

from shoal.notify.base import ConfigInvalid, DeliveryError, Notification, NotifySettings
from shoal.notify.email import MAX_RECIPIENTS, EmailChannel
from tests.support.receivers import Certificate, Mailbox, closed_port, smtp_server


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def settings(mailbox: Mailbox) -> Iterator[NotifySettings]:
    with smtp_server(mailbox) as port:
        yield _settings(port)


def _settings(port: int, **changes: Any) -> NotifySettings:
    base = NotifySettings(
        public_url="https://shoal.example.com",
        smtp_host="127.0.0.1",
        smtp_port=port,
        email_from="Shoal <alerts@shoal.example.com>",
        outbound_timeout=5.0,
    )
    return replace(base, **changes)


def _channel(settings: NotifySettings, to: object = "dev@example.com, ops@example.com") -> EmailChannel:
    return EmailChannel.build(EmailChannel.check_config({"to": to}), settings)


def _parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): str(part.get_content()) for part in message.iter_parts()}


def test_it_sends_one_message_with_a_text_and_an_html_part(
    mailbox: Mailbox, settings: NotifySettings, notification: Notification
) -> None:
    _channel(settings).send(notification)

    [message] = mailbox.messages
    assert message["From"] == "Shoal <alerts@shoal.example.com>"
    assert message["To"] == "dev@example.com, ops@example.com"
    assert message["Subject"] == "New issue in my-project: KeyError: 'discount'"
    assert message["Date"] and message["Message-ID"].endswith("@shoal.example.com>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    assert "Why: a new issue was created" in parts["text/plain"]
    assert "https://shoal.example.com/issues/12/" in parts["text/plain"]
    assert '<a href="https://shoal.example.com/issues/12/">View the issue</a>' in parts["text/html"]
    assert mailbox.recipients == [["dev@example.com", "ops@example.com"]]


def test_a_script_in_the_title_is_escaped_in_the_html_part(
    mailbox: Mailbox, settings: NotifySettings, notification: Notification
) -> None:
    hostile = replace(notification, title="<script>alert(1)</script>", culprit='a" onmouseover="x')
    _channel(settings).send(hostile)

    [message] = mailbox.messages
    html = _parts(message)["text/html"]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a&quot; onmouseover=&quot;x" in html
    assert message["Subject"] == "New issue in my-project: <script>alert(1)</script>"


def test_without_an_smtp_host_email_is_a_permanent_error(notification: Notification) -> None:
    with pytest.raises(DeliveryError) as failed:
        _channel(NotifySettings()).send(notification)
    assert str(failed.value) == "email is not configured: set SHOAL_SMTP_HOST"
    assert failed.value.permanent


def test_a_recipient_the_server_refuses_with_5xx_is_permanent(
    mailbox: Mailbox, settings: NotifySettings, notification: Notification
) -> None:
    mailbox.refuse["gone@example.com"] = "550 5.1.1 no such user"
    with pytest.raises(DeliveryError) as failed:
        _channel(settings, ["gone@example.com"]).send(notification)
    assert str(failed.value) == "the SMTP server refused gone@example.com: 550 5.1.1 no such user"
    assert failed.value.permanent
    assert mailbox.messages == []


def test_a_recipient_refused_with_4xx_is_tried_again(
    mailbox: Mailbox, settings: NotifySettings, notification: Notification
) -> None:
    mailbox.refuse["busy@example.com"] = "450 4.2.1 mailbox busy, try later"
    with pytest.raises(DeliveryError) as failed:
        _channel(settings, ["busy@example.com"]).send(notification)
    assert not failed.value.permanent


def test_one_refused_recipient_among_several_is_permanent_and_named(
    mailbox: Mailbox, settings: NotifySettings, notification: Notification
) -> None:
    # Retrying would mail the accepted recipients twice; the owner has to fix the address.
    mailbox.refuse["gone@example.com"] = "550 5.1.1 no such user"
    with pytest.raises(DeliveryError) as failed:
        _channel(settings, ["dev@example.com", "gone@example.com"]).send(notification)
    assert "gone@example.com: 550" in str(failed.value)
    assert "the other recipients got it" in str(failed.value)
    assert failed.value.permanent
    assert mailbox.recipients == [["dev@example.com"]]


def test_a_wrong_smtp_password_is_permanent(mailbox: Mailbox, notification: Notification) -> None:
    def authenticator(*_: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    with smtp_server(mailbox, authenticator=authenticator, auth_require_tls=False) as port:
        settings = _settings(port, smtp_user="shoal", smtp_password="wrong")
        with pytest.raises(DeliveryError) as failed:
            _channel(settings).send(notification)
    assert str(failed.value).startswith("the SMTP server answered 535")
    assert failed.value.permanent


def test_a_server_that_is_down_is_tried_again(notification: Notification) -> None:
    port = closed_port()
    with pytest.raises(DeliveryError) as failed:
        _channel(_settings(port)).send(notification)
    assert str(failed.value).startswith(f"cannot send email through 127.0.0.1:{port}: ")
    assert not failed.value.permanent


def test_addresses_may_be_pasted_as_one_string() -> None:
    config = EmailChannel.check_config({"to": "a@example.com, b@example.com;\nc@example.com  A@EXAMPLE.COM"})
    assert config == {"to": ["a@example.com", "b@example.com", "c@example.com"]}
    assert EmailChannel.check_config({"to": ["x@localhost"]}) == {"to": ["x@localhost"]}


@pytest.mark.parametrize(
    ("to", "problem"),
    [
        (None, "to: give the addresses as a list or as one comma-separated string"),
        ([1], "to: give the addresses as a list or as one comma-separated string"),
        ("", "to: give at least one email address"),
        ([], "to: give at least one email address"),
        ("bob", "to: 'bob' is not an email address"),
        ("a@b@c", "to: 'a@b@c' is not an email address"),
        ("<x@example.com>", "to: '<x@example.com>' is not an email address"),
        ([f"u{i}@example.com" for i in range(MAX_RECIPIENTS + 1)], "to: at most 50 addresses, got 51"),
    ],
)
def test_a_bad_recipient_list_is_refused_naming_the_field(to: object, problem: str) -> None:
    with pytest.raises(ConfigInvalid) as invalid:
        EmailChannel.check_config({"to": to})
    assert str(invalid.value) == problem


def test_starttls_is_used_and_the_certificate_checked_when_configured(
    mailbox: Mailbox,
    notification: Notification,
    localhost_certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # OpenSSL reads SSL_CERT_FILE when a default context loads its trust store.
    monkeypatch.setenv("SSL_CERT_FILE", str(localhost_certificate.cert))
    tls = localhost_certificate.server_context([])
    with smtp_server(mailbox, tls_context=tls, require_starttls=True) as port:
        _channel(_settings(port, smtp_host="localhost", smtp_tls="starttls")).send(notification)
        with pytest.raises(DeliveryError) as refused:  # the server insists on STARTTLS first
            _channel(_settings(port, smtp_host="localhost")).send(notification)
    assert len(mailbox.messages) == 1
    assert str(refused.value).startswith("the SMTP server answered 530")
    assert refused.value.permanent
