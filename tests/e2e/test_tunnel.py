"""`POST /tunnel`: @sentry/browser's `tunnel` option in Chromium, with the page's own server passing
`/tunnel` on to Shoal as a user's reverse proxy would; and the endpoint's answers over plain HTTP:
the DSN in the envelope header is the auth, it must be this Shoal's, and the answers are those of
`/api/<project>/envelope/`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import orjson
import pytest
from playwright.sync_api import Page, Request

from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.projects import RateLimit
from tests.js.packages import require_node_modules
from tests.js.shop_page import open_shop
from tests.js.site import JS_DIR, Site
from tests.support.http import Reply, auth_header, envelope_url, post
from tests.support.server import RunningShoal, start_shoal


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("tunnel") / "data")
    yield server
    server.stop()


def js_envelope(dsn: str | None, item_header: bytes = b'{"type":"event"}') -> tuple[str, bytes]:
    """An envelope as the JS SDK writes it with `tunnel` set: the DSN in the header, no lengths."""
    event_id = uuid.uuid4().hex
    header = {"event_id": event_id, **({"dsn": dsn} if dsn else {})}
    payload = orjson.dumps({"event_id": event_id, "message": "through the tunnel", "platform": "javascript"})
    return event_id, orjson.dumps(header) + b"\n" + item_header + b"\n" + payload


def tunnel(shoal: RunningShoal, body: bytes, query: str = "") -> Reply:
    return post(f"{shoal.url}/tunnel{query}", body, {"Content-Type": "text/plain;charset=UTF-8"})


@pytest.mark.browser
def test_the_browser_sdk_sends_through_a_same_origin_tunnel_and_its_error_becomes_an_issue(
    shoal: RunningShoal, page: Page
) -> None:
    require_node_modules()
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    with Site(root=JS_DIR, upstream=shoal.url) as site:
        open_shop(page, site, shoal.dsn, tunnel="/tunnel")
        before = shoal.event_count()
        page.click("#pay")
        shoal.wait_for_events(before + 1)
        tunnelled = site.seen("/tunnel")
    # The page never spoke to Shoal itself: everything went to its own origin's /tunnel.
    assert not [url for url in requested if url.startswith(shoal.url)]
    assert tunnelled and all(r.method == "POST" for r in tunnelled)
    assert all(r.target == "/tunnel" for r in tunnelled)  # no key in the URL...
    headers = [orjson.loads(r.body.split(b"\n", 1)[0]) for r in tunnelled]
    assert all(h["dsn"] == shoal.dsn for h in headers)  # ...the DSN in the envelope instead
    event_ids = [h["event_id"] for h in headers if "event_id" in h]
    assert len(event_ids) == 1
    assert shoal.has_event(event_ids[0])


def test_a_tunnelled_envelope_is_stored_and_answered_with_its_event_id(shoal: RunningShoal) -> None:
    event_id, body = js_envelope(shoal.dsn)
    reply = tunnel(shoal, body)
    assert reply.status == 200
    assert reply.json() == {"id": event_id}
    assert reply.headers["access-control-allow-origin"] == "*"
    shoal.wait_for_event(event_id)


def test_the_trailing_slash_form_works_too_and_a_query_key_is_not_used(shoal: RunningShoal) -> None:
    event_id, body = js_envelope(shoal.dsn)
    # A tunnel forwards the envelope, not the URL: a key in its query string is ignored (with it,
    # the envelope endpoint would refuse two keys at once).
    reply = post(f"{shoal.url}/tunnel/?sentry_key={'0' * 32}", body)
    assert (reply.status, reply.json()) == (200, {"id": event_id})


def test_a_dsn_of_another_host_is_refused(shoal: RunningShoal) -> None:
    _, body = js_envelope(f"https://{shoal.public_key}@o1.ingest.sentry.io/{shoal.project_id}")
    reply = tunnel(shoal, body)
    assert reply.status == 403
    assert (
        reply.headers["x-sentry-error"]
        == f"the DSN in the envelope header is not for this Shoal ({shoal.url})"
    )


def test_a_dsn_with_an_unknown_key_or_another_projects_id_is_refused(shoal: RunningShoal) -> None:
    base = shoal.dsn.rsplit("/", 1)[0]
    _, unknown_key = js_envelope(base.replace(shoal.public_key, uuid.uuid4().hex) + f"/{shoal.project_id}")
    _, other_project = js_envelope(f"{base}/{shoal.project_id + 1}")
    assert (tunnel(shoal, unknown_key).status, tunnel(shoal, unknown_key).json()) == (
        403,
        {"detail": "unknown project key"},
    )
    assert tunnel(shoal, other_project).json() == {"detail": "project key does not belong to this project"}


def test_an_envelope_without_a_dsn_is_401_and_a_broken_one_400(shoal: RunningShoal) -> None:
    _, no_dsn = js_envelope(None)
    assert tunnel(shoal, no_dsn).status == 401
    assert tunnel(shoal, b"not json\n").status == 400
    assert tunnel(shoal, b"").status == 400


def test_it_answers_as_the_envelope_endpoint_does(shoal: RunningShoal) -> None:
    _, broken = js_envelope(shoal.dsn, item_header=b"{not an item header")
    direct = post(envelope_url(shoal.url, shoal.project_id), broken, auth_header(shoal.public_key))
    tunnelled = tunnel(shoal, broken)
    assert (tunnelled.status, tunnelled.json()) == (direct.status, direct.json())
    assert tunnelled.status == 400


def test_the_keys_rate_limit_applies_with_the_same_429(shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        key = projects.add_key(conn, shoal.project_id, "tunnelled, one a minute")
        projects.set_key_rate_limit(conn, key.id, RateLimit(1, 60))
    dsn = projects.dsn(shoal.url, key.public_key, shoal.project_id)
    # One of three sent at once is over a limit of one a minute, whatever the window's phase.
    replies = [tunnel(shoal, js_envelope(dsn)[1]) for _ in range(3)]
    refused = next(reply for reply in replies if reply.status == 429)
    retry_after = int(refused.headers["retry-after"])
    assert refused.headers["x-sentry-rate-limits"] == f"{retry_after}:default;error;security:key:key_quota"


def test_the_preflight_and_other_methods(shoal: RunningShoal) -> None:
    preflight = post(f"{shoal.url}/tunnel", b"", method="OPTIONS")
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "content-type" in preflight.headers["access-control-allow-headers"]
    assert post(f"{shoal.url}/tunnel", b"", method="GET").status == 405
