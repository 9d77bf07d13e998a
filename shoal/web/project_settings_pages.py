"""A project's settings page: name, slug and platform; its client keys (create, enable and disable,
rotate, a per-key rate limit); the environments its events came from; how long its events are kept
(retention, shoal/retention.py); what data scrubbing removes (shoal/digest/scrub.py); who has
access. Deleting the project is in `project_pages`.

A key disabled or rotated here is still trusted by ingest for up to KEY_CACHE_SECONDS: ingest
keeps the keys it has read in memory (shoal/ingest/keys.py), and the page says so.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.store import projects, retention, teams, users
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo, ProjectKey, RateLimit, ScrubbingSettings
from shoal.web import auth
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render, visible_project
from shoal.web.setup_snippets import PLATFORMS

# shoal.ingest.keys.POSITIVE_TTL (web never imports ingest; a test checks the two agree).
KEY_CACHE_SECONDS = 30
MAX_NAME = 200  # project.name and project_key.label are String(200)
MAX_SLUG = 50  # project.slug is String(50)
# Lower-case letters, digits, "-" and "_", as Sentry's slugs; not only digits, so a slug never
# reads as an id.
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
# project_key.rate_limit_count is a 32-bit INTEGER on PostgreSQL.
MAX_RATE_LIMIT_COUNT = 2_000_000_000
# A day: the longest window Sentry's key settings offer.
MAX_RATE_LIMIT_WINDOW = 86_400

_WITHIN = f"Ingest takes this into account within {KEY_CACHE_SECONDS} seconds."
NOTICES = {
    "saved": "Saved. The project's id, and so its DSNs and URLs, did not change.",
    "key-created": "A new key was created; its DSN is below.",
    "key-enabled": f"The key was enabled. {_WITHIN}",
    "key-disabled": f"The key was disabled: events sent with it will be refused with 403. {_WITHIN}",
    "key-rotated": (
        "The key was rotated: the new key below is enabled and the old one disabled. "
        f"SDKs still using the old DSN are refused with 403 within {KEY_CACHE_SECONDS} seconds."
    ),
    "rate-limit-saved": f"The rate limit was saved: ingest enforces it within {KEY_CACHE_SECONDS} seconds.",
    "rate-limit-removed": "The rate limit was removed.",
    "retention-saved": "The retention was saved: the hourly cleanup deletes older events from now on.",
    "scrubbing-saved": "Data scrubbing was saved: events digested from now on follow it.",
    "scrubbing-off": "Data scrubbing is off: events digested from now on are stored as the SDK sent them.",
}
# Data scrubbing's field lists: how many names, and how long each (a name is a key, not a pattern).
MAX_FIELD_NAMES = 100
MAX_FIELD_NAME = 200


# -------------------------------------------------------------------------------------- access


def visible(conn: Connection, viewer: Viewer, project_id: int) -> ProjectInfo:
    """The project, if the viewer may see it (404 otherwise, like a missing one)."""
    return visible_project(conn, viewer, project_id)


def require_manager(viewer: Viewer, organization_id: int) -> None:
    """The one place that decides who may create, change and delete the organization's projects
    and their keys: its owners and admins, as in Sentry (403 with the reason for anyone else)."""
    auth.require_manager(viewer, organization_id)


def managed_project(conn: Connection, viewer: Viewer, project_id: int) -> ProjectInfo:
    """The project, if the viewer may change it."""
    project = visible(conn, viewer, project_id)
    require_manager(viewer, project.organization_id)
    return project


def _key(conn: Connection, request: Request, project: ProjectInfo) -> ProjectKey:
    key = projects.get_key(conn, project.id, int(request.path_params["key_id"]))
    if key is None:
        raise HTTPException(404, "No such key in this project.")
    return key


# ------------------------------------------------------------------------------ the settings page


def project_settings(request: Request) -> Response:
    viewer = current_viewer(request)
    project_id = int(request.path_params["project_id"])
    notice = NOTICES.get(request.query_params.get("notice", ""))
    new_key = request.query_params.get("key", "")
    return render_settings(
        request, viewer, project_id, notice=notice, new_key=int(new_key) if new_key.isdigit() else None
    )


def render_settings(
    request: Request,
    viewer: Viewer,
    project_id: int,
    *,
    notice: str | None = None,
    new_key: int | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The page; a form with a bad value re-shows it with `errors` by field and the posted `values`."""
    public_url = request.app.state.config.public_url
    with engine_of(request).connect() as conn:
        project = visible(conn, viewer, project_id)
        keys = projects.list_keys(conn, project.id)
        context: dict[str, Any] = {
            "project": project,
            "keys": keys,
            "dsns": {key.id: projects.dsn(public_url, key.public_key, project.id) for key in keys},
            "environments": projects.environments_seen(conn, project.id),
            "teams": teams.project_teams(conn, project.id),
            "members": users.organization_members(conn, project.organization_id),
            "retention_days": retention.retention_days(conn, project.id),
            "scrubbing": projects.project_scrubbing(conn, {project.id}).get(project.id, ScrubbingSettings()),
        }
    platforms = dict(PLATFORMS)
    if project.platform not in platforms:
        platforms[project.platform] = project.platform  # made with `shoal project create --platform`
    general = {"name": project.name, "slug": project.slug, "platform": project.platform}
    context.update(
        platforms=platforms,
        notice=notice,
        new_key=new_key,
        cache_seconds=KEY_CACHE_SECONDS,
        can_manage=viewer.can_manage(project.organization_id),
        errors=errors or {},
        values={**general, **(values or {})},
    )
    return render(request, viewer, "project_settings.html", context, status=status)


# --------------------------------------------------------------------- name, slug and platform


def name_error(name: str) -> str | None:
    if not name:
        return "Give the project a name, e.g. “web shop backend”."
    if len(name) > MAX_NAME:
        return f"A name has at most {MAX_NAME} characters."
    return None


def slug_error(slug: str) -> str | None:
    if not slug:
        return "Give the project a slug: it names the project in the API and the CLI."
    if len(slug) > MAX_SLUG or not _SLUG.fullmatch(slug) or slug.isdigit():
        return (
            f"A slug is up to {MAX_SLUG} lower-case letters, digits, “-” and “_”, starting with a "
            "letter or digit, and not only digits."
        )
    return None


@form_post
def post_general(request: Request, viewer: Viewer, form: FormData) -> Response:
    project_id = int(request.path_params["project_id"])
    values = {"name": field(form, "name"), "slug": field(form, "slug"), "platform": field(form, "platform")}
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, project_id)
    errors = {
        name: message
        for name, message in (
            ("name", name_error(values["name"])),
            ("slug", slug_error(values["slug"])),
            ("platform", _platform_error(values["platform"], project)),
        )
        if message
    }
    if not errors:
        try:
            with write_transaction(engine_of(request)) as conn:
                managed_project(conn, viewer, project_id)
                projects.update_project(conn, project_id, **values)
        except projects.SlugTaken:
            errors["slug"] = "Another project of this organization has this slug."
    if errors:
        return render_settings(request, viewer, project_id, errors=errors, values=values, status=400)
    return see_other(f"/projects/{project_id}/settings/?notice=saved")


def _platform_error(platform: str, project: ProjectInfo) -> str | None:
    if platform in PLATFORMS or platform == project.platform:
        return None
    return "Choose the platform your code runs on, or “Other”."


# -------------------------------------------------------------------------------------- keys


@form_post
def post_new_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    project_id = int(request.path_params["project_id"])
    label = field(form, "label")
    if len(label) > MAX_NAME:
        errors = {"label": f"A key's name has at most {MAX_NAME} characters."}
        return render_settings(
            request, viewer, project_id, errors=errors, values={"label": label}, status=400
        )
    with write_transaction(engine_of(request)) as conn:
        project = managed_project(conn, viewer, project_id)
        created = projects.add_key(
            conn, project.id, label or f"Key {len(projects.list_keys(conn, project.id)) + 1}"
        )
    return see_other(f"/projects/{project_id}/settings/?notice=key-created&key={created.id}#keys")


def _set_enabled(request: Request, viewer: Viewer, enabled: bool) -> Response:
    project_id = int(request.path_params["project_id"])
    with write_transaction(engine_of(request)) as conn:
        key = _key(conn, request, managed_project(conn, viewer, project_id))
        projects.set_key_enabled(conn, key.id, enabled)
    notice = "key-enabled" if enabled else "key-disabled"
    return see_other(f"/projects/{project_id}/settings/?notice={notice}#keys")


@form_post
def post_enable_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    return _set_enabled(request, viewer, True)


@form_post
def post_disable_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    return _set_enabled(request, viewer, False)


def confirm_rotate(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = managed_project(conn, viewer, int(request.path_params["project_id"]))
        key = _key(conn, request, project)
    dsn = projects.dsn(request.app.state.config.public_url, key.public_key, project.id)
    context = {"project": project, "key": key, "dsn": dsn, "cache_seconds": KEY_CACHE_SECONDS}
    return render(request, viewer, "project_key_rotate.html", context)


@form_post
def post_rotate_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    project_id = int(request.path_params["project_id"])
    with write_transaction(engine_of(request)) as conn:
        key = _key(conn, request, managed_project(conn, viewer, project_id))
        if not key.enabled:
            raise HTTPException(400, "This key is already disabled; create a new key instead.")
        new = projects.rotate_key(conn, project_id, key.id)
    return see_other(f"/projects/{project_id}/settings/?notice=key-rotated&key={new.id}#keys")


@form_post
def post_rate_limit(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Both fields empty removes the limit."""
    project_id = int(request.path_params["project_id"])
    with engine_of(request).connect() as conn:
        key = _key(conn, request, managed_project(conn, viewer, project_id))
    count, window = field(form, "count"), field(form, "window")
    limit, errors = rate_limit_from(count, window)
    if errors:
        values = {f"count-{key.id}": count, f"window-{key.id}": window}
        errors = {f"{name}-{key.id}": message for name, message in errors.items()}
        return render_settings(request, viewer, project_id, errors=errors, values=values, status=400)
    with write_transaction(engine_of(request)) as conn:
        key = _key(conn, request, managed_project(conn, viewer, project_id))
        projects.set_key_rate_limit(conn, key.id, limit)
    notice = "rate-limit-saved" if limit else "rate-limit-removed"
    return see_other(f"/projects/{project_id}/settings/?notice={notice}#key-{key.id}")


def rate_limit_from(count: str, window: str) -> tuple[RateLimit | None, dict[str, str]]:
    """The limit two fields describe (None when both are empty), or the problems by field."""
    if not count and not window:
        return None, {}
    errors = {
        name: message
        for name, message in (
            ("count", _whole_number_error(count, MAX_RATE_LIMIT_COUNT, "The number of events")),
            ("window", _whole_number_error(window, MAX_RATE_LIMIT_WINDOW, "The window")),
        )
        if message
    }
    return (None, errors) if errors else (RateLimit(int(count), int(window)), {})


def _whole_number_error(value: str, most: int, what: str) -> str | None:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= most:
        return f"{what} is a whole number from 1 to {most:,}; leave both fields empty for no limit."
    return None


# --------------------------------------------------------------------------------- retention


@form_post
def post_retention(request: Request, viewer: Viewer, form: FormData) -> Response:
    project_id = int(request.path_params["project_id"])
    days = field(form, "retention_days")
    with engine_of(request).connect() as conn:
        managed_project(conn, viewer, project_id)
    error = _retention_error(days)
    if error:
        errors = {"retention_days": error}
        values = {"retention_days": days}
        return render_settings(request, viewer, project_id, errors=errors, values=values, status=400)
    with write_transaction(engine_of(request)) as conn:
        managed_project(conn, viewer, project_id)
        retention.set_retention_days(conn, project_id, int(days))
    return see_other(f"/projects/{project_id}/settings/?notice=retention-saved#retention")


def _retention_error(days: str) -> str | None:
    if days.isascii() and days.isdigit() and retention.MIN_DAYS <= int(days) <= retention.MAX_DAYS:
        return None
    return f"Keep events a whole number of days, from {retention.MIN_DAYS} to {retention.MAX_DAYS:,}."


# ---------------------------------------------------------------------------- data scrubbing


@form_post
def post_scrubbing(request: Request, viewer: Viewer, form: FormData) -> Response:
    """The toggles (an unchecked box is absent from the form: off) and the two lists of names."""
    project_id = int(request.path_params["project_id"])
    with engine_of(request).connect() as conn:
        managed_project(conn, viewer, project_id)
    texts = {name: field(form, name) for name in ("sensitive_fields", "safe_fields")}
    names: dict[str, tuple[str, ...]] = {}
    errors: dict[str, str] = {}
    for name, text in texts.items():
        names[name], error = field_names(text)
        if error:
            errors[name] = error
    if errors:
        return render_settings(request, viewer, project_id, errors=errors, values=texts, status=400)
    settings = ScrubbingSettings(
        enabled=field(form, "enabled") == "on",
        sensitive_fields=names["sensitive_fields"],
        safe_fields=names["safe_fields"],
        scrub_ip_addresses=field(form, "scrub_ip_addresses") == "on",
    )
    with write_transaction(engine_of(request)) as conn:
        managed_project(conn, viewer, project_id)
        projects.set_project_scrubbing(conn, project_id, settings)
    notice = "scrubbing-saved" if settings.enabled else "scrubbing-off"
    return see_other(f"/projects/{project_id}/settings/?notice={notice}#scrubbing")


def field_names(text: str) -> tuple[tuple[str, ...], str | None]:
    """Names one per line (commas also separate), blank ones skipped and repeats dropped; or why not."""
    names = tuple(dict.fromkeys(name.strip() for line in text.splitlines() for name in line.split(",")))
    names = tuple(name for name in names if name)
    if len(names) > MAX_FIELD_NAMES:
        return (), f"At most {MAX_FIELD_NAMES} names, one per line."
    for name in names:
        if len(name) > MAX_FIELD_NAME:
            return (), f"A name has at most {MAX_FIELD_NAME} characters: “{name[:40]}…” is longer."
        if not name.isprintable():
            return (), "A name is one line of visible characters, such as “customer_ref”."
    return names, None


ROUTES: list[Route] = [
    Route("/projects/{project_id:int}/settings/", project_settings),
    Route("/projects/{project_id:int}/settings/", post_general, methods=["POST"]),
    Route("/projects/{project_id:int}/keys/new", post_new_key, methods=["POST"]),
    Route("/projects/{project_id:int}/keys/{key_id:int}/enable", post_enable_key, methods=["POST"]),
    Route("/projects/{project_id:int}/keys/{key_id:int}/disable", post_disable_key, methods=["POST"]),
    Route("/projects/{project_id:int}/keys/{key_id:int}/rotate", confirm_rotate),
    Route("/projects/{project_id:int}/keys/{key_id:int}/rotate", post_rotate_key, methods=["POST"]),
    Route("/projects/{project_id:int}/keys/{key_id:int}/rate-limit", post_rate_limit, methods=["POST"]),
    Route("/projects/{project_id:int}/settings/retention", post_retention, methods=["POST"]),
    Route("/projects/{project_id:int}/settings/scrubbing", post_scrubbing, methods=["POST"]),
]
