"""Logging in and out, who is asking, and CSRF protection for forms.

The session cookie is HttpOnly and SameSite=Lax (and Secure when Shoal is served over https).
Every form carries a CSRF token: the login form's is a double-submit cookie (there is no session
yet), later forms use the token stored with the session.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shoal.store import sessions, teams, users
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo
from shoal.store.users import User

SESSION_COOKIE = "shoal_session"
LOGIN_CSRF_COOKIE = "shoal_login_csrf"


NOT_YOUR_TEAM = "This project belongs to a team you are not in."
ADMINS_ONLY = "Only owners and admins of this organization can do that. Ask one of them."


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of a request, with the token their forms must carry, their role in each
    organization, and the projects of those organizations that their teams keep from them
    (shoal.store.teams has the rule)."""

    user: User
    csrf_token: str
    organization_ids: list[int]
    roles: Mapping[int, str] = field(default_factory=dict)  # organization id → owner | admin | member
    hidden_project_ids: frozenset[int] = frozenset()

    def can_see(self, organization_id: int) -> bool:
        return self.user.is_superuser or organization_id in self.organization_ids

    def can_manage(self, organization_id: int) -> bool:
        """Owners, admins and superusers manage projects, teams, members and alerts."""
        return self.user.is_superuser or self.roles.get(organization_id) in teams.MANAGER_ROLES

    def is_owner(self, organization_id: int) -> bool:
        return self.user.is_superuser or self.roles.get(organization_id) == "owner"

    def can_see_project(self, project: ProjectInfo) -> bool:
        """The one rule every page that shows or lists a project goes through."""
        if not self.can_see(project.organization_id):
            return False
        return self.can_manage(project.organization_id) or project.id not in self.hidden_project_ids


def require_manager(viewer: Viewer, organization_id: int) -> None:
    """Refuse (403, with the reason) a change that only owners and admins may make."""
    if not viewer.can_manage(organization_id):
        raise HTTPException(403, ADMINS_ONLY)


class LoginRequired(Exception):
    pass


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def current_viewer(request: Request) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    with engine_of(request).connect() as conn:
        session = sessions.find_session(conn, token)
        user = users.get_user(conn, session.user_id) if session else None
        if session is None or user is None:
            raise LoginRequired()
        roles = users.organization_roles(conn, user.id)
        as_member = [] if user.is_superuser else [org for org, role in roles.items() if role == "member"]
        hidden = teams.hidden_project_ids(conn, user.id, as_member)
        return Viewer(user, session.csrf_token, sorted(roles), roles, hidden)


def check_csrf(expected: str, submitted: object) -> bool:
    return isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


def login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": csrf, "error": error, "next": _safe_next(request.query_params.get("next"))},
        status_code=status,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request))
    return response


async def login(request: Request) -> Response:
    if request.method == "GET":
        return login_page(request)
    form = await request.form()
    if not check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("csrf_token")):
        return login_page(request, "Your form expired. Please try again.", status=400)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    # argon2 takes tens of milliseconds of CPU by design: off the event loop, which ingest shares.
    token = await run_in_threadpool(_log_in, engine_of(request), email, password)
    if token is None:
        return login_page(request, "That email and password do not match an account.", status=401)
    response = RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=sessions.SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


async def logout(request: Request) -> Response:
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        viewer = current_viewer(request)
        if not check_csrf(viewer.csrf_token, form.get("csrf_token")):
            return Response("Invalid form token.", status_code=400)
        with write_transaction(engine_of(request)) as conn:
            sessions.end_session(conn, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _log_in(engine: Engine, email: str, password: str) -> str | None:
    """A new session's token for the right email and password, else None."""
    with write_transaction(engine) as conn:
        user = users.authenticate(conn, email, password)
        return sessions.create_session(conn, user.id) if user else None


def redirect_to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: "//evil.example" and "https://…" would make login an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _secure(request: Request) -> bool:
    return bool(request.app.state.config.public_url.startswith("https://"))
