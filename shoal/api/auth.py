"""Who is calling the API and what they may touch: the bearer token (401 when missing or unknown),
the organizations it reaches (anything outside them is a 404, as Sentry answers, so a token cannot
learn what exists elsewhere), the projects its user's teams allow (403, as in the UI), and its
scopes (403 when none of the accepted ones is held).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from starlette.requests import Request

from shoal.api.errors import FORBIDDEN, INVALID_TOKEN, NOT_PROVIDED, ApiError, not_found
from shoal.clock import Clock
from shoal.store import issues, projects, teams, tokens, url_projects, users
from shoal.store.db import write_transaction
from shoal.store.issues import IssueRow
from shoal.store.projects import ProjectInfo
from shoal.store.tokens import TokenOwner
from shoal.store.url_projects import row_id

# The scopes Sentry accepts per kind of access (its API docs list them per endpoint).
READ_RULES = frozenset({"project:read", "project:write", "project:admin", "alerts:read", "alerts:write"})
WRITE_RULES = frozenset({"project:write", "project:admin", "alerts:write"})
READ_ISSUES = frozenset({"event:read", "event:write", "event:admin"})


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def clock_of(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def token_owner(request: Request) -> TokenOwner:
    """The owner of the request's token, or a 401 in Sentry's words."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, {"detail": NOT_PROVIDED})
    engine, now = engine_of(request), clock_of(request).now()
    with engine.connect() as conn:
        owner = tokens.find_token(conn, token)
    # Most requests only read; the write that records use happens once a minute per token.
    if owner is not None and owner.due_for_use_mark(now):
        with write_transaction(engine) as conn:
            owner = tokens.authenticate(conn, token, now)
    if owner is None:
        raise ApiError(401, {"detail": INVALID_TOKEN})
    return owner


def require_scope(owner: TokenOwner, accepted: frozenset[str]) -> None:
    if not owner.scopes & accepted:
        raise ApiError(403, {"detail": FORBIDDEN})


def visible_project(conn: Connection, owner: TokenOwner, org: str, project: str) -> ProjectInfo:
    """The project named in the URL (slugs, or ids as Sentry also takes), or a 404."""
    organization_id = tokens.reachable_organization(conn, owner, org)
    if organization_id is None:
        raise not_found()
    found = url_projects.project_in_organization(conn, organization_id, project)
    if found is None:
        raise not_found()
    _require_team_access(conn, owner, found)
    return found


def _require_team_access(conn: Connection, owner: TokenOwner, found: ProjectInfo) -> None:
    """A personal token sees what its user sees in the UI: a plain member, only the projects of
    their teams and those no team owns (shoal.store.teams). An organization token acts for the
    whole organization, as Sentry's do."""
    if owner.organization_id is not None or owner.is_superuser:
        return
    if users.role_of(conn, found.organization_id, owner.user_id) in teams.MANAGER_ROLES:
        return
    if found.id in teams.hidden_project_ids(conn, owner.user_id, [found.organization_id]):
        raise ApiError(403, {"detail": FORBIDDEN})


def path_id(request: Request, name: str) -> int:
    """The path parameter as a row id; a 404 when it cannot name a row."""
    found = row_id(str(request.path_params[name]))
    if found is None:
        raise not_found()
    return found


def visible_issue(conn: Connection, owner: TokenOwner, issue_id: int, org: str | None) -> IssueRow:
    """The issue, if the token reaches its organization (and it is `org`'s, when one is named)."""
    found = issues.get_issue(conn, issue_id)
    project = projects.get_project(conn, found.project_id) if found else None
    if found is None or project is None or not tokens.can_reach(conn, owner, project.organization_id):
        raise not_found()
    if org is not None and tokens.reachable_organization(conn, owner, org) != project.organization_id:
        raise not_found()
    _require_team_access(conn, owner, project)
    return found
