"""The real @sentry/browser (pinned in tests/js/package.json) in headless Chromium, on a page of
another origin than Shoal: its errors arrive as issues with their stack traces, minified frames
group by function as in Sentry, no request needs a CORS preflight, and a page can read the
rate-limit headers of a 429.

The page (tests/js/browser/page.html) loads the SDK's own ES modules from node_modules through an
import map, with no bundler, and a hand-minified script with no source map. Every request of the
SDK goes through a recording proxy (tests/js/site.py), so the test sees exactly what Shoal saw.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page
from sqlalchemy import select

from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec, find_event
from shoal.store.projects import RateLimit
from shoal.store.schema import event
from tests.js.packages import require_node_modules
from tests.js.shop_page import SHOP_SCRIPT_PATH, open_shop, shop_column
from tests.js.site import JS_DIR, Site
from tests.support.server import RunningShoal, start_shoal
from tests.support.web_client import WebClient

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    """One `shoal run` (SQLite) for the module: these tests are about the browser, not the store."""
    require_node_modules()
    server = start_shoal(tmp_path_factory.mktemp("browser") / "data")
    yield server
    server.stop()


def dsn_through(proxy: Site, shoal: RunningShoal) -> str:
    return f"http://{shoal.public_key}@{urlsplit(proxy.url).netloc}/{shoal.project_id}"


def stored_events(shoal: RunningShoal) -> dict[str, tuple[int, dict[str, Any]]]:
    """Every stored event by its exception value: (issue id, the event as stored)."""
    codec = PayloadCodec()
    with shoal.engine.connect() as conn:
        ids = [row.event_id for row in conn.execute(select(event.c.event_id))]
        found = [find_event(conn, codec, event_id) for event_id in ids]
    stored = [pair[1] for pair in found if pair is not None]
    return {e.data["exception"]["values"][0]["value"]: (e.issue_id, e.data) for e in stored}


def test_browser_errors_arrive_without_a_preflight_and_minified_frames_group_by_function(
    shoal: RunningShoal, page: Page
) -> None:
    with Site(root=JS_DIR) as site, Site(upstream=shoal.url) as proxy:
        open_shop(page, site, dsn_through(proxy, shoal))
        page.click("#pay")
        page.click("#pay")
        page.click("#refund")
        shoal.wait_for_events(3)
        seen = list(proxy.requests)

    # A CORS "simple request": no OPTIONS ever reached the server. The SDK posts text/plain with
    # the key in the query string, and no header that would need a preflight.
    assert [r.method for r in seen] == ["POST"] * len(seen) and seen
    for request in seen:
        assert urlsplit(request.target).path == f"/api/{shoal.project_id}/envelope/"
        query = parse_qs(urlsplit(request.target).query)
        assert query["sentry_key"] == [shoal.public_key]
        assert query["sentry_version"] == ["7"]
        assert request.headers["content-type"] == "text/plain;charset=UTF-8"
        assert "x-sentry-auth" not in request.headers
        assert request.headers["origin"] == site.url

    events = stored_events(shoal)
    pay_1, pay_1_event = events["card declined for order 1"]
    pay_2, _ = events["card declined for order 2"]
    refund, refund_event = events["card declined for order 3"]
    # The same click path twice is one issue; the same throw reached from another handler is not.
    assert pay_1 == pay_2 != refund
    # As in Sentry, the script's URL does not count, only each function's last dotted part:
    # the exception type, then "t" (HTMLButtonElement.t), "p", "n", oldest frame first.
    assert pay_1_event["hashes"][0] == hashlib.md5(b"Errortpn").hexdigest()
    assert refund_event["hashes"][0] == hashlib.md5(b"Errorurn").hexdigest()

    frames = pay_1_event["exception"]["values"][0]["stacktrace"]["frames"]
    script_url = f"{site.url}{SHOP_SCRIPT_PATH}"
    assert [(f["abs_path"], f["filename"], f["function"], f["lineno"]) for f in frames] == [
        (script_url, SHOP_SCRIPT_PATH, "HTMLButtonElement.t", 1),
        (script_url, SHOP_SCRIPT_PATH, "p", 1),
        (script_url, SHOP_SCRIPT_PATH, "n", 1),
    ]
    assert frames[-1]["colno"] == shop_column('new Error("card declined')

    client = WebClient(shoal)
    client.log_in()
    html = client.get(f"/issues/{pay_1}/")
    location = f'<code class="location">{re.escape(SHOP_SCRIPT_PATH)}</code>'
    throw = rf'{location} in <code class="function">n</code> at line 1:{shop_column("new Error(")}'
    assert re.search(throw, html)


def test_a_page_can_read_the_rate_limit_headers_of_a_429(shoal: RunningShoal, page: Page) -> None:
    with write_transaction(shoal.engine) as conn:
        key = projects.add_key(conn, shoal.project_id, "one a minute")
        projects.set_key_rate_limit(conn, key.id, RateLimit(1, 60))
    url = f"{shoal.url}/api/{shoal.project_id}/envelope/?sentry_key={key.public_key}&sentry_version=7"
    with Site(root=JS_DIR) as site:
        page.goto(f"{site.url}/browser/page.html")  # no DSN: the SDK stays off
        # Cross-origin fetches, from the page's origin to Shoal's, as the SDK makes them. With one
        # event a minute, one of three sent at once is over the limit whatever the window's phase.
        answers = page.evaluate(
            """async (url) => {
              const answers = [];
              for (let i = 0; i < 3; i++) {
                const id = crypto.randomUUID().replaceAll("-", "");
                const body = `{"event_id":"${id}"}\\n{"type":"event"}\\n{"message":"limited ${i}"}`;
                const response = await fetch(url, { method: "POST", body });
                answers.push({
                  status: response.status,
                  rateLimits: response.headers.get("X-Sentry-Rate-Limits"),
                  retryAfter: response.headers.get("Retry-After"),
                });
                if (response.status === 429) break;
              }
              return answers;
            }""",
            url,
        )
    refused = answers[-1]
    assert refused["status"] == 429, answers
    retry_after = int(refused["retryAfter"])
    assert 1 <= retry_after <= 60
    assert refused["rateLimits"] == f"{retry_after}:default;error;security:key:key_quota"
