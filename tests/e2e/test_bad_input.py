"""Bad input gets a clear error and the server stays healthy: one test per kind of bad input."""

from __future__ import annotations

import subprocess
import sys
import uuid
import zlib
from collections.abc import Iterator
from functools import cache

import orjson
import pytest
from sqlalchemy import select, update

from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.schema import event, outcome_counter, project_key
from tests.support.http import Reply, auth_header, envelope_url, event_envelope, gzipped, post
from tests.support.server import RunningShoal, start_shoal, wait_until
from tests.support.web_client import WebClient


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("bad-input") / "data")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def still_healthy_afterwards(shoal: RunningShoal) -> Iterator[None]:
    yield
    event_id = uuid.uuid4().hex
    reply = send(shoal, event_envelope({"message": "still alive"}, event_id))
    assert reply.status == 200, "the server no longer accepts a good event"
    shoal.wait_for_event(event_id)


def send(
    shoal: RunningShoal, body: bytes, headers: dict[str, str] | None = None, endpoint: str = "envelope"
) -> Reply:
    url = f"{shoal.url}/api/{shoal.project_id}/{endpoint}/"
    return post(url, body, {**auth_header(shoal.public_key), **(headers or {})})


def invalid_outcomes(shoal: RunningShoal, reason: str) -> int:
    with shoal.engine.connect() as conn:
        rows = conn.execute(
            select(outcome_counter.c.quantity).where(
                outcome_counter.c.outcome == "invalid", outcome_counter.c.reason == reason
            )
        )
        return sum(row.quantity for row in rows)


def assert_refused(reply: Reply, status: int, detail_part: str) -> None:
    assert reply.status == status, reply.body
    detail = orjson.loads(reply.body)["detail"]
    assert detail_part in detail
    assert reply.headers["x-sentry-error"] == detail


def test_an_empty_body_is_a_400(shoal: RunningShoal) -> None:
    assert_refused(send(shoal, b""), 400, "empty request body")


def test_a_store_body_that_is_not_json_is_a_400(shoal: RunningShoal) -> None:
    assert_refused(send(shoal, b"{not json", endpoint="store"), 400, "invalid JSON")


def test_an_envelope_header_that_is_not_json_is_a_400(shoal: RunningShoal) -> None:
    assert_refused(
        send(shoal, b'{"event_id": nope}\n{"type":"event"}\n{}'), 400, "envelope header is not valid JSON"
    )


def test_an_event_item_that_is_not_json_is_accepted_then_counted_as_invalid(shoal: RunningShoal) -> None:
    # Like Relay, ingest does not parse payloads (that would halve its throughput); the digest
    # finds the bad item and counts it under invalid:invalid_json instead of storing it.
    before = invalid_outcomes(shoal, "invalid_json")
    event_id = uuid.uuid4().hex
    body = b'{"event_id":"%s"}\n{"type":"event","length":9}\n{not json\n' % event_id.encode()
    assert send(shoal, body).status == 200
    wait_until(lambda: invalid_outcomes(shoal, "invalid_json") == before + 1, 30, "the invalid_json outcome")
    assert not shoal.has_event(event_id)


def test_a_truncated_envelope_is_a_400(shoal: RunningShoal) -> None:
    body = event_envelope({"message": "x"}, uuid.uuid4().hex)
    assert_refused(send(shoal, body[:-20]), 400, "shorter than its length")


def test_a_wrong_length_is_a_400(shoal: RunningShoal) -> None:
    body = b'{}\n{"type":"event","length":5}\n{"message":"longer than five"}\n'
    assert_refused(send(shoal, body), 400, "longer than its length 5")


def test_an_unknown_key_is_a_403(shoal: RunningShoal) -> None:
    reply = post(
        envelope_url(shoal.url, shoal.project_id),
        event_envelope({}, uuid.uuid4().hex),
        auth_header(uuid.uuid4().hex),
    )
    assert_refused(reply, 403, "unknown project key")


def new_project_dsn(shoal: RunningShoal, name: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "shoal", "project", "create", name],
        env=shoal.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.split("DSN: ", 1)[1].strip()


def test_a_key_of_another_project_is_a_403(shoal: RunningShoal) -> None:
    other_key = new_project_dsn(shoal, "billing").split("://", 1)[1].split("@", 1)[0]
    reply = post(
        envelope_url(shoal.url, shoal.project_id),
        event_envelope({}, uuid.uuid4().hex),
        auth_header(other_key),
    )
    assert_refused(reply, 403, "does not belong to this project")


def test_no_auth_at_all_is_a_401(shoal: RunningShoal) -> None:
    reply = post(envelope_url(shoal.url, shoal.project_id), event_envelope({}, uuid.uuid4().hex))
    assert_refused(reply, 401, "missing authorization")


def test_two_kinds_of_auth_at_once_is_a_401(shoal: RunningShoal) -> None:
    url = f"{envelope_url(shoal.url, shoal.project_id)}?sentry_key={shoal.public_key}"
    reply = post(url, event_envelope({}, uuid.uuid4().hex), auth_header(shoal.public_key))
    assert_refused(reply, 401, "multiple authorization payloads")


@cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzipped to about 1 MB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(1024)) + compressor.flush()


def test_a_one_gigabyte_gzip_bomb_is_a_413(shoal: RunningShoal) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    assert_refused(send(shoal, bomb, {"Content-Encoding": "gzip"}), 413, "decompressed body is larger than")


def test_a_body_over_the_size_limit_is_a_413(shoal: RunningShoal) -> None:
    assert_refused(send(shoal, b"x" * (21 * 1024 * 1024)), 413, "request body is larger than")


def test_an_oversized_event_is_a_413(shoal: RunningShoal) -> None:
    body = event_envelope({"message": "big", "extra": {"blob": "x" * (1024 * 1024)}}, uuid.uuid4().hex)
    assert_refused(send(shoal, gzipped(body), {"Content-Encoding": "gzip"}), 413, "event item is larger than")


def deep(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = {"deeper": value}
    return value


@pytest.mark.parametrize("endpoint", ["envelope", "store"])
def test_a_200_deep_event_is_stored_trimmed_and_its_page_renders(shoal: RunningShoal, endpoint: str) -> None:
    event_id = uuid.uuid4().hex
    data = {"message": f"deep via {endpoint}", "extra": {"nested": deep(200)}, "tags": {"deep": "yes"}}
    body = (
        event_envelope(data, event_id)
        if endpoint == "envelope"
        else orjson.dumps({"event_id": event_id, **data})
    )
    reply = send(shoal, body, endpoint=endpoint)
    assert reply.status == 200
    assert reply.json() == {"id": event_id}
    shoal.wait_for_event(event_id)
    with shoal.engine.connect() as conn:
        issue_id = conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one()
    client = WebClient(shoal)
    client.log_in()
    assert f"deep via {endpoint}" in client.get(f"/issues/{issue_id}/events/{event_id}/")


def test_invalid_utf8_in_a_store_body_is_a_400(shoal: RunningShoal) -> None:
    assert_refused(send(shoal, b'{"message": "caf\xe9"}', endpoint="store"), 400, "invalid JSON")


def test_invalid_utf8_in_an_envelope_header_is_a_400(shoal: RunningShoal) -> None:
    assert_refused(send(shoal, b'{"x":"caf\xe9"}\n'), 400, "envelope header is not valid JSON")


def test_invalid_utf8_in_an_event_item_is_counted_as_invalid(shoal: RunningShoal) -> None:
    before = invalid_outcomes(shoal, "invalid_json")
    assert send(shoal, b'{}\n{"type":"event"}\n{"message":"caf\xe9"}').status == 200
    wait_until(lambda: invalid_outcomes(shoal, "invalid_json") == before + 1, 30, "the invalid_json outcome")


def test_an_unknown_item_type_is_skipped_without_error(shoal: RunningShoal) -> None:
    event_id = uuid.uuid4().hex
    body = event_envelope({"message": "with a stranger"}, event_id) + b'{"type":"hologram","length":3}\nabc\n'
    assert send(shoal, body).status == 200
    shoal.wait_for_event(event_id)


def test_a_wrong_method_is_a_405(shoal: RunningShoal) -> None:
    reply = post(envelope_url(shoal.url, shoal.project_id), b"", auth_header(shoal.public_key), method="PUT")
    assert_refused(reply, 405, "not allowed")


def test_a_disabled_key_is_a_403(shoal: RunningShoal) -> None:
    dsn = new_project_dsn(shoal, "retired")
    key, project_id = dsn.split("://", 1)[1].split("@", 1)[0], int(dsn.rsplit("/", 1)[1])
    with write_transaction(shoal.engine) as conn:
        conn.execute(update(project_key).where(project_key.c.public_key == key).values(enabled=False))
    reply = post(envelope_url(shoal.url, project_id), event_envelope({}, uuid.uuid4().hex), auth_header(key))
    assert_refused(reply, 403, "project key is disabled")


def test_an_envelope_dsn_naming_another_project_is_a_403(shoal: RunningShoal) -> None:
    """The key is this project's, but the DSN in the envelope header names another project."""
    other_dsn = shoal.dsn.rsplit("/", 1)[0] + f"/{shoal.project_id + 1000}"
    header = orjson.dumps({"event_id": uuid.uuid4().hex, "dsn": other_dsn})
    body = header + b'\n{"type":"event"}\n{"message":"wrong project"}'
    reply = post(
        envelope_url(shoal.url, shoal.project_id), body, {"Content-Type": "text/plain;charset=UTF-8"}
    )
    assert_refused(reply, 403, "does not belong to this project")


def outcomes_of_key(shoal: RunningShoal, key_id: int) -> dict[tuple[str, str], int]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(select(outcome_counter).where(outcome_counter.c.key_id == key_id))
        return {(row.outcome, row.reason): int(row.quantity) for row in rows}


def test_refusals_of_a_known_key_are_counted_as_invalid_outcomes_of_that_key(shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        key = projects.add_key(conn, shoal.project_id, "refusals")
    url = f"{shoal.url}/api/{shoal.project_id}"
    assert post(f"{url}/store/", b"{not json", auth_header(key.public_key)).status == 400
    big = event_envelope({"message": "big", "extra": {"blob": "x" * (1024 * 1024)}}, uuid.uuid4().hex)
    assert post(f"{url}/envelope/", big, auth_header(key.public_key)).status == 413
    assert post(f"{url}/envelope/", big, auth_header("0" * 32)).status == 403  # no key: not counted

    # Ingest flushes its outcomes every two seconds (shoal/ingest/limits.py).
    expected = {("invalid", "invalid_request"): 1, ("invalid", "too_large"): 1}
    wait_until(lambda: outcomes_of_key(shoal, key.id) == expected, 30, "both refusals counted")
