"""Grouping in the UI: a project's grouping settings with rule validation and a dry run, regrouping,
merging issues and unmerging hashes.

Form posts read the form on the event loop and do the database work in Starlette's thread pool,
like the read-only pages, so ingest is never stalled by a regroup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shoal.digest.grouping import CONFIG_IDS
from shoal.digest.grouping.fingerprint_rules import parse_fingerprint_rules
from shoal.digest.grouping.rule_syntax import RuleSyntaxError
from shoal.digest.grouping.stacktrace_rules import parse_stacktrace_rules
from shoal.digest.issue_moves import CannotMove, merge_issues, unmerge_hashes
from shoal.digest.regroup import DryRunReport, dry_run, plan_regroup, regroup_project
from shoal.store import events, issues, projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.projects import ProjectGrouping, ProjectInfo
from shoal.web.auth import Viewer, check_csrf, current_viewer, engine_of, require_manager
from shoal.web.pages import render, visible_issue, visible_project

DRY_RUN_DAYS = 30


async def checked_form(request: Request, viewer: Viewer) -> FormData:
    """The posted form, once its CSRF token is the session's."""
    form = await request.form()
    if not check_csrf(viewer.csrf_token, form.get("csrf_token")):
        raise HTTPException(400, "Invalid form token.")
    return form


@dataclass(frozen=True)
class RuleErrors:
    fingerprint_rules: str | None = None
    stacktrace_rules: str | None = None
    config: str | None = None

    def __bool__(self) -> bool:
        return any((self.fingerprint_rules, self.stacktrace_rules, self.config))


async def grouping_settings(request: Request) -> Response:
    viewer = current_viewer(request)
    project_id = int(request.path_params["project_id"])
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, project_id)
    context: dict[str, Any] = {"project": project, "configs": CONFIG_IDS, "days": DRY_RUN_DAYS}
    if request.method == "GET":
        notice = request.query_params.get("notice")
        return render(
            request, viewer, "grouping.html", {**context, "settings": project.grouping, "notice": notice}
        )
    form = await checked_form(request, viewer)
    require_manager(viewer, project.organization_id)
    candidate = _settings_from(form)
    errors = validate(candidate)
    context.update(settings=candidate, errors=errors)
    if errors:
        return render(request, viewer, "grouping.html", context, status=400)
    if form.get("action") == "preview":
        days = _days(form.get("days"))
        report = await run_in_threadpool(_dry_run, request, project, candidate, days)
        return render(request, viewer, "grouping.html", {**context, "report": report, "days": days})
    with write_transaction(engine_of(request)) as conn:
        projects.set_project_grouping(conn, project.id, candidate)
    return RedirectResponse(f"/projects/{project.id}/grouping/?notice=saved", status_code=303)


def validate(settings: ProjectGrouping) -> RuleErrors:
    """Each rule text parsed as the digest will parse it; the first error of each, with its place."""
    return RuleErrors(
        fingerprint_rules=_syntax_error(parse_fingerprint_rules, settings.fingerprint_rules),
        stacktrace_rules=_syntax_error(parse_stacktrace_rules, settings.stacktrace_rules),
        config=None
        if settings.config_id in CONFIG_IDS
        else f"unknown grouping config {settings.config_id!r}",
    )


def _syntax_error(parse: Any, text: str) -> str | None:
    try:
        parse(text)
    except RuleSyntaxError as exc:
        return str(exc)
    return None


def _settings_from(form: FormData) -> ProjectGrouping:
    def field(name: str) -> str:
        value = form.get(name)
        # Browsers send CRLF line ends from a textarea; rules are stored with plain newlines.
        return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""

    return ProjectGrouping(field("config"), field("fingerprint_rules"), field("stacktrace_rules"))


def _days(value: object) -> int:
    return max(1, min(int(value), 365)) if isinstance(value, str) and value.isdigit() else DRY_RUN_DAYS


def _dry_run(request: Request, project: ProjectInfo, candidate: ProjectGrouping, days: int) -> DryRunReport:
    codec = PayloadCodec()
    with engine_of(request).connect() as conn:
        plan = plan_regroup(conn, codec, project.id, candidate, since=time.time() - days * 86400)
        return dry_run(plan, issues.count_issues(conn, project.id), events.events_per_issue(conn, project.id))


async def regroup(request: Request) -> Response:
    viewer = current_viewer(request)
    project_id = int(request.path_params["project_id"])
    await checked_form(request, viewer)
    moved = await run_in_threadpool(_regroup, request, viewer, project_id)
    return RedirectResponse(f"/projects/{project_id}/grouping/?notice=regrouped-{moved}", status_code=303)


def _regroup(request: Request, viewer: Any, project_id: int) -> int:
    codec = PayloadCodec()
    with write_transaction(engine_of(request)) as conn:
        project = visible_project(conn, viewer, project_id)
        require_manager(viewer, project.organization_id)
        return regroup_project(conn, codec, project.id, project.grouping)


async def merge(request: Request) -> Response:
    """Merge the selected issues into the one with the most events."""
    viewer = current_viewer(request)
    project_id = int(request.path_params["project_id"])
    form = await checked_form(request, viewer)
    issue_ids = [int(value) for value in form.getlist("issue") if isinstance(value, str) and value.isdigit()]
    if len(issue_ids) < 2:
        raise HTTPException(400, "Select at least two issues to merge.")
    target = await run_in_threadpool(_merge, request, viewer, project_id, issue_ids)
    return RedirectResponse(f"/issues/{target}/", status_code=303)


def _merge(request: Request, viewer: Any, project_id: int, issue_ids: list[int]) -> int:
    with write_transaction(engine_of(request)) as conn:
        visible_project(conn, viewer, project_id)
        chosen = [visible_issue(conn, viewer, issue_id)[0] for issue_id in issue_ids]
        if any(issue.project_id != project_id for issue in chosen):
            raise HTTPException(400, "Only issues of this project can be merged here.")
        target = max(chosen, key=lambda issue: (issue.times_seen, -issue.id))
        merge_issues(conn, PayloadCodec(), target.id, [issue.id for issue in chosen])
        return target.id


async def unmerge(request: Request) -> Response:
    """Split the selected hashes, and the events only they explain, off into a new issue."""
    viewer = current_viewer(request)
    issue_id = int(request.path_params["issue_id"])
    form = await checked_form(request, viewer)
    hashes = [value for value in form.getlist("hash") if isinstance(value, str)]
    new_issue = await run_in_threadpool(_unmerge, request, viewer, issue_id, hashes)
    return RedirectResponse(f"/issues/{new_issue}/", status_code=303)


def _unmerge(request: Request, viewer: Any, issue_id: int, hashes: list[str]) -> int:
    with write_transaction(engine_of(request)) as conn:
        visible_issue(conn, viewer, issue_id)
        try:
            return unmerge_hashes(conn, PayloadCodec(), issue_id, hashes)
        except CannotMove as exc:
            raise HTTPException(400, str(exc)) from exc
