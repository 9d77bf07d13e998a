"""Release health from the real sentry-sdk, in its own process, against `shoal run` on SQLite and
PostgreSQL: request mode (a Starlette app served by uvicorn, sessions per request, sent
pre-aggregated) and application mode (`start_session`/`end_session`, one update per session).
The release page shows the crash-free rates the requests and sessions make."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from shoal.store import session_stats
from tests.support.server import RunningShoal, wait_until
from tests.support.web_client import WebClient

REQUESTS, FAILING = 20, 3

REQUEST_MODE_APP = textwrap.dedent(
    """
    import socket, sys, threading, urllib.error, urllib.request

    import sentry_sdk
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    requests, failing = int(sys.argv[2]), int(sys.argv[3])
    sentry_sdk.init(dsn=sys.argv[1], release="shop@2.0.0", environment="production",
                    auto_session_tracking=True)

    async def ok(request):
        return PlainTextResponse("ok")

    async def broken(request):
        raise RuntimeError("the basket is gone")

    app = Starlette(routes=[Route("/ok", ok), Route("/broken", broken)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        threading.Event().wait(0.01)

    statuses = []
    for i in range(requests):
        path = "/broken" if i < failing else "/ok"
        try:
            statuses.append(urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    print("statuses", sorted(statuses))
    server.should_exit = True
    sentry_sdk.flush(timeout=10)
    """
)

APPLICATION_MODE_SCRIPT = textwrap.dedent(
    """
    import sys

    import sentry_sdk
    from sentry_sdk.utils import event_from_exception

    sentry_sdk.init(dsn=sys.argv[1], release="desk@1.0.0", environment="staging",
                    auto_session_tracking=False)
    client = sentry_sdk.get_client()

    def run(user, outcome):
        sentry_sdk.set_user({"id": user})
        sentry_sdk.start_session()
        try:
            raise ValueError("bad input")
        except ValueError:
            if outcome == "errored":
                sentry_sdk.capture_exception()
            elif outcome == "crashed":
                # What the excepthook integration sends for an uncaught exception.
                event, hint = event_from_exception(
                    sys.exc_info(), client.options, mechanism={"type": "excepthook", "handled": False}
                )
                sentry_sdk.capture_event(event, hint=hint)
        sentry_sdk.end_session()

    for user, outcome in [("ann", "healthy"), ("ann", "crashed"), ("bob", "errored"),
                          ("bob", "healthy"), ("cy", "healthy"), ("dee", "crashed")]:
        run(user, outcome)
    sentry_sdk.flush(timeout=10)
    """
)


def run_script(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120, check=False
    )


def wait_for_health(shoal: RunningShoal, release: str, sessions: int) -> session_stats.ReleaseHealth:
    def arrived() -> bool:
        with shoal.engine.connect() as conn:
            found = session_stats.release_health(conn, shoal.project_id, release)
        return found is not None and found.total.started >= sessions

    wait_until(arrived, 60, f"{sessions} sessions of {release}", shoal.process, shoal.output)
    with shoal.engine.connect() as conn:
        found = session_stats.release_health(conn, shoal.project_id, release)
    assert found is not None
    return found


def shown_rate(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"><dt>[^<]+</dt><dd class="count">([^<]+)</dd>', html)
    assert match, f"no {element_id} on the page"
    return match[1].strip()


def test_request_mode_crash_free_rate_is_the_share_of_requests_that_did_not_fail(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    result = run_script(REQUEST_MODE_APP, shoal.dsn, str(REQUESTS), str(FAILING))
    assert result.returncode == 0, result.stderr
    assert f"statuses {[200] * (REQUESTS - FAILING) + [500] * FAILING}" in result.stdout
    health = wait_for_health(shoal, "shop@2.0.0", REQUESTS)
    # An unhandled error in a request marks its session crashed (sentry-python's
    # _update_session_from_event: mechanism.handled is false), so crash-free = (N - K) / N.
    total = health.total
    assert (total.started, total.healthy, total.errored, total.crashed, total.abnormal) == (20, 17, 0, 3, 0)
    assert total.crash_free_sessions == pytest.approx((REQUESTS - FAILING) / REQUESTS)
    assert total.crash_free_users is None  # request mode aggregates carry no user

    client = WebClient(shoal)
    client.log_in()
    page = client.get(f"/projects/{shoal.project_id}/releases/shop@2.0.0/")
    assert shown_rate(page, "crash-free-sessions") == "85.00 %"
    listing = client.get(f"/projects/{shoal.project_id}/releases/")
    assert '<td class="num crash-free">85.00 %</td>' in listing


def test_application_mode_sessions_give_session_and_user_rates(shoal_on_each_store: RunningShoal) -> None:
    shoal = shoal_on_each_store
    result = run_script(APPLICATION_MODE_SCRIPT, shoal.dsn)
    assert result.returncode == 0, result.stderr
    health = wait_for_health(shoal, "desk@1.0.0", 6)
    total = health.total
    assert (total.started, total.healthy, total.errored, total.crashed) == (6, 3, 1, 2)
    assert total.crash_free_sessions == pytest.approx(4 / 6)
    # ann and dee crashed once; bob and cy never did.
    assert (total.users, total.crashed_users) == (4, 2)
    assert [e.environment for e in health.environments] == ["staging"]

    client = WebClient(shoal)
    client.log_in()
    page = client.get(f"/projects/{shoal.project_id}/releases/desk@1.0.0/")
    assert shown_rate(page, "crash-free-sessions") == "66.66 %"
    assert shown_rate(page, "crash-free-users") == "50.00 %"
