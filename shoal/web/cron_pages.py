"""A project's Crons pages: the monitors (schedule, worst status of their environments, last and
next check-in), one monitor's page (its configuration, its state per environment, its recent
check-ins as a timeline and a table, its failure issue), the form that creates a monitor or
changes one, muting, and deleting after a confirmation page.

Anyone who may see the project reads them; the organization's owners and admins change monitors,
as they change alert rules (`project_settings_pages.managed_project`). A monitor made here waits
for its first check-in before it can be missed, as in Sentry; SDKs and the HTTP endpoint also make
monitors by checking in (docs/crons.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK
from shoal.crons.schedule import INTERVAL_UNITS, InvalidConfig, MonitorConfig, config_from_json
from shoal.digest.check_ins import monitor_slug
from shoal.digest.monitor_check_ins import change_config, monitor_issue_hash
from shoal.digest.monitor_failures import failure_title
from shoal.store import issues, monitors
from shoal.store.db import write_transaction
from shoal.store.issues import IssueRow
from shoal.store.monitors import EnvironmentRow, MonitorRow
from shoal.store.projects import ProjectInfo
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render
from shoal.web.project_settings_pages import managed_project, visible

RECENT_CHECK_INS = 50
NUMBER_FIELDS = ("checkin_margin", "max_runtime", "failure_issue_threshold", "recovery_threshold")
FORM_FIELDS = (
    "slug",
    "schedule_type",
    "crontab",
    "interval_value",
    "interval_unit",
    "timezone",
    *NUMBER_FIELDS,
)
NOTICES = {
    "created": "Monitor created. It is missed only once it has checked in: send its first check-in.",
    "saved": "Monitor saved: its next check-in is due by the new schedule.",
    "deleted": "Monitor deleted, with its check-ins. Its issue stays in the issue list.",
    "muted": "Monitor muted: its failures still show here, but make no issue events and no alerts.",
    "unmuted": "Monitor unmuted: its next failure alerts through the project's rules again.",
}


def _list_path(project_id: int) -> str:
    return f"/projects/{project_id}/crons/"


def _monitor_path(project_id: int, monitor_id: int) -> str:
    return f"/projects/{project_id}/crons/{monitor_id}/"


# ----------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ListedMonitor:
    """A row of the Crons list: the monitor and what its environments add up to."""

    monitor: MonitorRow
    environments: list[EnvironmentRow]

    @property
    def status(self) -> str:
        return monitors.worst_status(self.environments)

    @property
    def last_checkin(self) -> float | None:
        return max((e.last_checkin for e in self.environments if e.last_checkin), default=None)

    @property
    def next_checkin(self) -> float | None:
        return min((e.next_checkin for e in self.environments if e.next_checkin), default=None)


def monitor_list(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = visible(conn, viewer, int(request.path_params["project_id"]))
        rows = monitors.project_monitors(conn, project.id)
        environments = monitors.monitor_environments(conn, [row.id for row in rows])
    context = {
        "project": project,
        "monitors": [ListedMonitor(row, environments[row.id]) for row in rows],
        "can_manage": viewer.can_manage(project.organization_id),
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "now": SYSTEM_CLOCK.now(),
    }
    return render(request, viewer, "crons.html", context)


def monitor_detail(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = visible(conn, viewer, int(request.path_params["project_id"]))
        found = _monitor(conn, request, project)
        environments = monitors.monitor_environments(conn, [found.id])[found.id]
        check_ins = monitors.recent_check_ins(conn, found.id, RECENT_CHECK_INS)
        failure_issue = _failure_issue(conn, found)
    context = {
        "project": project,
        "monitor": found,
        "status": monitors.worst_status(environments),
        "environments": environments,
        "check_ins": check_ins,
        "timeline": list(reversed(check_ins)),
        "failure_issue": failure_issue,
        "failure_title": failure_title(found.slug),
        "can_manage": viewer.can_manage(project.organization_id),
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "now": SYSTEM_CLOCK.now(),
        "ingest_url": str(request.base_url).rstrip("/"),
    }
    return render(request, viewer, "cron_monitor.html", context)


def _failure_issue(conn: Connection, found: MonitorRow) -> IssueRow | None:
    wanted = monitor_issue_hash(found)
    issue_id = issues.issues_by_hash(conn, found.project_id, [wanted]).get(wanted)
    return issues.get_issue(conn, issue_id) if issue_id is not None else None


def _monitor(conn: Connection, request: Request, project: ProjectInfo) -> MonitorRow:
    found = monitors.get_monitor(conn, int(request.path_params["monitor_id"]))
    if found is None or found.project_id != project.id:
        raise HTTPException(404, "No such monitor in this project.")
    return found


# ------------------------------------------------------------------------------ the form


def new_monitor(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
    defaults = form_values(MonitorConfig(None), "")
    return _render_form(
        request, viewer, project, found=None, values={**defaults, "schedule_type": "crontab"}, error=None
    )


def edit_monitor(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
        found = _monitor(conn, request, project)
    return _render_form(
        request, viewer, project, found=found, values=form_values(found.config, found.slug), error=None
    )


@form_post
def post_new_monitor(request: Request, viewer: Viewer, form: FormData) -> Response:
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
    values = {name: field(form, name) for name in FORM_FIELDS}
    slug = monitor_slug(values["slug"])
    config, error = config_from_form(values)
    if slug is None:
        error = "A monitor needs a slug: letters, digits, - and _, as the SDK's monitor_slug."
    if config is None or slug is None:
        return _render_form(request, viewer, project, found=None, values=values, error=error, status=400)
    with write_transaction(engine_of(request)) as conn:
        if monitors.monitor_by_slug(conn, project.id, slug) is not None:
            error = f"This project already has a monitor {slug}."
        else:
            created = monitors.create_monitor(conn, project.id, slug, config, SYSTEM_CLOCK.now())
    if error is not None:
        return _render_form(request, viewer, project, found=None, values=values, error=error, status=400)
    return see_other(f"{_monitor_path(project.id, created.id)}?notice=created")


@form_post
def post_edit_monitor(request: Request, viewer: Viewer, form: FormData) -> Response:
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
        found = _monitor(conn, request, project)
    values = {name: field(form, name) for name in FORM_FIELDS}
    config, error = config_from_form(values)
    if config is None:
        return _render_form(
            request,
            viewer,
            project,
            found=found,
            values={**values, "slug": found.slug},
            error=error,
            status=400,
        )
    with write_transaction(engine_of(request)) as conn:
        change_config(conn, _monitor(conn, request, project), config)
    return see_other(f"{_monitor_path(project.id, found.id)}?notice=saved")


@form_post
def post_mute_monitor(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Mute (no failure issue events, so no alerts; the status still shows) or unmute."""
    muted = field(form, "muted") == "1"
    with write_transaction(engine_of(request)) as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
        found = _monitor(conn, request, project)
        monitors.set_muted(conn, found.id, muted)
    return see_other(f"{_monitor_path(project.id, found.id)}?notice={'muted' if muted else 'unmuted'}")


def confirm_delete_monitor(request: Request) -> Response:
    """Ask before deleting: what goes with the monitor, and what stays."""
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
        found = _monitor(conn, request, project)
        check_ins = monitors.check_in_count(conn, found.id)
        failure_issue = _failure_issue(conn, found)
    context = {"project": project, "monitor": found, "check_ins": check_ins, "failure_issue": failure_issue}
    return render(request, viewer, "cron_monitor_delete.html", context)


@form_post
def post_delete_monitor(request: Request, viewer: Viewer, form: FormData) -> Response:
    with write_transaction(engine_of(request)) as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
        monitors.delete_monitor(conn, _monitor(conn, request, project).id)
    return see_other(f"{_list_path(project.id)}?notice=deleted")


def config_from_form(values: dict[str, str]) -> tuple[MonitorConfig | None, str | None]:
    """The configuration the form describes, in `monitor_config`'s terms, or why it cannot be used."""
    kind = values["schedule_type"]
    schedule: dict[str, Any] | None = None
    if kind == "crontab":
        schedule = {"type": "crontab", "value": values["crontab"]}
    elif kind == "interval":
        schedule = {"type": "interval", "value": values["interval_value"], "unit": values["interval_unit"]}
    data: dict[str, Any] = {
        "schedule": schedule,
        "timezone": values["timezone"] or None,
        **{name: values[name] or None for name in NUMBER_FIELDS},
    }
    try:
        return config_from_json(data, schedule_required=False), None
    except InvalidConfig as exc:
        return None, str(exc)


def form_values(config: MonitorConfig, slug: str) -> dict[str, str]:
    schedule = config.schedule
    kind = schedule.kind if schedule else "none"
    return {
        "slug": slug,
        "schedule_type": kind,
        "crontab": schedule.value if schedule and kind == "crontab" else "0 * * * *",
        "interval_value": schedule.value if schedule and kind == "interval" else "1",
        "interval_unit": schedule.unit if schedule and kind == "interval" else "hour",
        "timezone": config.timezone,
        "checkin_margin": str(config.checkin_margin),
        "max_runtime": str(config.max_runtime),
        "failure_issue_threshold": str(config.failure_issue_threshold),
        "recovery_threshold": str(config.recovery_threshold),
    }


def _render_form(
    request: Request,
    viewer: Viewer,
    project: ProjectInfo,
    *,
    found: MonitorRow | None,
    values: dict[str, str],
    error: str | None,
    status: int = 200,
) -> Response:
    context = {
        "project": project,
        "monitor": found,
        "values": values,
        "error": error,
        "units": INTERVAL_UNITS,
    }
    return render(request, viewer, "cron_monitor_edit.html", context, status=status)


_CRONS = "/projects/{project_id:int}/crons"
_MONITOR = _CRONS + "/{monitor_id:int}"
ROUTES: list[Route] = [
    Route(f"{_CRONS}/", monitor_list),
    Route(f"{_CRONS}/new", new_monitor),
    Route(f"{_CRONS}/new", post_new_monitor, methods=["POST"]),
    Route(f"{_MONITOR}/", monitor_detail),
    Route(f"{_MONITOR}/edit", edit_monitor),
    Route(f"{_MONITOR}/edit", post_edit_monitor, methods=["POST"]),
    Route(f"{_MONITOR}/mute", post_mute_monitor, methods=["POST"]),
    Route(f"{_MONITOR}/delete", confirm_delete_monitor),
    Route(f"{_MONITOR}/delete", post_delete_monitor, methods=["POST"]),
]
