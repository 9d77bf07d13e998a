"""Acceptance for inbound filters (issue 8): a tiny real Starlette shop, instrumented as the
chapter's FastAPI app (`transaction_style="endpoint"`, 404s reported, every request traced), run
with the real sentry-sdk in its own process against `shoal run` on SQLite and on PostgreSQL. It
answers two load-balancer probes of /health and two requests for missing items (404), and its
server has three client disconnects (`ConnectionResetError`) and one real bug (`KeyError`).

First with the filters off: everything is stored, and the filters page's preview predicts what the
error-type, 404 and health-check filters would have dropped of it. Then with them on, the same
traffic again: exactly those counts are dropped, each under its own outcome (`filtered:error-type`,
`filtered:http-404`, and `filtered:health-check` for the probes, whose transactions are named
`__main__.health` — only their URL path says /health); the bug is still stored."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from shoal import outcomes
from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.inbound_filters import FilterSettings
from shoal.store.schema import event, outcome_counter
from tests.support.form_client import FormClient
from tests.support.server import RunningShoal, wait_until

SHOP = textwrap.dedent(
    '''
    """A tiny Starlette shop, driven over ASGI: no port, but the SDK's real instrumentation."""

    import asyncio
    import sys

    import sentry_sdk
    from sentry_sdk.integrations.starlette import StarletteIntegration

    sentry_sdk.init(
        dsn=sys.argv[1],
        traces_sample_rate=1.0,
        # Sentry reports 5xx only by default; this team reports 404s and filters them on the server.
        integrations=[
            StarletteIntegration(
                transaction_style="endpoint", failed_request_status_codes={404, *range(500, 600)}
            )
        ],
    )

    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route


    async def health(request):
        return PlainTextResponse("ok")


    async def get_item(request):
        raise HTTPException(status_code=404, detail="Item not found")


    app = Starlette(routes=[Route("/health", health), Route("/items/{item_id}", get_item)])


    async def get(path):
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "client": ("10.0.0.5", 40000), "server": ("shop.example.com", 443),
            "headers": [(b"host", b"shop.example.com"), (b"user-agent", b"kube-probe/1.29")],
        }
        statuses = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        print("GET", path, statuses, flush=True)


    async def main():
        for path in ("/health", "/health", "/items/7", "/items/8"):
            await get(path)


    asyncio.run(main())
    for _ in range(3):
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            sentry_sdk.capture_exception()
    try:
        {}["discount"]
    except KeyError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    '''
)
ERRORS_PER_RUN = 2 + 3 + 1  # two 404s, three disconnects, one KeyError
TRANSACTIONS_PER_RUN = 4
FILTERS_ON = {
    "on-error-type": "on",
    "patterns-error-type": "ConnectionResetError\nBrokenPipeError",
    "on-http-404": "on",
    "on-health-check": "on",
}


def run_shop(shoal: RunningShoal, tmp_path: Path) -> None:
    # A file, not `python -c`: the SDK sends each frame's source line, as from a real app.
    script = tmp_path / "shop.py"
    script.write_text(SHOP)
    result = subprocess.run(
        [sys.executable, str(script), shoal.dsn], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[200]") == 2 and result.stdout.count("[404]") == 2, result.stdout


def outcome_counts(shoal: RunningShoal) -> dict[tuple[str, str, str], int]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(
            select(
                outcome_counter.c.category,
                outcome_counter.c.outcome,
                outcome_counter.c.reason,
                func.sum(outcome_counter.c.quantity),
            )
            .where(outcome_counter.c.project_id == shoal.project_id)
            .group_by(outcome_counter.c.category, outcome_counter.c.outcome, outcome_counter.c.reason)
        )
        return {(str(c), str(o), str(r)): int(q) for c, o, r, q in rows}


def digested(shoal: RunningShoal, errors: int, transactions: int) -> bool:
    """Whether the digest has counted this many errors and transactions, whatever their outcome."""
    counts = outcome_counts(shoal)
    seen_errors = sum(q for (c, o, _), q in counts.items() if c == "error" and o != "client_discard")
    seen_transactions = sum(
        q for (c, o, _), q in counts.items() if c == "transaction" and o != "client_discard"
    )
    return seen_errors >= errors and seen_transactions >= transactions


def stored_types(shoal: RunningShoal) -> Counter[str]:
    """The raised exception's type of every stored event."""
    codec = PayloadCodec()
    with shoal.engine.connect() as conn:
        rows = conn.execute(select(event.c.payload).where(event.c.project_id == shoal.project_id))
        return Counter(codec.decode(row.payload)["exception"]["values"][-1]["type"] for row in rows)


def preview_counts(page: str) -> dict[str, int]:
    """Each filter row's "would have dropped" number, by reason."""
    found: dict[str, int] = {}
    for match in re.finditer(r'id="filter-([\w-]+)"(.*?)(?=<tr class="filter|</tbody>)', page, re.DOTALL):
        number = re.search(r'class="would-drop-count">([\d,]+)<', match[2])
        if number:
            found[match[1]] = int(number[1].replace(",", ""))
    return found


def test_filters_drop_disconnects_404s_and_health_checks_as_the_preview_predicted(
    shoal_on_each_store: RunningShoal, tmp_path: Path
) -> None:
    shoal = shoal_on_each_store
    with write_transaction(shoal.engine) as conn:
        projects.set_project_filters(conn, shoal.project_id, FilterSettings(frozenset()))
    run_shop(shoal, tmp_path)
    shoal.wait_for_events(ERRORS_PER_RUN)
    wait_until(lambda: digested(shoal, ERRORS_PER_RUN, TRANSACTIONS_PER_RUN), 60, "the first run digested")
    assert stored_types(shoal) == {"HTTPException": 2, "ConnectionResetError": 3, "KeyError": 1}

    client = FormClient(shoal)
    page = client.post(f"/projects/{shoal.project_id}/settings/filters/", {**FILTERS_ON, "action": "preview"})
    assert page.status == 200, page.text()
    predicted = preview_counts(page.body)
    assert predicted[outcomes.FILTER_ERROR_TYPE] == 3
    assert predicted[outcomes.FILTER_HTTP_404] == 2
    assert predicted[outcomes.FILTER_HEALTH_CHECK] == 2  # by the stored transactions' URL path
    assert re.search(r'id="preview-together">5<', page.body), page.text()
    with shoal.engine.connect() as conn:  # a preview saves nothing
        assert projects.project_filters(conn, {shoal.project_id})[shoal.project_id].on == frozenset()

    saved = client.post(f"/projects/{shoal.project_id}/settings/filters/", {**FILTERS_ON, "action": "save"})
    assert saved.status == 200 and "Inbound filters saved" in saved.text(), saved.text()
    run_shop(shoal, tmp_path)
    shoal.wait_for_events(ERRORS_PER_RUN + 1)
    wait_until(
        lambda: digested(shoal, 2 * ERRORS_PER_RUN, 2 * TRANSACTIONS_PER_RUN), 60, "the second run digested"
    )

    counts = outcome_counts(shoal)
    assert counts[("error", "filtered", outcomes.FILTER_ERROR_TYPE)] == predicted[outcomes.FILTER_ERROR_TYPE]
    assert counts[("error", "filtered", outcomes.FILTER_HTTP_404)] == predicted[outcomes.FILTER_HTTP_404]
    assert (
        counts[("transaction", "filtered", outcomes.FILTER_HEALTH_CHECK)]
        == predicted[outcomes.FILTER_HEALTH_CHECK]
    )
    assert counts[("error", "accepted", "")] == ERRORS_PER_RUN + 1
    assert stored_types(shoal) == {"HTTPException": 2, "ConnectionResetError": 3, "KeyError": 2}

    after = client.fetch(f"/projects/{shoal.project_id}/settings/filters/")
    assert "Dropped 2 transactions" in after.text(), after.text()
