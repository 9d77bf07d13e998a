"""A project's Performance pages (docs/performance.md): its transactions ranked by total time over a
window (24 hours, 7 or 14 days) with count, throughput, p50 / p95 / p99 and failure rate, and
charts of throughput and p95; one transaction's page (its numbers, duration histogram, span ops
and slowest samples); one sample with its span waterfall; and a trace's transactions and error
events, which the issue page links to from an error's `contexts.trace.trace_id`.

Reads only (`shoal.store.transaction_stats`, `shoal.store.events`). A transaction name may hold
any character, so it travels in the query string (`?name=`), percent-encoded by the template.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK
from shoal.digest.transactions import decode_spans
from shoal.store import events, transaction_stats
from shoal.store.events import PayloadCodec
from shoal.store.transactions import SPAN_SAMPLES
from shoal.web.auth import current_viewer, engine_of
from shoal.web.pages import render, visible_project
from shoal.web.performance_charts import (
    WINDOWS,
    Window,
    duration_histogram,
    format_ms,
    format_rate,
    p95_chart,
    throughput_chart,
    window_named,
    window_start,
)
from shoal.web.span_waterfall import waterfall

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_EVENT_ID = re.compile(r"[0-9a-f]{32}")


def overview(request: Request) -> Response:
    viewer = current_viewer(request)
    window, now = window_named(request.query_params.get("window")), SYSTEM_CLOCK.now()
    since = window_start(window, now)
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        points = transaction_stats.points_by_name(conn, project.id, since, now)
        operations = transaction_stats.operations(conn, project.id, since)
    minutes = (now - since) / 60
    ranking = sorted(
        (transaction_stats.summarize(name, found, minutes) for name, found in points.items()),
        key=lambda s: (-s.total_ms, s.name),
    )
    every = [p for found in points.values() for p in found]
    context = _window_context(window) | {
        "project": project,
        "ranking": ranking,
        "operations": operations,
        "charts": [throughput_chart(every, window, now), p95_chart(every, window, now)],
    }
    return render(request, viewer, "performance.html", context)


def transaction_summary(request: Request) -> Response:
    viewer = current_viewer(request)
    name = request.query_params.get("name", "")
    window, now = window_named(request.query_params.get("window")), SYSTEM_CLOCK.now()
    since = window_start(window, now)
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        points = transaction_stats.points_by_name(conn, project.id, since, now, name).get(name, [])
        samples = transaction_stats.slowest_samples(conn, project.id, name, since, now)
    context = _window_context(window) | {
        "project": project,
        "name": name,
        "stats": transaction_stats.summarize(name, points, (now - since) / 60),
        "charts": [
            duration_histogram(points),
            throughput_chart(points, window, now),
            p95_chart(points, window, now),
        ],
        "samples": samples,
        "span_ops": _span_ops(samples),
    }
    return render(request, viewer, "performance_transaction.html", context)


def sample_detail(request: Request) -> Response:
    viewer = current_viewer(request)
    event_id = request.path_params["event_id"].lower()
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        found = (
            transaction_stats.find_sample(conn, project.id, event_id)
            if _EVENT_ID.fullmatch(event_id)
            else None
        )
    if found is None:
        raise HTTPException(404, "No such transaction in this project (retention may have deleted it).")
    sample, compact = found
    spans = decode_spans(compact, PayloadCodec()) if compact is not None else []
    context = {
        "project": project,
        "sample": sample,
        "rows": waterfall(spans, sample.duration_ms),
        "samples_per_hour": SPAN_SAMPLES,
        "format_ms": format_ms,
    }
    return render(request, viewer, "performance_sample.html", context)


def trace_detail(request: Request) -> Response:
    viewer = current_viewer(request)
    trace_id = request.path_params["trace_id"].lower()
    if not _TRACE_ID.fullmatch(trace_id):
        raise HTTPException(404, "A trace id is 32 hexadecimal digits.")
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        found = transaction_stats.trace_transactions(conn, project.id, trace_id)
        errors = events.trace_errors(conn, project.id, trace_id)
    context = {
        "project": project,
        "trace_id": trace_id,
        "transactions": found,
        "errors": errors,
        "errors_shown": events.TRACE_ERRORS_SHOWN,
        "format_ms": format_ms,
    }
    return render(request, viewer, "performance_trace.html", context)


def _window_context(window: Window) -> dict[str, Any]:
    return {"window": window, "windows": WINDOWS, "format_ms": format_ms, "format_rate": format_rate}


def _span_ops(samples: list[transaction_stats.Sample]) -> list[tuple[str, float, float]]:
    """Per span op, over the slowest samples: its mean count and mean time per transaction, the
    most time first. Where a slow transaction spends its time."""
    totals: dict[str, list[float]] = {}
    for sample in samples:
        for op, (count, total) in sample.span_ops.items():
            seen = totals.setdefault(op, [0.0, 0.0])
            seen[0] += count
            seen[1] += total
    n = len(samples) or 1
    return sorted(((op, c / n, t / n) for op, (c, t) in totals.items()), key=lambda row: -row[2])


ROUTES: list[Route] = [
    Route("/projects/{project_id:int}/performance/", overview),
    Route("/projects/{project_id:int}/performance/summary/", transaction_summary),
    Route("/projects/{project_id:int}/performance/samples/{event_id:str}/", sample_detail),
    Route("/projects/{project_id:int}/performance/traces/{trace_id:str}/", trace_detail),
]
