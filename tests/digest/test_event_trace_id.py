"""An error event's `contexts.trace.trace_id` is stored with it, through the real pipeline and store
(SQLite and PostgreSQL), so a trace page can list its errors: 32 hex digits in lower case, anything
else no trace at all."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import Digested, DigestLimits, Pipeline, ProjectSettings
from shoal.digest.store import store_with_retries
from shoal.spool.base import SpoolEntry
from shoal.store import events, projects
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectGrouping
from shoal.store.schema import event

NOW = 1_795_000_000.0
LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def project_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        return projects.create_project(conn, org, "shop", "python", DEFAULT_CONFIG_ID).id


def error_with_trace(trace: object, message: str = "boom") -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": NOW - 5,
        "platform": "python",
        "level": "error",
        "message": message,
        "contexts": {"trace": {"trace_id": trace, "span_id": "a3ce929d0e0e4736", "type": "trace"}},
    }


def send(engine: Engine, project_id: int, *payloads: dict[str, Any]) -> None:
    into = Digested()
    settings = ProjectSettings(ProjectGrouping(DEFAULT_CONFIG_ID))
    pipeline = Pipeline(LIMITS, events.PayloadCodec())
    for payload in payloads:
        body = b"\n".join([b"{}", orjson.dumps({"type": "event"}), orjson.dumps(payload)])
        entry = SpoolEntry(project_id, "envelope", NOW, payload["event_id"], "10.0.0.1", "", body)
        pipeline.digest_entry(entry, settings, into)
    store_with_retries(engine, into.events, into.outcomes, NOW)


def stored_trace_ids(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return {
            row.event_id: row.trace_id for row in conn.execute(select(event.c.event_id, event.c.trace_id))
        }


def test_an_error_keeps_its_trace_id_in_lower_case(engine: Engine, project_id: int) -> None:
    lower, upper = error_with_trace(TRACE), error_with_trace(TRACE.upper())
    send(engine, project_id, lower, upper)
    assert stored_trace_ids(engine) == {lower["event_id"]: TRACE, upper["event_id"]: TRACE}


@pytest.mark.parametrize(
    "trace",
    [None, 42, "", "not-a-trace", TRACE[:31], TRACE + "0", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "g" * 32],
)
def test_anything_but_32_hex_digits_is_no_trace(engine: Engine, project_id: int, trace: object) -> None:
    sent = error_with_trace(trace)
    send(engine, project_id, sent)
    assert stored_trace_ids(engine) == {sent["event_id"]: None}


def test_an_error_without_contexts_has_no_trace(engine: Engine, project_id: int) -> None:
    sent = error_with_trace(TRACE)
    del sent["contexts"]
    send(engine, project_id, sent)
    assert stored_trace_ids(engine) == {sent["event_id"]: None}


def test_a_trace_lists_its_errors_with_their_issues_oldest_first(engine: Engine, project_id: int) -> None:
    first, second = error_with_trace(TRACE, "first"), error_with_trace(TRACE, "second")
    second["timestamp"] = NOW - 1
    send(engine, project_id, second, first, error_with_trace("0" * 32, "other trace"))
    with engine.connect() as conn:
        found = events.trace_errors(conn, project_id, TRACE)
    assert [(e.event_id, e.issue_title, e.level) for e in found] == [
        (first["event_id"], "first", "error"),
        (second["event_id"], "second", "error"),
    ]
    assert {e.issue_short_id for e in found} == {"SHOP-1", "SHOP-2"}
