"""Cron monitors, as Sentry's API serves them (docs/crons.md): `GET /api/0/organizations/{org}/monitors/`
(the organization's, optionally `?project=<id>` and `?environment=<name>`, each repeatable),
`.../monitors/{slug}/` and `.../monitors/{slug}/checkins/` (newest first, optionally
`?environment=`), paginated with Sentry's cursors.

The fields are Sentry's: a monitor has its `config` in `monitor_config`'s terms, `isMuted`, and an
entry per environment with its status and its last and next check-in; a check-in has its
`duration` in milliseconds and its id as a UUID. Reads need a scope among READ_PROJECTS, and a
plain member's personal token sees only the monitors of the projects it may see
(`projects.visible_projects`). Slugs are unique per project here, not per organization as in
Sentry: a slug two projects use names the first visible one, unless `?project=` says which.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, pagination
from shoal.api.errors import bad_request, not_found
from shoal.api.json_io import json_response
from shoal.api.paths import ORGANIZATION
from shoal.api.projects import READ_PROJECTS, project_summary, visible_projects
from shoal.clock import iso_utc
from shoal.crons.schedule import MonitorConfig
from shoal.store import monitors, tokens
from shoal.store.monitors import CheckInRow, EnvironmentRow, MonitorRow
from shoal.store.projects import ProjectInfo
from shoal.store.tokens import TokenOwner
from shoal.store.url_projects import row_id


async def monitor_list(request: Request) -> Response:
    return await run_in_threadpool(_list, request)


async def monitor_detail(request: Request) -> Response:
    return await run_in_threadpool(_detail, request)


async def monitor_check_ins(request: Request) -> Response:
    return await run_in_threadpool(_check_ins, request)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    wanted_environments = set(request.query_params.getlist("environment"))
    with auth.engine_of(request).connect() as conn:
        chosen = _projects(conn, request, owner)
        found = [(project, m) for project in chosen for m in monitors.project_monitors(conn, project.id)]
        environments = monitors.monitor_environments(conn, [m.id for _, m in found])
        if wanted_environments:
            found = [
                (project, m)
                for project, m in found
                if any(e.environment in wanted_environments for e in environments[m.id])
            ]
        start, page = pagination.offset_page(cursor, per_page, len(found))
        body = [monitor_json(p, m, environments[m.id]) for p, m in found[start : start + per_page]]
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def _detail(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        project, found = _url_monitor(conn, request, owner)
        environments = monitors.monitor_environments(conn, [found.id])[found.id]
    return json_response(monitor_json(project, found, environments))


def _check_ins(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    start = cursor.offset if cursor else 0
    with auth.engine_of(request).connect() as conn:
        _, found = _url_monitor(conn, request, owner)
        rows = monitors.check_ins_page(
            conn, found.id, request.query_params.getlist("environment"), start, per_page + 1
        )
    _, page = pagination.offset_page(cursor, per_page, start + len(rows))
    body = [check_in_json(row, found.config) for row in rows[:per_page]]
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def _projects(conn: Connection, request: Request, owner: TokenOwner) -> list[ProjectInfo]:
    """The organization's projects the token may see, narrowed to `?project=` ids if given."""
    organization_id = tokens.reachable_organization(conn, owner, request.path_params["org_slug"])
    if organization_id is None:
        raise not_found()
    auth.require_scope(owner, READ_PROJECTS)
    found = visible_projects(conn, owner, organization_id)
    wanted = [value for value in request.query_params.getlist("project") if value != "-1"]
    if not wanted:  # -1 or none: every project, as Sentry's organization endpoints take it
        return found
    ids = {row_id(value) for value in wanted}
    if None in ids:
        raise bad_request("Invalid project parameter.")
    return [project for project in found if project.id in ids]


def _url_monitor(conn: Connection, request: Request, owner: TokenOwner) -> tuple[ProjectInfo, MonitorRow]:
    slug = request.path_params["monitor_slug"]
    if "\x00" in slug:  # names nothing, and PostgreSQL would refuse to compare it
        raise not_found()
    for project in _projects(conn, request, owner):
        found = monitors.monitor_by_slug(conn, project.id, slug)
        if found is not None:
            return project, found
    raise not_found()


# ------------------------------------------------------------------------------------- JSON


def monitor_json(
    project: ProjectInfo, found: MonitorRow, environments: list[EnvironmentRow]
) -> dict[str, Any]:
    return {
        "id": str(found.id),
        "slug": found.slug,
        "name": found.slug,
        "type": "cron_job",
        "status": "active",  # Sentry's "disabled" has no counterpart here: a monitor always checks
        "isMuted": found.muted,
        "config": config_json(found.config),
        "dateCreated": iso_utc(found.created_at),
        "project": project_summary(project),
        "environments": [_environment_json(found, e) for e in environments],
        "owner": None,
    }


def _environment_json(found: MonitorRow, place: EnvironmentRow) -> dict[str, Any]:
    return {
        "name": place.environment,
        "status": place.status,
        "isMuted": found.muted,
        "dateCreated": iso_utc(place.created_at),
        "lastCheckIn": iso_utc(place.last_checkin),
        "nextCheckIn": iso_utc(place.next_checkin),
        "nextCheckInLatest": iso_utc(place.next_checkin_latest),
    }


def config_json(config: MonitorConfig) -> dict[str, Any]:
    """In `monitor_config`'s terms, as Sentry writes it: an interval is `[count, unit]`."""
    schedule = config.schedule
    value: str | list[Any] | None = None
    if schedule is not None:
        value = schedule.value if schedule.kind == "crontab" else [int(schedule.value), schedule.unit]
    return {
        "schedule_type": schedule.kind if schedule else None,
        "schedule": value,
        "checkin_margin": config.checkin_margin,
        "max_runtime": config.max_runtime,
        "timezone": config.timezone,
        "failure_issue_threshold": config.failure_issue_threshold,
        "recovery_threshold": config.recovery_threshold,
    }


def check_in_json(row: CheckInRow, config: MonitorConfig) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(row.check_in_id)),
        "environment": row.environment,
        "status": row.status,
        "duration": round(row.duration * 1000) if row.duration is not None else None,
        "dateCreated": iso_utc(row.date_added),
        "dateAdded": iso_utc(row.date_added),
        "dateUpdated": iso_utc(row.date_updated),
        "expectedTime": iso_utc(row.expected_at),
        "monitorConfig": config_json(config),
    }


_MONITORS = ORGANIZATION + "/monitors/"
ROUTES = [
    Route(_MONITORS, monitor_list),
    Route(_MONITORS + "{monitor_slug}/", monitor_detail),
    Route(_MONITORS + "{monitor_slug}/checkins/", monitor_check_ins),
]
