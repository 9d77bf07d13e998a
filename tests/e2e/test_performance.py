"""The chapter's FastAPI app, instrumented exactly as the chapter does it (traces_sample_rate=0.1,
`before_send_transaction` dropping "/health", send_default_pii=False, FastAPI's endpoint-style
names), served by uvicorn in its own process and driven with 2,000 requests over five routes, one of
them slow. Shoal stores about a tenth of them as transactions, none for /health, and its
Performance page ranks the slow route first with the p95 the app measured itself.

The app writes down, per request, its path, the duration it measured around the request and
whether the SDK sampled it (with the trace id), so the test knows exactly which transactions were
sent and what they took.
"""

from __future__ import annotations

import http.client
import math
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from shoal.spool.sqlite import SqliteSpool
from shoal.store import transaction_stats
from shoal.store.schema import outcome_counter, transaction_event
from shoal.store.transaction_stats import percentile
from tests.support.server import RunningShoal, free_port, start_shoal, wait_until
from tests.support.web_client import WebClient

SAMPLE_RATE = 0.1
REQUESTS_PER_ROUTE = 400
ROUTES = ("/health", "/items", "/users/7", "/search?q=shoes", "/reports/slow")
SLOW_NAME = "app.main.slow_report"
CLIENT_THREADS = 4
PROBE = "/probe"  # what the test asks while waiting for the app: no route, a 404

APP = textwrap.dedent(
    """
    import asyncio
    import os
    import time
    from contextlib import asynccontextmanager

    import sentry_sdk
    from fastapi import FastAPI
    from sentry_sdk.integrations.fastapi import FastApiIntegration


    def before_send_transaction(event, hint):
        \"\"\"Filter out health check transactions to save quota.\"\"\"
        if event.get("transaction") == "/health":
            return None
        return event


    sentry_sdk.init(
        dsn=os.environ["APP_SENTRY_DSN"],
        integrations=[FastApiIntegration(transaction_style="endpoint")],
        traces_sample_rate=0.1,
        environment="production",
        release="0.1.0",
        send_default_pii=False,
        before_send_transaction=before_send_transaction,
    )

    MEASURED = open(os.environ["APP_MEASUREMENTS"], "a", buffering=1)


    @asynccontextmanager
    async def lifespan(app):
        yield
        sentry_sdk.flush(timeout=30)


    app = FastAPI(lifespan=lifespan)


    @app.middleware("http")
    async def note_the_trace(request, call_next):
        span = sentry_sdk.get_current_span()
        request.state.sampled = bool(span is not None and span.sampled)
        request.state.trace_id = span.trace_id if span is not None else "-"
        return await call_next(request)


    async def measured_app(scope, receive, send):
        \"\"\"The whole app, Sentry's middleware included, timed from outside; what the inner
        middleware noted of the request's trace comes back through the ASGI scope's state.\"\"\"
        if scope["type"] != "http":
            return await app(scope, receive, send)
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        await app(scope, receive, send)
        elapsed = (time.perf_counter() - started) * 1000
        sampled, trace_id = state.get("sampled", False), state.get("trace_id", "-")
        MEASURED.write(f"{scope['path']} {elapsed:.3f} {int(sampled)} {trace_id}\\n")


    @app.get("/health")
    async def health():
        return {"status": "ok"}


    @app.get("/items")
    async def list_items():
        return [{"id": i} for i in range(10)]


    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"id": user_id}


    @app.get("/search")
    async def search(q: str = ""):
        return {"q": q, "results": []}


    @app.get("/reports/slow")
    async def slow_report():
        with sentry_sdk.start_span(op="db", name="SELECT * FROM orders"):
            await asyncio.sleep(0.04)
        return {"ready": True}
    """
)


@dataclass(frozen=True)
class Measured:
    path: str
    duration_ms: float
    sampled: bool
    trace_id: str


@dataclass(frozen=True)
class Run:
    shoal: RunningShoal
    measured: list[Measured]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("performance")
    shoal = start_shoal(root / "data")
    try:
        yield Run(shoal, drive_app(root, shoal))
    finally:
        shoal.stop()


def drive_app(root: Path, shoal: RunningShoal) -> list[Measured]:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(APP)
    measurements = root / "measured.txt"
    port = free_port()
    env = {**os.environ, "APP_SENTRY_DSN": shoal.dsn, "APP_MEASUREMENTS": str(measurements)}
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:measured_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: _answers(port), 30, "the FastAPI app to answer", app)
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            statuses = list(pool.map(lambda i: _drive(port, i), range(CLIENT_THREADS)))
        assert all(s == 200 for batch in statuses for s in batch)
    finally:
        app.terminate()  # uvicorn shuts down gracefully: the lifespan flushes the SDK's queue
        output, _ = app.communicate(timeout=60)
    assert "Unexpected status code" not in output, output
    spool = SqliteSpool(shoal.data_dir / "spool.db", durable_writes=False)
    try:
        wait_until(lambda: spool.backlog() == 0, 60, "the spool to be digested")
    finally:
        spool.close()
    return [_parse(line) for line in measurements.read_text().splitlines()]


def _answers(port: int) -> bool:
    try:
        return _get(http.client.HTTPConnection("127.0.0.1", port, timeout=2), PROBE) == 404
    except OSError:
        return False


def _drive(port: int, worker: int) -> list[int]:
    """This thread's share of the 2,000 requests, the routes interleaved, on one keep-alive
    connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    total = REQUESTS_PER_ROUTE * len(ROUTES)
    try:
        return [_get(conn, ROUTES[i % len(ROUTES)]) for i in range(worker, total, CLIENT_THREADS)]
    finally:
        conn.close()


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def _parse(line: str) -> Measured:
    path, duration, sampled, trace_id = line.split()
    return Measured(path, float(duration), sampled == "1", trace_id)


def binomial_range(n: int, p: float, sigmas: float = 6.0) -> tuple[int, int]:
    """Where a Binomial(n, p) count falls but for about one run in 10^9."""
    spread = sigmas * math.sqrt(n * p * (1 - p))
    return math.floor(n * p - spread), math.ceil(n * p + spread)


def stored_rows(shoal: RunningShoal) -> list[object]:
    with shoal.engine.connect() as conn:
        return list(conn.execute(select(transaction_event)))


def test_about_a_tenth_of_the_requests_arrive_as_transactions_and_none_for_health(run: Run) -> None:
    measured = run.measured  # the readiness probes too: the SDK may have sampled one
    assert len([m for m in measured if m.path != PROBE]) == REQUESTS_PER_ROUTE * len(ROUTES)
    rows = stored_rows(run.shoal)
    not_health = [m for m in measured if m.path != "/health"]
    low, high = binomial_range(len(not_health), SAMPLE_RATE)
    assert low <= len(rows) <= high
    # Exactly the requests the SDK sampled, bar /health: the app says which those were.
    sampled = {m.trace_id for m in not_health if m.sampled}
    assert {row.trace_id for row in rows} == sampled  # type: ignore[attr-defined]
    assert not any("health" in row.name for row in rows)  # type: ignore[attr-defined]
    # The chapter's before_send_transaction compares with "/health", but endpoint-style names are
    # function names: the server's health-check filter (on by default) is what drops them.
    health_sampled = sum(m.sampled for m in measured if m.path == "/health")
    with run.shoal.engine.connect() as conn:
        filtered = conn.execute(
            select(outcome_counter.c.quantity).where(
                outcome_counter.c.category == "transaction", outcome_counter.c.reason == "health-check"
            )
        ).scalar()
    assert (filtered or 0) == health_sampled


def test_the_store_ranks_the_slow_route_first_with_the_p95_the_app_measured(run: Run) -> None:
    shoal, now = run.shoal, max(row.received for row in stored_rows(run.shoal))  # type: ignore[attr-defined]
    with shoal.engine.connect() as conn:
        ranking = transaction_stats.transaction_ranking(conn, shoal.project_id, now - 86_400, now + 60)
    assert ranking[0].name == SLOW_NAME
    assert_p95_matches_the_app(run.measured, ranking[0].p95)


def test_the_performance_page_ranks_the_slow_route_first_with_the_p95_the_app_measured(run: Run) -> None:
    client = WebClient(run.shoal)
    client.log_in()
    page = client.get(f"/projects/{run.shoal.project_id}/performance/?window=24h")
    first_row = re.search(r'<tr data-name="([^"]+)">(.*?)</tr>', page, re.S)
    assert first_row is not None, page
    assert first_row[1] == SLOW_NAME
    p95 = re.search(r'class="num p95" data-ms="([0-9.]+)"', first_row[2])
    assert p95 is not None
    assert_p95_matches_the_app(run.measured, float(p95[1]))


def assert_p95_matches_the_app(measured: list[Measured], p95: float) -> None:
    """Within 10 % of the p95 of the durations the app measured for the slow requests the SDK
    sampled. Not of every slow request: on a loaded machine the sampled ones are the slower (the
    SDK's own work on them, its sending thread holding the GIL), which is the app's truth too."""
    sampled = sorted(m.duration_ms for m in measured if m.path == "/reports/slow" and m.sampled)
    assert p95 == pytest.approx(percentile(sampled, 0.95), rel=0.10)
