"""The quota pages: an organization's quotas (`/organizations/{id}/quotas/`) and a project's
(`/projects/{id}/settings/quotas/`), each quota with what its window counted so far; on the
project's page also its keys' rate limits and spike protection with the hourly limit it computes
now, and what ingest refused in the last 24 hours. The chapter's plan is a one-click preset.

Ingest enforces all of it (shoal/ingest/limits.py, docs/quotas.md). The counts shown are the
store's, which every web process adds to every few seconds, so they lag ingest by that much.

Anyone who may see the organization or project reads the pages; owners and admins change them.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.outcomes import KEY_QUOTA, ORG_QUOTA, PROJECT_QUOTA, SPIKE_PROTECTION
from shoal.store import projects, quota_usage, quotas, users
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectKey
from shoal.store.quotas import Quota, SpikeProtection
from shoal.web.auth import Viewer, current_viewer, engine_of, require_manager
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render
from shoal.web.project_settings_pages import KEY_CACHE_SECONDS, managed_project, visible

# shoal.ingest.limits.POLICY_SECONDS (web never imports ingest; a test checks the two agree).
POLICY_SECONDS = 10
# shoal.ingest.limits.FLUSH_SECONDS, likewise.
FLUSH_SECONDS = 2
WINDOW_WORDS = {"minute": "a minute", "hour": "an hour", "day": "a day", "month": "a month"}
CATEGORY_WORDS = {
    "error": "errors",
    "transaction": "transactions",
    "attachment": "attachment bytes",
    "session": "sessions",
    "monitor": "cron check-ins",
    "feedback": "user feedback",
}
REASON_WORDS = {
    KEY_QUOTA: "key rate limit",
    PROJECT_QUOTA: "project quota",
    ORG_QUOTA: "organization quota",
    SPIKE_PROTECTION: "spike protection",
}
_APPLIES = f"Ingest applies it within {POLICY_SECONDS} seconds."
NOTICES = {
    "quota-saved": f"The quota was saved. {_APPLIES}",
    "quota-deleted": f"The quota was removed. {_APPLIES}",
    "preset-applied": f"The plan's quotas were set: 5,000 errors and 10,000 transactions a month. {_APPLIES}",
    "spike-saved": f"Spike protection was saved. {_APPLIES}",
    "spike-off": f"Spike protection is off: only quotas and key rate limits apply. {_APPLIES}",
}
DAY_HOURS = 24


def _org_path(organization_id: int) -> str:
    return f"/organizations/{organization_id}/quotas/"


def _project_path(project_id: int) -> str:
    return f"/projects/{project_id}/settings/quotas/"


# ---------------------------------------------------------------------------- the two pages


def my_quotas(request: Request) -> Response:
    """/quotas/: the quotas page of the viewer's first organization."""
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        candidates = viewer.organization_ids or projects.organization_ids(conn)
    if not candidates:
        raise HTTPException(404, "You are not a member of any organization.")
    return see_other(_org_path(min(candidates)))


def organization_quotas_page(request: Request) -> Response:
    viewer = current_viewer(request)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _render_organization(request, viewer, int(request.path_params["organization_id"]), notice=notice)


def _render_organization(
    request: Request,
    viewer: Viewer,
    organization_id: int,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    now = time.time()
    with engine_of(request).connect() as conn:
        _check_organization(conn, viewer, organization_id)
        found = quotas.with_usage(conn, quotas.organization_quotas(conn, organization_id), now)
        shown = [p for p in projects.list_projects(conn) if p.organization_id == organization_id]
        context: dict[str, Any] = {
            "organization_id": organization_id,
            "organization_name": users.organization_name(conn, organization_id),
            "quotas": found,
            "projects": [
                (p, len(quotas.project_quotas(conn, p.id)), quotas.spike_protection(conn, p.id))
                for p in shown
                if viewer.can_see_project(p)
            ],
        }
    return render(
        request,
        viewer,
        "quotas.html",
        {**context, **_form_context(viewer, organization_id, notice, errors, values)},
        status=status,
    )


def project_quotas_page(request: Request) -> Response:
    viewer = current_viewer(request)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _render_project(request, viewer, int(request.path_params["project_id"]), notice=notice)


def _render_project(
    request: Request,
    viewer: Viewer,
    project_id: int,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    now = time.time()
    with engine_of(request).connect() as conn:
        project = visible(conn, viewer, project_id)
        spike = quotas.spike_protection(conn, project.id)
        hour_start = int(now // 3600) * 3600
        context: dict[str, Any] = {
            "project": project,
            "quotas": quotas.with_usage(conn, quotas.project_quotas(conn, project.id), now),
            "organization_quotas": quotas.with_usage(
                conn, quotas.organization_quotas(conn, project.organization_id), now
            ),
            "keys": _key_limits(conn, projects.list_keys(conn, project.id), now),
            "spike": spike,
            "spike_limits": _spike_rows(conn, project.id, spike, hour_start),
            "spike_resets_at": hour_start + 3600,
            "refused": quotas.rate_limited_since(conn, project.id, hour_start // 3600 - DAY_HOURS + 1),
            "reason_words": REASON_WORDS,
            "key_cache_seconds": KEY_CACHE_SECONDS,
            "spike_defaults": SpikeProtection(),
        }
    return render(
        request,
        viewer,
        "project_quotas.html",
        {**context, **_form_context(viewer, project.organization_id, notice, errors, values)},
        status=status,
    )


def _form_context(
    viewer: Viewer,
    organization_id: int,
    notice: str | None,
    errors: dict[str, str] | None,
    values: dict[str, str] | None,
) -> dict[str, Any]:
    return {
        "can_manage": viewer.can_manage(organization_id),
        "notice": notice,
        "errors": errors or {},
        "values": values or {},
        "categories": CATEGORY_WORDS,
        "windows": WINDOW_WORDS,
        "preset": quotas.PLAN_PRESET,
        "flush_seconds": FLUSH_SECONDS,
    }


def _check_organization(conn: Connection, viewer: Viewer, organization_id: int) -> None:
    if not projects.organization_exists(conn, organization_id) or not viewer.can_see(organization_id):
        raise HTTPException(404, "No such organization.")


def _key_limits(conn: Connection, keys: list[ProjectKey], now: float) -> list[tuple[ProjectKey, int, int]]:
    """Each key with a rate limit, with what its current window counted and when it ends."""
    counters = {
        key.id: quota_usage.current_key("key", key.id, "error", f"{key.rate_limit.window}s", now)
        for key in keys
        if key.rate_limit
    }
    totals = quota_usage.shown_usage(conn, counters.values())
    return [
        (key, totals.get(counter, 0), quota_usage.window_bounds(counter.window, key.id, now)[1])
        for key in keys
        if (counter := counters.get(key.id)) is not None
    ]


def _spike_rows(
    conn: Connection, project_id: int, spike: SpikeProtection, hour_start: int
) -> list[tuple[quotas.SpikeLimit, int]]:
    """Spike protection's limit of each category for this hour, with what this hour counted."""
    limits = quotas.spike_limits(conn, project_id, spike, hour_start)
    counters = {
        limit.category: quota_usage.UsageKey("project", project_id, limit.category, "hour", hour_start)
        for limit in limits
    }
    totals = quota_usage.shown_usage(conn, counters.values())
    return [(limit, totals.get(counters[limit.category], 0)) for limit in limits]


# ------------------------------------------------------------------------------------ changes


@form_post
def post_organization_quotas(request: Request, viewer: Viewer, form: FormData) -> Response:
    """`action` = set (add or change one quota), preset (the chapter's plan) or delete."""
    organization_id = int(request.path_params["organization_id"])
    with engine_of(request).connect() as conn:
        _check_organization(conn, viewer, organization_id)
    require_manager(viewer, organization_id)
    problem = _change(request, form, organization_id, None)
    if isinstance(problem, dict):
        values = {name: field(form, name) for name in ("category", "window", "limit")}
        return _render_organization(
            request, viewer, organization_id, errors=problem, values=values, status=400
        )
    return see_other(f"{_org_path(organization_id)}?notice={problem}")


@form_post
def post_project_quotas(request: Request, viewer: Viewer, form: FormData) -> Response:
    """The same for the project's own quotas."""
    project_id = int(request.path_params["project_id"])
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, project_id)
    problem = _change(request, form, project.organization_id, project.id)
    if isinstance(problem, dict):
        values = {name: field(form, name) for name in ("category", "window", "limit")}
        return _render_project(request, viewer, project.id, errors=problem, values=values, status=400)
    return see_other(f"{_project_path(project.id)}?notice={problem}#quotas")


def _change(
    request: Request, form: FormData, organization_id: int, project_id: int | None
) -> str | dict[str, str]:
    """Make the change the form asks for: the notice's code, or the problems by field."""
    action = field(form, "action")
    if action == "preset":
        with write_transaction(engine_of(request)) as conn:
            quotas.apply_plan_preset(conn, organization_id, project_id)
        return "preset-applied"
    if action == "delete":
        _delete(request, form, organization_id, project_id)
        return "quota-deleted"
    if action != "set":
        raise HTTPException(400, "Press Save quota, Remove or the plan's preset.")
    category, window, limit = field(form, "category"), field(form, "window"), field(form, "limit")
    errors = quota_errors(category, window, limit)
    if errors:
        return errors
    with write_transaction(engine_of(request)) as conn:
        quotas.set_quota(
            conn, organization_id, project_id, category=category, window=window, limit=int(limit)
        )
    return "quota-saved"


def _delete(request: Request, form: FormData, organization_id: int, project_id: int | None) -> None:
    quota_id = field(form, "quota_id")
    with write_transaction(engine_of(request)) as conn:
        number = whole_number(quota_id, 1, 2**62)
        found = quotas.get_quota(conn, number) if number is not None else None
        if found is None or not _belongs(found, organization_id, project_id):
            raise HTTPException(404, "No such quota here (it may have been removed already).")
        quotas.delete_quota(conn, found.id)


def _belongs(found: Quota, organization_id: int, project_id: int | None) -> bool:
    return found.organization_id == organization_id and found.project_id == project_id


def quota_errors(category: str, window: str, limit: str) -> dict[str, str]:
    errors = {}
    if category not in quotas.CATEGORIES:
        errors["category"] = "Choose what the quota counts."
    if window not in quotas.WINDOWS:
        errors["window"] = "Choose a minute, an hour, a day or a month."
    if whole_number(limit, 0, quotas.MAX_LIMIT) is None:
        errors["limit"] = f"A whole number from 0 to {quotas.MAX_LIMIT:,} (0 refuses everything)."
    return errors


def whole_number(text: str, least: int, most: int) -> int | None:
    """The number typed, if it is one from `least` to `most` in ASCII digits ("٣" and "²" pass
    str.isdigit, and the second fails int())."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(most)):
        return None
    value = int(text)
    return value if least <= value <= most else None


@form_post
def post_spike_protection(request: Request, viewer: Viewer, form: FormData) -> Response:
    """On or off, with its floor and multiplier."""
    project_id = int(request.path_params["project_id"])
    with engine_of(request).connect() as conn:
        managed_project(conn, viewer, project_id)
    settings, errors = spike_settings_from(form)
    if settings is None:
        values = {name: field(form, name) for name in ("floor", "multiplier")}
        return _render_project(request, viewer, project_id, errors=errors, values=values, status=400)
    with write_transaction(engine_of(request)) as conn:
        quotas.set_spike_protection(conn, project_id, settings)
    notice = "spike-saved" if settings.enabled else "spike-off"
    return see_other(f"{_project_path(project_id)}?notice={notice}#spike-protection")


def spike_settings_from(form: FormData) -> tuple[SpikeProtection | None, dict[str, str]]:
    floor, multiplier = field(form, "floor"), field(form, "multiplier")
    errors = {}
    if whole_number(floor, 1, quotas.MAX_LIMIT) is None:
        errors["floor"] = f"A whole number of events an hour, from 1 to {quotas.MAX_LIMIT:,}."
    if whole_number(multiplier, 1, quotas.MAX_SPIKE_MULTIPLIER) is None:
        errors["multiplier"] = f"A whole number from 1 to {quotas.MAX_SPIKE_MULTIPLIER:,}."
    if errors:
        return None, errors
    return SpikeProtection(field(form, "enabled") == "on", int(floor), int(multiplier)), {}


ROUTES: list[Route] = [
    Route("/quotas/", my_quotas),
    Route("/organizations/{organization_id:int}/quotas/", organization_quotas_page),
    Route("/organizations/{organization_id:int}/quotas/", post_organization_quotas, methods=["POST"]),
    Route("/projects/{project_id:int}/settings/quotas/", project_quotas_page),
    Route("/projects/{project_id:int}/settings/quotas/", post_project_quotas, methods=["POST"]),
    Route("/projects/{project_id:int}/settings/spike-protection", post_spike_protection, methods=["POST"]),
]
