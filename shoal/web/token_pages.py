"""API tokens in the UI, on the account's side: the viewer's tokens (label, kind, scopes, when made
and last used), making one (a personal token, or an organization token for an organization the
viewer manages), and revoking one after a confirmation page. The store keeps only a token's hash
(shoal.store.tokens), so a new token is shown once, right after it is made.

Making a token is a post/redirect/get like every form: the new token rides to the page that shows
it in a cookie that lives a minute, is HttpOnly and SameSite=Strict, is scoped to this page's path,
and is deleted by the page that reads it. Reloading that page, or coming back later, shows the
token no more.
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
from shoal.store import projects, tokens, users
from shoal.store.db import write_transaction
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render

PAGE = "/account/tokens/"
NEW_TOKEN_COOKIE = "shoal_new_token"
NEW_TOKEN_SECONDS = 60
MAX_LABEL = 200  # api_token.label is a String(200)
NOTICES = {"revoked": "The token was revoked: requests with it are refused from now on."}
# What each scope lets a token do, in the words of the page (Sentry's scope names).
SCOPE_WORDS = {
    "event": "issues and events",
    "project": "projects, their keys and alert rules",
    "org": "the organization",
    "team": "teams",
    "member": "members",
    "alerts": "alert rules",
}


@dataclass(frozen=True)
class TokenForm:
    label: str
    scopes: list[str]
    organization: str  # "" for a personal token, else an organization id

    @classmethod
    def read(cls, form: FormData) -> TokenForm:
        scopes = [value for value in form.getlist("scope") if isinstance(value, str)]
        return cls(field(form, "label"), scopes, field(form, "organization"))

    @classmethod
    def default(cls) -> TokenForm:
        return cls("", list(tokens.DEFAULT_SCOPES), "")


# ------------------------------------------------------------------------------------ the page


def token_list(request: Request) -> Response:
    viewer = current_viewer(request)
    new_token = request.cookies.get(NEW_TOKEN_COOKIE)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    response = _page(request, viewer, TokenForm.default(), new_token=new_token, notice=notice)
    if new_token is not None:
        response.delete_cookie(NEW_TOKEN_COOKIE, path=PAGE)
    return response


def _page(
    request: Request,
    viewer: Viewer,
    wanted: TokenForm,
    *,
    errors: dict[str, str] | None = None,
    new_token: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    with engine_of(request).connect() as conn:
        mine = tokens.list_tokens(conn, viewer.user.id)
        managed = _managed_organizations(conn, viewer)
    context: dict[str, Any] = {
        "tokens": mine,
        "organizations": managed,
        "scopes": _scope_choices(),
        "wanted": wanted,
        "errors": errors or {},
        "new_token": new_token,
        "notice": notice,
        "public_url": request.app.state.config.public_url,
        "max_label": MAX_LABEL,
    }
    return render(request, viewer, "tokens.html", context, status=status)


def _managed_organizations(conn: Connection, viewer: Viewer) -> list[tuple[int, str]]:
    """The organizations the viewer may make an organization token for: those they own or admin
    (every one, for a superuser), as (id, name), by name."""
    names = projects.organization_names(conn)
    if viewer.user.is_superuser:
        return sorted(names.items(), key=lambda item: item[1].lower())
    mine = users.organizations_of(conn, viewer.user.id)
    return sorted(((o.id, o.name) for o in mine if viewer.can_manage(o.id)), key=lambda item: item[1].lower())


def _scope_choices() -> list[tuple[str, list[str]]]:
    """The known scopes grouped by what they reach, in a stable order: (words, [scope, …])."""
    groups: dict[str, list[str]] = {}
    for scope in sorted(tokens.KNOWN_SCOPES):
        groups.setdefault(scope.split(":", 1)[0], []).append(scope)
    return [(SCOPE_WORDS.get(resource, resource), names) for resource, names in groups.items()]


# ---------------------------------------------------------------------------------------- make


@form_post
def create(request: Request, viewer: Viewer, form: FormData) -> Response:
    wanted = TokenForm.read(form)
    errors = _problems(request, viewer, wanted)
    if errors:
        return _page(request, viewer, wanted, errors=errors, status=400)
    now = SYSTEM_CLOCK.now()
    with write_transaction(engine_of(request)) as conn:
        if wanted.organization:
            made = tokens.create_organization_token(
                conn,
                viewer.user.id,
                int(wanted.organization),
                public_url=request.app.state.config.public_url,
                scopes=wanted.scopes,
                label=wanted.label,
                now=now,
            )
        else:
            made = tokens.create_personal_token(conn, viewer.user.id, wanted.scopes, wanted.label, now)
    response = see_other(PAGE)
    response.set_cookie(
        NEW_TOKEN_COOKIE,
        made,
        max_age=NEW_TOKEN_SECONDS,
        path=PAGE,
        httponly=True,
        samesite="strict",
        secure=request.app.state.config.public_url.startswith("https://"),
    )
    return response


def _problems(request: Request, viewer: Viewer, wanted: TokenForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(wanted.label) > MAX_LABEL:
        errors["label"] = f"A label has at most {MAX_LABEL} characters ({len(wanted.label)} now)."
    if not wanted.scopes:
        errors["scopes"] = "Tick at least one scope: a token without scopes can do nothing."
    elif set(wanted.scopes) - tokens.KNOWN_SCOPES:
        errors["scopes"] = "Tick scopes from the list only."
    if wanted.organization:
        with engine_of(request).connect() as conn:
            allowed = {str(org_id) for org_id, _ in _managed_organizations(conn, viewer)}
        if wanted.organization not in allowed:
            errors["organization"] = "Choose an organization you own or administer, or make a personal token."
    return errors


# -------------------------------------------------------------------------------------- revoke


def confirm_revoke(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        found = tokens.user_token(conn, int(request.path_params["token_id"]), viewer.user.id)
    if found is None:
        raise HTTPException(404, "You have no such token. It may have been revoked already.")
    return render(request, viewer, "token_revoke.html", {"token": found})


@form_post
def revoke(request: Request, viewer: Viewer, form: FormData) -> Response:
    token_id = field(form, "token_id")
    # At most 18 digits: a row id the database drivers take, never an overflow.
    known = token_id.isdigit() and len(token_id) <= 18
    with write_transaction(engine_of(request)) as conn:
        gone = known and tokens.revoke_token(conn, int(token_id), viewer.user.id)
    if not gone:
        raise HTTPException(404, "You have no such token. It may have been revoked already.")
    return see_other(f"{PAGE}?notice=revoked")


ROUTES: list[Route] = [
    Route(PAGE, token_list),
    Route(PAGE, create, methods=["POST"]),
    Route(PAGE + "{token_id:int}/revoke", confirm_revoke),
    Route(PAGE + "revoke", revoke, methods=["POST"]),
]
