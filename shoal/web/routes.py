"""The web UI's routes, and the Starlette application that serves them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import Lifespan

from shoal.web import (
    account_pages,
    alert_pages,
    attachment_download,
    auth,
    channel_pages,
    cron_pages,
    discard_pages,
    event_download,
    feedback_pages,
    filter_pages,
    grouping_pages,
    pages,
    performance_pages,
    project_pages,
    quota_pages,
    release_pages,
    stats_pages,
    stream_pages,
    team_pages,
    token_pages,
    triage_pages,
)
from shoal.web.auth import LoginRequired, engine_of

_STATIC = Path(__file__).parent / "static"


def health(request: Request) -> Response:
    """200 when the server answers and its store does; 503 otherwise."""
    try:
        with engine_of(request).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_web_app(lifespan: Lifespan[Starlette]) -> Starlette:
    routes = [
        Route("/_health", health),
        Route("/login", account_pages.login, methods=["GET", "POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/projects/{project_id:int}/issues/merge", grouping_pages.merge, methods=["POST"]),
        Route(
            "/projects/{project_id:int}/grouping/", grouping_pages.grouping_settings, methods=["GET", "POST"]
        ),
        Route("/projects/{project_id:int}/grouping/regroup", grouping_pages.regroup, methods=["POST"]),
        Route("/issues/{issue_id:int}/", pages.issue_detail),
        Route("/issues/{issue_id:int}/events/", pages.event_list),
        Route("/issues/{issue_id:int}/unmerge", grouping_pages.unmerge, methods=["POST"]),
        Route("/issues/{issue_id:int}/events/{event_id:str}/", pages.issue_detail),
        *event_download.ROUTES,
        *attachment_download.ROUTES,
        *feedback_pages.ROUTES,
        *project_pages.ROUTES,
        *account_pages.ROUTES,
        *team_pages.ROUTES,
        *token_pages.ROUTES,
        *stream_pages.ROUTES,
        *release_pages.ROUTES,
        *cron_pages.ROUTES,
        *quota_pages.ROUTES,
        *performance_pages.ROUTES,
        *filter_pages.ROUTES,
        *stats_pages.ROUTES,
        *discard_pages.ROUTES,
        *triage_routes(),
        *alert_routes(),
        *channel_routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=_exception_handlers())
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    return app


def triage_routes() -> list[Route]:
    post = ["POST"]
    return [
        Route("/projects/{project_id:int}/issues/bulk", triage_pages.bulk, methods=post),
        Route("/issues/{issue_id:int}/resolve", triage_pages.resolve, methods=post),
        Route("/issues/{issue_id:int}/ignore", triage_pages.ignore, methods=post),
        Route("/issues/{issue_id:int}/unresolve", triage_pages.unresolve, methods=post),
        Route("/issues/{issue_id:int}/assign", triage_pages.assign, methods=post),
        Route("/issues/{issue_id:int}/comment", triage_pages.comment, methods=post),
    ]


def alert_routes() -> list[Route]:
    rules = "/projects/{project_id:int}/alerts"
    rule = rules + "/{rule_id:int}"
    return [
        Route(f"{rules}/", alert_pages.rule_list),
        Route(f"{rules}/new", alert_pages.new_rule),
        Route(f"{rules}/new", alert_pages.post_new_rule, methods=["POST"]),
        Route(f"{rule}/", alert_pages.rule_detail),
        Route(f"{rule}/edit", alert_pages.edit_rule),
        Route(f"{rule}/edit", alert_pages.post_edit_rule, methods=["POST"]),
        Route(f"{rule}/status", alert_pages.set_status, methods=["POST"]),
        Route(f"{rule}/delete", alert_pages.confirm_delete),
        Route(f"{rule}/delete", alert_pages.delete, methods=["POST"]),
    ]


def channel_routes() -> list[Route]:
    channels = "/organizations/{organization_id:int}/channels"
    channel = channels + "/{channel_id:int}"
    return [
        Route("/channels/", channel_pages.my_channels),
        Route(f"{channels}/", channel_pages.channel_list),
        Route(f"{channels}/new", channel_pages.new_channel),
        Route(f"{channels}/new", channel_pages.post_new_channel, methods=["POST"]),
        Route(f"{channel}/edit", channel_pages.edit_channel),
        Route(f"{channel}/edit", channel_pages.post_edit_channel, methods=["POST"]),
        Route(f"{channel}/enable", channel_pages.enable, methods=["POST"]),
        Route(f"{channel}/test", channel_pages.send_test_notification, methods=["POST"]),
        Route(f"{channel}/delete", channel_pages.confirm_delete),
        Route(f"{channel}/delete", channel_pages.delete, methods=["POST"]),
    ]


def _exception_handlers() -> dict[type[Exception] | int, Callable[..., Response]]:
    def login_required(request: Request, _exc: Exception) -> Response:
        return auth.redirect_to_login(request)

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return PlainTextResponse(exc.detail, status_code=exc.status_code)

    return {LoginRequired: login_required, HTTPException: http_error}
