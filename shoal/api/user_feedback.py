"""Sentry's deprecated user feedback endpoint, `POST /api/0/projects/{org}/{project}/user-feedback/`
with `{"event_id", "name", "email", "comments"}`, still used by older SDKs' crash dialogs and by
scripts (docs.sentry.io, "Submit User Feedback"; docs/feedback.md).

The split: the endpoint is an `/api/0/` route, so it lives here, where token auth lives; it takes
the two credentials Sentry's docs allow — a bearer token with `project:write` (or admin), or the
project's DSN as `Authorization: DSN <dsn>` — and checks the DSN against the store's project keys,
not ingest's key cache, since the API never imports ingest (CONTRIBUTING.md). What it accepts it
does not store itself: it becomes an envelope holding one `user_report` item, appended to the spool
before the answer, as every ingest path does, so the digest stores, scrubs, links and counts it
exactly as the same item sent by an SDK (shoal/digest/feedback.py). In Sentry the report is saved
by the web API, not Relay, so no ingest quota applies to it here either.

The answer is Sentry's: 200 with the report as JSON. The report is not stored yet when it is
given, so its `id` is its event id (a project keeps one report per event) and `issue` is null.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth
from shoal.api.errors import FORBIDDEN, NOT_PROVIDED, ApiError, invalid, not_found
from shoal.api.json_io import json_object, json_response
from shoal.api.paths import PROJECT
from shoal.api.projects import url_project
from shoal.clock import iso_utc
from shoal.event_ids import parse_event_id
from shoal.spool.base import SpoolEntry
from shoal.spool.group_commit import SpoolFull
from shoal.store import projects
from shoal.store.url_projects import project_in_url

SpoolAppend = Callable[[SpoolEntry], Awaitable[None]]
WRITE_FEEDBACK = frozenset({"project:write", "project:admin"})
INVALID_DSN = "Invalid dsn"
_FIELDS = ("event_id", "name", "email", "comments")


@dataclass(frozen=True, slots=True)
class _Sender:
    project_id: int
    key_id: int  # the DSN's key, for the report's outcome; 0 for a token


async def submit_feedback(request: Request) -> Response:
    sender = await run_in_threadpool(_sender, request)
    report = _report(await json_object(request))
    limit = request.app.state.config.max_event_bytes
    if len(orjson.dumps(report)) > limit:  # what ingest allows a user_report item
        raise ApiError(413, {"detail": f"The feedback is larger than {limit} bytes."})
    received = time.time()
    await _spool(request, _entry(sender, report, received, request))
    return json_response(_report_json(report, received))


def _sender(request: Request) -> _Sender:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "dsn":
        return _dsn_sender(request, credentials.strip())
    owner = auth.token_owner(request)  # a missing or unknown bearer token: 401
    with auth.engine_of(request).connect() as conn:
        project = url_project(conn, owner, request)
    auth.require_scope(owner, WRITE_FEEDBACK)
    return _Sender(project.id, 0)


def _dsn_sender(request: Request, dsn: str) -> _Sender:
    """The DSN's project, when its key is known and enabled (else 401, as an unknown token is) and
    the project is the one the URL names (else 403)."""
    public_key, dsn_project = _dsn_parts(dsn)
    params = request.path_params
    with auth.engine_of(request).connect() as conn:
        key = projects.find_key(conn, public_key)
        if key is None or not key.enabled or key.project_id != dsn_project:
            raise ApiError(401, {"detail": INVALID_DSN})
        project = project_in_url(conn, params["org_slug"], params["project_slug"])
    if project is None:
        raise not_found()
    if project.id != key.project_id:
        raise ApiError(403, {"detail": FORBIDDEN})
    return _Sender(project.id, key.id)


def _dsn_parts(dsn: str) -> tuple[str, int]:
    """The public key and project id of `https://<key>@<host>/<project id>`."""
    if not dsn:
        raise ApiError(401, {"detail": NOT_PROVIDED})
    try:
        parts = urlsplit(dsn)
        project = parts.path.rstrip("/").rsplit("/", 1)[-1]
    except ValueError:
        raise ApiError(401, {"detail": INVALID_DSN}) from None
    key = (parts.username or "").lower()
    if len(key) != 32 or not key.isalnum() or not key.isascii() or not project.isdigit():
        raise ApiError(401, {"detail": INVALID_DSN})
    return key, int(project)


def _report(body: dict[str, Any]) -> dict[str, str]:
    """The four fields, each required and a string (DRF's messages); the event id canonical,
    the comments not blank."""
    errors: dict[str, str] = {}
    report: dict[str, str] = {}
    for name in _FIELDS:
        value = body.get(name)
        if value is None:
            errors[name] = "This field is required."
        elif not isinstance(value, str):
            errors[name] = "Not a valid string."
        else:
            report[name] = value
    if "event_id" in report and parse_event_id(report["event_id"]) is None:
        errors["event_id"] = "Enter a valid event id: 32 hexadecimal digits or a UUID."
    if "comments" in report and not report["comments"].strip():
        errors["comments"] = "This field may not be blank."
    if errors:
        raise invalid(errors)
    event_id = parse_event_id(report["event_id"])
    assert event_id is not None  # checked above
    return {**report, "event_id": event_id}


def _entry(sender: _Sender, report: dict[str, str], received: float, request: Request) -> SpoolEntry:
    """The report as an SDK would send it: an envelope whose header names its event, with one
    `user_report` item (protocol.md §3)."""
    payload = orjson.dumps(report)
    header = orjson.dumps({"event_id": report["event_id"]})
    item = orjson.dumps({"type": "user_report", "content_type": "application/json", "length": len(payload)})
    return SpoolEntry(
        project_id=sender.project_id,
        kind="envelope",
        received_at=received,
        event_id=report["event_id"],
        client_ip=request.client.host if request.client else None,
        content_encoding="",
        body=b"\n".join((header, item, payload)) + b"\n",
        key_id=sender.key_id,
    )


async def _spool(request: Request, entry: SpoolEntry) -> None:
    """Durable before the 200, as ingest's answers are: a 503 says it was not kept."""
    append: SpoolAppend = request.app.state.spool_append
    try:
        await append(entry)
    except SpoolFull:
        raise ApiError(503, {"detail": "Cannot queue the feedback now; the disk is behind."}) from None
    except Exception:
        raise ApiError(503, {"detail": "Cannot queue the feedback now."}) from None


def _report_json(report: dict[str, str], received: float) -> dict[str, Any]:
    event_id = report["event_id"]
    return {
        "id": event_id,
        "eventID": event_id,
        "name": report["name"],
        "email": report["email"],
        "comments": report["comments"],
        "dateCreated": iso_utc(received),
        "user": None,
        "event": {"id": event_id, "eventID": event_id},
        "issue": None,
    }


ROUTES = [Route(f"{PROJECT}/user-feedback/", submit_feedback, methods=["POST"])]
