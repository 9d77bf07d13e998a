"""Transactions through the digest worker, on a real spool and a real store (SQLite and PostgreSQL):
what is stored of them, their outcomes, the health-check filter, invalid ones, clock drift and the
scrubbing of span descriptions."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from sqlalchemy import Engine, select

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import DigestLimits
from shoal.digest.transactions import decode_spans
from shoal.digest.worker import DigestWorker
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.schema import outcome_counter, transaction_event

LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)
RECEIVED = 1_795_000_000.0
TRACE_ID = "a" * 32


@pytest.fixture
def project_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        return projects.create_project(conn, org, "shop", "python", DEFAULT_CONFIG_ID).id


@pytest.fixture
def spool(tmp_path: Path) -> SqliteSpool:
    return SqliteSpool(tmp_path / "spool.db", durable_writes=False)


def transaction(
    name: str = "app.main.checkout",
    url: str = "http://shop.example/checkout",
    start: float = RECEIVED - 1.0,
    duration: float = 0.25,
    **trace: Any,
) -> dict[str, Any]:
    """A transaction shaped as sentry-python 2.75 sends one from FastAPI (endpoint style)."""
    return {
        "type": "transaction",
        "transaction": name,
        "transaction_info": {"source": "component"},
        "start_timestamp": start,
        "timestamp": start + duration,
        "release": "shop@1.0",
        "environment": "production",
        "request": {"url": url, "method": "GET"},
        "contexts": {
            "trace": {"trace_id": TRACE_ID, "span_id": "b" * 16, "op": "http.server", **trace},
        },
        "spans": [
            span("db", "SELECT * FROM cart WHERE id = %s", start + 0.01, 0.03),
            span("db", "UPDATE cart SET total = %s", start + 0.05, 0.02),
            span("http.client", "GET https://payments.example/charge", start + 0.08, 0.1),
        ],
    }


def span(op: str, description: str, start: float, duration: float) -> dict[str, Any]:
    return {
        "span_id": uuid.uuid4().hex[:16],
        "parent_span_id": "b" * 16,
        "trace_id": TRACE_ID,
        "op": op,
        "description": description,
        "start_timestamp": start,
        "timestamp": start + duration,
        "status": "ok",
        "data": {"thread.name": "MainThread"},
    }


def entry(project_id: int, payload: dict[str, Any] | bytes, sent_at: float | None = None) -> SpoolEntry:
    event_id = uuid.uuid4().hex
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    header: dict[str, Any] = {"event_id": event_id}
    if sent_at is not None:
        header["sent_at"] = sent_at
    item = {"type": "transaction", "content_type": "application/json", "length": len(body)}
    envelope = orjson.dumps(header) + b"\n" + orjson.dumps(item) + b"\n" + body + b"\n"
    return SpoolEntry(project_id, "envelope", RECEIVED, event_id, "10.0.0.1", "gzip", gzip.compress(envelope))


def digest(engine: Engine, spool: SqliteSpool, *entries: SpoolEntry) -> None:
    spool.append(list(entries))
    DigestWorker(spool, engine, LIMITS, lease_seconds=60).run_once()


def stored(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(transaction_event).order_by(transaction_event.c.id)))


def outcomes(engine: Engine) -> dict[tuple[str, str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(select(outcome_counter))
        return {(r.category, r.outcome, r.reason): r.quantity for r in rows}


def test_a_transaction_is_stored_with_its_timing_trace_and_span_summary(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    digest(engine, spool, entry(project_id, transaction(status="ok")))
    [row] = stored(engine)
    assert (row.name, row.op, row.status, row.trace_id, row.span_id) == (
        "app.main.checkout",
        "http.server",
        "ok",
        TRACE_ID,
        "b" * 16,
    )
    assert row.duration_ms == pytest.approx(250.0)
    assert row.start_timestamp == pytest.approx(RECEIVED - 1.0)
    assert (row.release, row.environment, row.span_count) == ("shop@1.0", "production", 3)
    summary = orjson.loads(row.span_ops)
    assert summary == {"db": [2, pytest.approx(50.0)], "http.client": [1, pytest.approx(100.0)]}
    assert outcomes(engine) == {("transaction", "accepted", ""): 1}


def test_the_stored_spans_make_a_waterfall_without_their_data(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    digest(engine, spool, entry(project_id, transaction()))
    [row] = stored(engine)
    spans = decode_spans(row.spans, PayloadCodec())
    assert [(s.op, round(s.offset_ms), round(s.duration_ms)) for s in spans] == [
        ("db", 10, 30),
        ("db", 50, 20),
        ("http.client", 80, 100),
    ]
    assert spans[0].parent_span_id == "b" * 16
    assert b"MainThread" not in zstandard.ZstdDecompressor().decompress(row.spans)


def test_a_redelivered_transaction_is_stored_once(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    again = entry(project_id, transaction())
    digest(engine, spool, again, again)
    digest(engine, spool, again)
    assert len(stored(engine)) == 1
    assert outcomes(engine)[("transaction", "accepted", "")] == 1


def test_a_health_check_named_after_its_endpoint_is_filtered_by_default(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    # FastAPI's endpoint style names it after the function; its URL still says /health.
    probe = transaction(name="app.main.health", url="http://shop.example/health")
    digest(engine, spool, entry(project_id, probe), entry(project_id, transaction()))
    assert [row.name for row in stored(engine)] == ["app.main.checkout"]
    assert outcomes(engine)[("transaction", "filtered", "health-check")] == 1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (orjson.dumps({"transaction": "t", "timestamp": RECEIVED}), "invalid_transaction"),
        (orjson.dumps(transaction(duration=-1.0)), "invalid_transaction"),
    ],
)
def test_a_transaction_that_cannot_be_read_is_counted_invalid(
    engine: Engine, spool: SqliteSpool, project_id: int, payload: bytes, reason: str
) -> None:
    digest(engine, spool, entry(project_id, payload))
    assert stored(engine) == []
    assert outcomes(engine) == {("transaction", "invalid", reason): 1}


def test_a_missing_status_is_unknown_and_a_missing_name_is_unlabeled(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    payload = transaction()
    del payload["transaction"]
    digest(engine, spool, entry(project_id, payload))
    [row] = stored(engine)
    assert (row.name, row.status) == ("<unlabeled transaction>", "unknown")


def test_clock_drift_moves_the_start_and_keeps_the_duration(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    two_hours_slow = RECEIVED - 7200
    payload = transaction(start=two_hours_slow - 1.0, duration=0.5)
    digest(engine, spool, entry(project_id, payload, sent_at=two_hours_slow))
    [row] = stored(engine)
    assert row.start_timestamp == pytest.approx(RECEIVED - 1.0)
    assert row.duration_ms == pytest.approx(500.0)


def test_span_descriptions_are_scrubbed_before_they_are_stored(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    payload = transaction()
    payload["spans"][2]["description"] = "GET https://bob:hunter2@payments.example/charge"
    digest(engine, spool, entry(project_id, payload))
    [row] = stored(engine)
    descriptions = [s.description for s in decode_spans(row.spans, PayloadCodec())]
    assert "hunter2" not in descriptions[2]
    assert descriptions[0] == "SELECT * FROM cart WHERE id = %s"


def test_the_url_path_is_stored_without_the_query_string_and_scrubbed(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    # A query string can carry personal data; the path is what the health-check filter reads.
    digest(
        engine,
        spool,
        entry(project_id, transaction(url="https://shop.example/checkout?email=ann@example.com&step=2#top")),
        entry(project_id, transaction(url="https://bob:hunter2@shop.example/cards/4111111111111111/pay")),
    )
    digest(engine, spool, entry(project_id, {k: v for k, v in transaction().items() if k != "request"}))
    assert [row.url_path for row in stored(engine)] == ["/checkout", "/cards/[Filtered]/pay", None]
