"""Where the key comes from: headers, query string or the envelope's DSN, and never two at once."""

from __future__ import annotations

import pytest

from shoal.ingest.auth import AuthError, auth_from_dsn, auth_from_request

KEY = "0123456789abcdef0123456789abcdef"


def test_it_reads_the_x_sentry_auth_header_as_python_sends_it() -> None:
    header = f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=sentry.python/2.75.0"
    auth = auth_from_request(header, None, b"")
    assert auth is not None
    assert (auth.public_key, auth.client) == (KEY, "sentry.python/2.75.0")


def test_it_reads_an_authorization_header_with_the_sentry_scheme_in_any_case() -> None:
    auth = auth_from_request(None, f"SENTRY sentry_key={KEY}", b"")
    assert auth is not None and auth.public_key == KEY


def test_it_reads_the_query_string_as_node_and_browsers_send_it() -> None:
    query = f"sentry_version=7&sentry_key={KEY}&sentry_client=sentry.javascript.node%2F11.12.0".encode()
    auth = auth_from_request(None, None, query)
    assert auth is not None
    assert (auth.public_key, auth.client) == (KEY, "sentry.javascript.node/11.12.0")


def test_it_ignores_an_authorization_header_of_another_scheme() -> None:
    assert auth_from_request(None, "Bearer abc", b"") is None


def test_it_strips_key_flags() -> None:
    auth = auth_from_request(f"Sentry sentry_key={KEY}.no-cache", None, b"")
    assert auth is not None and auth.public_key == KEY


def test_it_refuses_two_forms_at_once() -> None:
    with pytest.raises(AuthError) as caught:
        auth_from_request(f"Sentry sentry_key={KEY}", None, f"sentry_key={KEY}".encode())
    assert caught.value.status == 401
    assert caught.value.detail == "multiple authorization payloads detected"


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("Sentry sentry_version=7", 401),
        (f"Sentry sentry_key={KEY}, sentry_version=8", 400),
        (f"Sentry sentry_key={KEY}, sentry_version=x", 401),
        ("Sentry sentry_key=short", 400),
    ],
)
def test_it_refuses_a_bad_header(header: str, status: int) -> None:
    with pytest.raises(AuthError) as caught:
        auth_from_request(header, None, b"")
    assert caught.value.status == status


def test_it_reads_the_key_and_project_from_an_envelope_dsn() -> None:
    auth = auth_from_dsn(f"https://{KEY}@errors.example.com/sub/path/42")
    assert (auth.public_key, auth.dsn_project_id) == (KEY, 42)


@pytest.mark.parametrize("dsn", [None, 12, "not a url", f"https://{KEY}@host/notanumber", "https://host/1"])
def test_it_refuses_a_bad_envelope_dsn(dsn: object) -> None:
    with pytest.raises(AuthError):
        auth_from_dsn(dsn)
