"""Outbound HTTP: the SSRF rule, connecting to the checked address, no redirects, timeouts, and
what each answer means for a retry. Against a real receiver on 127.0.0.1."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from shoal.notify.base import DeliveryError, NotifySettings
from shoal.notify.outbound import check_url, parse_url, post_json
from tests.notify.conftest import LOOPBACK_ALLOWED
from tests.support.receivers import Certificate, Receiver, closed_port, network_calls, silent_listener

DEFAULTS = NotifySettings()
BODY = b'{"hello": "world"}'


def test_a_receiver_on_a_private_address_is_refused_before_connecting() -> None:
    with network_calls() as calls, pytest.raises(DeliveryError) as refused:
        post_json("http://10.0.0.1/hook", BODY, {}, DEFAULTS)
    assert str(refused.value) == (
        "refusing to send to 10.0.0.1 (a private address); allow it with SHOAL_OUTBOUND_ALLOW"
    )
    assert refused.value.permanent
    assert [call for call in calls if call[0] == "connect"] == []


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("http://[::1]:9/", "a loopback address"),
        ("http://[::ffff:127.0.0.1]:9/", "a loopback address"),
        ("http://[::ffff:10.1.2.3]:9/", "a private address"),
        ("http://[2002:7f00:1::]:9/", "a loopback address"),  # 6to4 around 127.0.0.1
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),  # cloud metadata
        ("http://[fe80::1]:9/", "a link-local address"),
        ("http://[fc00::1]:9/", "a private address"),
        ("http://192.168.1.1/", "a private address"),
        ("http://0.0.0.0:9/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://240.0.0.1/", "a reserved address"),
        ("http://100.64.0.1/", "a non-public address"),
        ("http://2130706433:9/", "a loopback address"),  # 127.0.0.1 written as one number
    ],
)
def test_every_non_public_address_is_refused_without_connecting(url: str, label: str) -> None:
    with network_calls() as calls, pytest.raises(DeliveryError) as refused:
        post_json(url, BODY, {}, DEFAULTS)
    assert f"({label}); allow it with SHOAL_OUTBOUND_ALLOW" in str(refused.value)
    assert refused.value.permanent
    assert [call for call in calls if call[0] == "connect"] == []


def test_loopback_is_refused_unless_the_allow_list_holds_it(receiver: Receiver) -> None:
    with pytest.raises(DeliveryError) as refused:
        post_json(f"{receiver.url}/hook", BODY, {}, DEFAULTS)
    assert str(refused.value).startswith("refusing to send to 127.0.0.1 (a loopback address)")
    assert receiver.requests == []

    reply = post_json(f"{receiver.url}/hook?x=1", BODY, {"X-Extra": "yes"}, LOOPBACK_ALLOWED)

    assert (reply.status, reply.body) == (200, b"ok")
    [request] = receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/hook?x=1", BODY)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Shoal"
    assert request.headers["x-extra"] == "yes"


def test_a_host_name_that_resolves_to_loopback_is_refused(receiver: Receiver) -> None:
    with pytest.raises(DeliveryError) as refused:
        post_json(f"http://localhost:{receiver.port}/", BODY, {}, DEFAULTS)
    message = str(refused.value)
    assert message.startswith("refusing to send to localhost: it resolves to ")
    assert "(a loopback address); allow it with SHOAL_OUTBOUND_ALLOW" in message
    assert refused.value.permanent
    assert receiver.requests == []


def test_a_cidr_of_the_other_family_does_not_allow_an_address() -> None:
    settings = NotifySettings(outbound_allow=("127.0.0.1/32",))
    with pytest.raises(DeliveryError, match="refusing to send to ::1"):
        check_url("http://[::1]:9/", settings)


def test_an_allowed_host_name_is_resolved_once_and_reached_at_the_checked_address(
    receiver: Receiver,
) -> None:
    settings = NotifySettings(outbound_allow=("LOCALHOST",))

    with network_calls() as calls:
        post_json(f"http://localhost:{receiver.port}/hook", BODY, {}, settings)

    # The name was looked up once, by the check: nothing resolved it again at connect time (DNS
    # rebinding). Every connect went to a checked address, and the Host header still named the host.
    looked_up = [arg for kind, arg in calls if kind == "getaddrinfo"]
    assert [name for name in looked_up if not _is_address(name)] == ["localhost"]
    connected = [arg[0] for kind, arg in calls if kind == "connect"]
    assert connected and all(ipaddress.ip_address(address).is_loopback for address in connected)
    [request] = receiver.requests
    assert request.headers["host"] == f"localhost:{receiver.port}"


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.answer(302)
    with pytest.raises(DeliveryError) as failed:
        post_json(f"{receiver.url}/hook", BODY, {}, LOOPBACK_ALLOWED)
    assert "answered 302" in str(failed.value)
    assert "redirects are not followed" in str(failed.value)
    assert failed.value.permanent
    assert [request.path for request in receiver.requests] == ["/hook"]


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        (400, True),
        (401, True),
        (404, True),
        (410, True),
        (408, False),
        (429, False),
        (500, False),
        (503, False),
    ],
)
def test_what_an_answer_means_for_a_retry(receiver: Receiver, status: int, permanent: bool) -> None:
    receiver.answer(status, body=b"  why it\nfailed ")
    with pytest.raises(DeliveryError) as failed:
        post_json(f"{receiver.url}/hook", BODY, {}, LOOPBACK_ALLOWED)
    assert str(failed.value) == f"127.0.0.1 answered {status}: why it failed"
    assert failed.value.permanent is permanent


def test_a_receiver_that_never_answers_hits_the_timeout() -> None:
    settings = replace(LOOPBACK_ALLOWED, outbound_timeout=0.5)
    with silent_listener() as port, pytest.raises(DeliveryError) as failed:
        post_json(f"http://127.0.0.1:{port}/", BODY, {}, settings)
    assert str(failed.value) == "127.0.0.1 did not answer within 0.5 s"
    assert not failed.value.permanent


def test_a_refused_connection_is_transient() -> None:
    with pytest.raises(DeliveryError) as failed:
        post_json(f"http://127.0.0.1:{closed_port()}/", BODY, {}, LOOPBACK_ALLOWED)
    assert str(failed.value).startswith("cannot reach 127.0.0.1: ")
    assert not failed.value.permanent


def test_a_host_that_does_not_resolve_is_transient() -> None:
    with pytest.raises(DeliveryError) as failed:
        check_url("https://no-such-host.invalid/hook", DEFAULTS)  # .invalid never resolves (RFC 2606)
    assert str(failed.value).startswith("cannot resolve no-such-host.invalid: ")
    assert not failed.value.permanent


def test_a_public_address_passes_the_check_without_sending() -> None:
    with network_calls() as calls:
        check_url("https://93.184.215.14:8443/hook", DEFAULTS)
    assert [call for call in calls if call[0] == "connect"] == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/", "must start with https:// (or http://)"),
        ("file:///etc/passwd", "must start with https:// (or http://)"),
        ("https:///path", "has no host"),
        ("https://user:secret@example.com/", "must not hold a user name or password"),
        ("https://example.com:99999/", "not a valid URL: Port out of range 0-65535"),
        ("https://example.com/a b", "must not contain spaces or control characters"),
        ("https://exa\nmple.com/", "must not contain spaces or control characters"),
    ],
)
def test_a_url_that_is_not_http_is_refused_as_permanent(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match="^" + problem.replace("(", r"\(").replace(")", r"\)")):
        parse_url(url)
    with pytest.raises(DeliveryError) as refused:
        post_json(url, BODY, {}, DEFAULTS)
    assert str(refused.value) == f"the URL {problem}"
    assert refused.value.permanent


def test_https_sends_the_host_name_for_sni_and_the_certificate_check(
    localhost_certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL reads SSL_CERT_FILE when a default context loads its trust store, so the
    # self-signed certificate is trusted the way a public CA's would be.
    monkeypatch.setenv("SSL_CERT_FILE", str(localhost_certificate.cert))
    names: list[str] = []
    with Receiver(tls=localhost_certificate.server_context(names)) as receiver:
        post_json(
            f"https://localhost:{receiver.port}/hook", BODY, {}, NotifySettings(outbound_allow=("localhost",))
        )

        assert names == ["localhost"]
        [request] = receiver.requests
        assert request.headers["host"] == f"localhost:{receiver.port}"


def test_https_refuses_a_certificate_for_another_name(
    localhost_certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(localhost_certificate.cert))
    with Receiver(tls=localhost_certificate.server_context([])) as receiver:
        with pytest.raises(DeliveryError) as failed:
            post_json(f"https://127.0.0.1:{receiver.port}/hook", BODY, {}, LOOPBACK_ALLOWED)
        assert "certificate verify failed" in str(failed.value)
        assert receiver.requests == []


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
