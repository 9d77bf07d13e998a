"""`span` items, which Shoal does not store, are counted in spans (category `span`,
`filtered:unsupported_item`): a span v2 container as @sentry/node 11 sends it counts its
`item_count`, one without the header counts its `items`, an older standalone span counts one. Through
the real pipeline, and once through the store on both backends."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import orjson
from sqlalchemy import Engine, select

from shoal import outcomes
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import MAX_SPANS_PER_ITEM, Digested, DigestLimits, Pipeline, ProjectSettings
from shoal.digest.store import store_with_retries
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import SpoolEntry
from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.projects import ProjectGrouping
from shoal.store.schema import outcome_counter

NOW = 1_795_000_000.0
LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)
PROJECT = 7
TRACE = "5e2a1f0c9b8d4e7fa1b2c3d4e5f60718"
CONTAINER = "application/vnd.sentry.items.span.v2+json"


def streamed_span(name: str, parent: str | None, start: float) -> dict[str, Any]:
    """One span as the streamed-span protocol shapes it: typed attributes, end_timestamp."""
    return {
        "trace_id": TRACE,
        "span_id": uuid.uuid4().hex[:16],
        "parent_span_id": parent,
        "name": name,
        "status": "ok",
        "is_segment": parent is None,
        "start_timestamp": start,
        "end_timestamp": start + 0.012,
        "attributes": {
            "sentry.op": {"type": "string", "value": "db" if parent else "http.server"},
            "sentry.release": {"type": "string", "value": "shop@3.1.0"},
            "db.system": {"type": "string", "value": "postgresql"},
        },
    }


def container(spans: list[dict[str, Any]], **headers: object) -> tuple[dict[str, object], bytes]:
    payload = {"version": 2, "items": spans}
    return {"type": "span", "content_type": CONTAINER, **headers}, orjson.dumps(payload)


def js_envelope(*items: tuple[dict[str, object], bytes]) -> bytes:
    """JS style: no `length`, no trailing newline (reference/protocol.md §3)."""
    header = {
        "sent_at": "2026-11-18T10:00:00.000Z",
        "sdk": {"name": "sentry.javascript.node", "version": "11.12.0"},
    }
    parts = [orjson.dumps(header)]
    for item_header, payload in items:
        parts += [orjson.dumps(item_header), payload]
    return b"\n".join(parts)


def three_spans() -> list[dict[str, Any]]:
    root = streamed_span("GET /cart", None, NOW - 10)
    return [
        root,
        streamed_span("SELECT cart", root["span_id"], NOW - 9.9),
        streamed_span("SELECT items", root["span_id"], NOW - 9.8),
    ]


def digest(body: bytes, project_id: int = PROJECT) -> Digested:
    entry = SpoolEntry(project_id, "envelope", NOW, None, "10.0.0.1", "", body)
    into = Digested()
    settings = ProjectSettings(ProjectGrouping(DEFAULT_CONFIG_ID))
    Pipeline(LIMITS, PayloadCodec()).digest_entry(entry, settings, into)
    return into


def span_outcomes(body: bytes) -> Counter[OutcomeKey]:
    return digest(body).outcomes


UNSUPPORTED_SPANS = OutcomeKey(PROJECT, Category.SPAN, Outcome.FILTERED, outcomes.UNSUPPORTED_ITEM)


def test_a_span_container_counts_its_item_count() -> None:
    found = span_outcomes(js_envelope(container(three_spans(), item_count=3)))
    assert found == {UNSUPPORTED_SPANS: 3}


def test_a_container_without_item_count_counts_its_items() -> None:
    found = span_outcomes(js_envelope(container(three_spans())))
    assert found == {UNSUPPORTED_SPANS: 3}


def test_every_container_of_an_envelope_counts() -> None:
    body = js_envelope(container(three_spans(), item_count=3), container(three_spans()[:2], item_count=2))
    assert span_outcomes(body) == {UNSUPPORTED_SPANS: 5}


def test_a_standalone_span_counts_one() -> None:
    span = {
        "trace_id": TRACE,
        "span_id": "a1b2c3d4e5f60718",
        "op": "ui.interaction.click",
        "description": "button#checkout",
        "start_timestamp": NOW - 3,
        "timestamp": NOW - 2.5,
    }
    assert span_outcomes(js_envelope(({"type": "span"}, orjson.dumps(span)))) == {UNSUPPORTED_SPANS: 1}


def test_an_unreadable_span_item_still_counts_one() -> None:
    assert span_outcomes(js_envelope(({"type": "span"}, b"{not json"))) == {UNSUPPORTED_SPANS: 1}


def test_an_impossible_item_count_is_not_believed() -> None:
    spans = three_spans()
    for bogus in (0, -4, MAX_SPANS_PER_ITEM + 1, "3", True):
        found = span_outcomes(js_envelope(container(spans, item_count=bogus)))
        assert found == {UNSUPPORTED_SPANS: 3}, bogus


def test_span_counts_reach_the_outcome_counters(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        project_id = projects.create_project(conn, org, "shop", "node", DEFAULT_CONFIG_ID).id
    into = digest(js_envelope(container(three_spans(), item_count=3)), project_id)
    store_with_retries(engine, into.events, into.outcomes, NOW)
    with engine.connect() as conn:
        rows = conn.execute(select(outcome_counter).where(outcome_counter.c.project_id == project_id))
        counted = {(r.category, r.outcome, r.reason): r.quantity for r in rows}
    assert counted == {("span", "filtered", "unsupported_item"): 3}
