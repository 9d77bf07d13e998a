"""What SDKs send, over real HTTP: both envelope styles, every encoding, every auth form, CORS."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator

import brotli
import orjson
import pytest
import zstandard

from tests.support.http import auth_header, envelope_url, event_envelope, gzipped, post
from tests.support.server import RunningShoal, start_shoal


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("protocol") / "data")
    yield server
    server.stop()


def test_a_node_style_envelope_is_accepted(shoal: RunningShoal) -> None:
    # @sentry/node 11: query-string auth, no Content-Type, chunked, JSON items without length,
    # no newline after the last payload (protocol.md §1, §3).
    event_id = uuid.uuid4().hex
    header = orjson.dumps(
        {
            "event_id": event_id,
            "sent_at": "2026-11-24T17:12:16.847Z",
            "sdk": {"name": "sentry.javascript.node", "version": "11.12.0"},
        }
    )
    payload = orjson.dumps(
        {
            "event_id": event_id,
            "platform": "node",
            "timestamp": 1795540662.632,
            "exception": {"values": [{"type": "Error", "value": "boom from node"}]},
        }
    )
    body = header + b"\n" + b'{"type":"event"}\n' + payload
    url = (
        f"{envelope_url(shoal.url, shoal.project_id)}?sentry_version=7&sentry_key={shoal.public_key}"
        "&sentry_client=sentry.javascript.node%2F11.12.0"
    )
    reply = post(url, iter([body[:40], body[40:]]))
    assert reply.status == 200, reply.body
    assert reply.json() == {"id": event_id}
    shoal.wait_for_event(event_id)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzipped),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
        ("", lambda body: body),
        ("UTF-8", lambda body: body),
    ],
)
def test_every_content_encoding_is_accepted(shoal: RunningShoal, encoding: str, encode: object) -> None:
    event_id = uuid.uuid4().hex
    body = encode(event_envelope({"message": f"encoded with {encoding or 'nothing'}"}, event_id))  # type: ignore[operator]
    headers = {**auth_header(shoal.public_key), "Content-Encoding": encoding}
    reply = post(envelope_url(shoal.url, shoal.project_id), body, headers)
    assert reply.status == 200, reply.body
    shoal.wait_for_event(event_id)


def test_the_authorization_header_form_is_accepted(shoal: RunningShoal) -> None:
    event_id = uuid.uuid4().hex
    headers = {"Authorization": f"Sentry sentry_key={shoal.public_key}, sentry_version=7"}
    assert (
        post(envelope_url(shoal.url, shoal.project_id), event_envelope({}, event_id), headers).status == 200
    )
    shoal.wait_for_event(event_id)


def test_the_dsn_in_the_envelope_header_authenticates_a_tunnelled_envelope(shoal: RunningShoal) -> None:
    event_id = uuid.uuid4().hex
    header = orjson.dumps({"event_id": event_id, "dsn": shoal.dsn})
    body = header + b'\n{"type":"event"}\n{"message":"through a tunnel"}'
    reply = post(
        envelope_url(shoal.url, shoal.project_id), body, {"Content-Type": "text/plain;charset=UTF-8"}
    )
    assert reply.status == 200, reply.body
    shoal.wait_for_event(event_id)


def test_the_store_endpoint_takes_a_plain_json_event(shoal: RunningShoal) -> None:
    event_id = uuid.uuid4().hex
    body = orjson.dumps({"event_id": event_id, "message": "legacy store"})
    reply = post(
        f"{shoal.url}/api/{shoal.project_id}/store/",
        gzipped(body),
        {**auth_header(shoal.public_key), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert reply.json() == {"id": event_id}
    shoal.wait_for_event(event_id)


def test_the_store_endpoint_answers_with_the_id_it_chose_when_the_event_has_none(shoal: RunningShoal) -> None:
    reply = post(
        f"{shoal.url}/api/{shoal.project_id}/store/", b'{"message":"no id"}', auth_header(shoal.public_key)
    )
    event_id = reply.json()["id"]  # type: ignore[index]
    assert len(event_id) == 32
    shoal.wait_for_event(event_id)


def test_an_envelope_without_an_event_answers_an_empty_object(shoal: RunningShoal) -> None:
    report = b'{"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":2}]}'
    body = b'{}\n{"type":"client_report"}\n' + report
    reply = post(envelope_url(shoal.url, shoal.project_id), body, auth_header(shoal.public_key))
    assert (reply.status, reply.json()) == (200, {})


def test_the_preflight_and_every_answer_carry_cors_headers(shoal: RunningShoal) -> None:
    url = envelope_url(shoal.url, shoal.project_id)
    preflight = post(
        url,
        b"",
        {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
        method="OPTIONS",
    )
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "x-sentry-auth" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]
    for reply in (
        post(url, event_envelope({}, uuid.uuid4().hex), auth_header(shoal.public_key)),
        post(url, b""),
    ):
        assert reply.headers["access-control-allow-origin"] == "*"
        assert "x-sentry-rate-limits" in reply.headers["access-control-expose-headers"]


def test_a_newer_protocol_version_is_a_400(shoal: RunningShoal) -> None:
    headers = {"X-Sentry-Auth": f"Sentry sentry_key={shoal.public_key}, sentry_version=8"}
    reply = post(envelope_url(shoal.url, shoal.project_id), event_envelope({}, uuid.uuid4().hex), headers)
    assert reply.status == 400
