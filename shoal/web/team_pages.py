"""An organization's people in the UI: members and their roles, invitations by email, and teams
with their members and the projects they own.

Everyone in the organization can read these pages; owners and admins change them, and only
owners change roles (docs/accounts.md). The last owner can be neither demoted nor removed: an
organization nobody can manage any more is one only a superuser could repair.

An invitation link is the only copy of its token. When Shoal cannot email (no SHOAL_SMTP_HOST,
or the server refused), the page shows the link once, for the inviter to pass on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK
from shoal.config import Config
from shoal.store import invitations, projects, teams, users
from shoal.store.db import write_transaction
from shoal.store.invitations import Invitation
from shoal.store.teams import Team
from shoal.web.account_pages import (
    anonymous_form_ok,
    anonymous_page,
    email_configured,
    optional_viewer,
    password_errors,
    raw_field,
    send_account_email,
    start_session,
)
from shoal.web.auth import Viewer, check_csrf, current_viewer, engine_of, require_manager
from shoal.web.form_posts import STALE_FORM, field, form_post, see_other
from shoal.web.pages import render

ROLE_LABELS = {
    "owner": "Owner: everything, and changes roles",
    "admin": "Admin: manages projects, teams, members, alerts and channels",
    "member": "Member: triages and comments in the projects they can see",
}
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[\w-]+(\.[\w-]+)+")
NOTICES = {
    "role": "The role was changed.",
    "removed": "The member was removed from the organization.",
    "revoked": "The invitation was revoked: its link no longer works.",
    "team": "The team was created.",
    "team-deleted": "The team was deleted. Its projects now belong to their other teams, or to no team.",
    "renamed": "The team was renamed.",
    "team-member": "The team's members were changed.",
    "team-project": "The team's projects were changed.",
}
OWNERS_ONLY = "Only owners of this organization can change roles."


def _organization(request: Request, conn: Connection, viewer: Viewer) -> int:
    organization_id = int(request.path_params["organization_id"])
    if not projects.organization_exists(conn, organization_id) or not viewer.can_see(organization_id):
        raise HTTPException(404, "No such organization.")
    return organization_id


def _team(request: Request, conn: Connection, organization_id: int) -> Team:
    found = teams.get_team(conn, int(request.path_params["team_id"]))
    if found is None or found.organization_id != organization_id:
        raise HTTPException(404, "No such team in this organization.")
    return found


def _members_url(organization_id: int, notice: str = "") -> str:
    return f"/organizations/{organization_id}/members/" + (f"?notice={notice}" if notice else "")


def _team_url(team: Team, notice: str = "") -> str:
    return f"/organizations/{team.organization_id}/teams/{team.id}/" + (f"?notice={notice}" if notice else "")


def my_members(request: Request) -> Response:
    """/members/: the members page of the viewer's first organization."""
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        candidates = viewer.organization_ids or projects.organization_ids(conn)
    if not candidates:
        raise HTTPException(404, "You are not a member of any organization.")
    return see_other(_members_url(min(candidates)))


# ------------------------------------------------------------------------ the members page


@dataclass(frozen=True)
class Shown:
    """What the members page shows besides the lists: a message, errors by field, the values
    typed, and an invitation link to pass on by hand."""

    notice: str | None = None
    errors: dict[str, str] | None = None
    values: dict[str, str] | None = None
    invite_link: str | None = None
    invite_problem: str | None = None
    invited: str | None = None  # whose link it is


def members_page(request: Request) -> Response:
    viewer = current_viewer(request)
    notice = request.query_params.get("notice", "")
    if notice == "invited":
        return _members_page(request, viewer, Shown(notice=_invited_notice(request, viewer)))
    return _members_page(request, viewer, Shown(notice=NOTICES.get(notice)))


def _invited_notice(request: Request, viewer: Viewer) -> str | None:
    """ "Invitation sent to …", for an invitation of this organization (not any text the URL has)."""
    number = request.query_params.get("invitation", "")
    with engine_of(request).connect() as conn:
        organization_id = _organization(request, conn, viewer)
        found = invitations.get_invitation(conn, int(number)) if number.isdigit() else None
    if found is None or found.organization_id != organization_id:
        return None
    return f"Invitation sent to {found.email}. The link in it works for 7 days."


def _members_page(request: Request, viewer: Viewer, shown: Shown, status: int = 200) -> Response:
    with engine_of(request).connect() as conn:
        organization_id = _organization(request, conn, viewer)
        org_teams = teams.organization_teams(conn, organization_id)
        context: dict[str, Any] = {
            "organization_id": organization_id,
            "organization_name": users.organization_name(conn, organization_id),
            "members": users.members_with_roles(conn, organization_id),
            "invitations": invitations.pending_invitations(conn, organization_id)
            if viewer.can_manage(organization_id)
            else [],
            "teams": org_teams,
            "team_names": {team.id: team.name for team in org_teams},
            "team_sizes": teams.member_counts(conn, [team.id for team in org_teams]),
        }
    context.update(
        now=SYSTEM_CLOCK.now(),
        can_manage=viewer.can_manage(organization_id),
        is_owner=viewer.is_owner(organization_id),
        roles=_offered_roles(viewer, organization_id),
        role_labels=ROLE_LABELS,
        email_configured=email_configured(request.app.state.config),
        notice=shown.notice,
        errors=shown.errors or {},
        values=shown.values or {},
        invite_link=shown.invite_link,
        invite_problem=shown.invite_problem,
        invited=shown.invited,
    )
    return render(request, viewer, "members.html", context, status=status)


def _offered_roles(viewer: Viewer, organization_id: int) -> list[str]:
    """Admins may invite admins and members; making an owner takes an owner."""
    return list(ROLE_LABELS) if viewer.is_owner(organization_id) else ["admin", "member"]


@form_post
def change_role(request: Request, viewer: Viewer, form: FormData) -> Response:
    role = field(form, "role")
    user_id = int(request.path_params["user_id"])
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        if not viewer.is_owner(organization_id):
            raise HTTPException(403, OWNERS_ONLY)
        current = users.role_of(conn, organization_id, user_id)
        if current is None or role not in ROLE_LABELS:
            raise HTTPException(400, "Choose owner, admin or member for a member of this organization.")
        problem = _last_owner_problem(conn, organization_id, current, "demoted") if role != "owner" else None
        if problem is None:
            users.set_role(conn, organization_id, user_id, role)
    if problem:
        return _members_page(request, viewer, Shown(errors={f"member-{user_id}": problem}), 400)
    return see_other(_members_url(organization_id, "role"))


def _last_owner_problem(conn: Connection, organization_id: int, current: str, what: str) -> str | None:
    if current == "owner" and users.owner_count(conn, organization_id) <= 1:
        return (
            f"The last owner cannot be {what}: make someone else an owner first, so that somebody "
            "can still manage the organization."
        )
    return None


@form_post
def remove_member(request: Request, viewer: Viewer, form: FormData) -> Response:
    user_id = int(request.path_params["user_id"])
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        current = users.role_of(conn, organization_id, user_id)
        if current is None:
            raise HTTPException(404, "No such member in this organization.")
        if current == "owner" and not viewer.is_owner(organization_id):
            raise HTTPException(403, "Only owners can remove an owner.")
        problem = _last_owner_problem(conn, organization_id, current, "removed")
        if problem is None:
            teams.leave_organization_teams(conn, organization_id, user_id)
            users.remove_membership(conn, organization_id, user_id)
    if problem:
        return _members_page(request, viewer, Shown(errors={f"member-{user_id}": problem}), 400)
    return see_other(_members_url(organization_id, "removed"))


# --------------------------------------------------------------------------- invitations


@form_post
def invite(request: Request, viewer: Viewer, form: FormData) -> Response:
    values = {name: field(form, name) for name in ("email", "role", "team")}
    with engine_of(request).connect() as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        errors = _invite_errors(conn, viewer, organization_id, values)
    if errors:
        return _members_page(request, viewer, Shown(errors=errors, values=values), 400)
    with write_transaction(engine_of(request)) as conn:
        made, token = invitations.create_invitation(
            conn,
            organization_id,
            values["email"],
            values["role"],
            team_id=int(values["team"]) if values["team"] else None,
            invited_by=viewer.user.id,
            now=SYSTEM_CLOCK.now(),
        )
        name = users.organization_name(conn, organization_id) or "Shoal"
    return _send_invitation(request, viewer, made, token, name)


def _invite_errors(
    conn: Connection, viewer: Viewer, organization_id: int, values: dict[str, str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    email = values["email"].lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        errors["email"] = "Enter one email address, e.g. dev@example.com."
    elif any(member.email == email for member in users.members_with_roles(conn, organization_id)):
        errors["email"] = "This person is a member already."
    if values["role"] not in _offered_roles(viewer, organization_id):
        errors["role"] = "Choose one of the roles offered." + (
            " Only owners can invite owners." if values["role"] == "owner" else ""
        )
    if values["team"]:
        team = teams.get_team(conn, int(values["team"])) if values["team"].isdigit() else None
        if team is None or team.organization_id != organization_id:
            errors["team"] = "Choose one of the organization's teams, or none."
    return errors


def _send_invitation(request: Request, viewer: Viewer, made: Invitation, token: str, name: str) -> Response:
    config: Config = request.app.state.config
    link = f"{config.public_url}/invitations/{token}"
    if not email_configured(config):
        problem = "Shoal cannot send email here (SHOAL_SMTP_HOST is not set)."
        return _members_page(
            request, viewer, Shown(invite_link=link, invite_problem=problem, invited=made.email)
        )
    body = (
        f"{viewer.user.email} invited you to join {name} on Shoal as {made.role}.\n\n"
        f"To accept, open this link within 7 days:\n\n{link}\n\n"
        "If you did not expect this invitation, ignore this email.\n"
    )
    error = send_account_email(config, made.email, f"You are invited to {name} on Shoal", body)
    if error is not None:
        problem = f"The email could not be sent ({error})."
        return _members_page(
            request, viewer, Shown(invite_link=link, invite_problem=problem, invited=made.email)
        )
    query = urlencode({"notice": "invited", "invitation": made.id})
    return see_other(f"{_members_url(made.organization_id)}?{query}")


@form_post
def revoke(request: Request, viewer: Viewer, form: FormData) -> Response:
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        if not invitations.revoke_invitation(
            conn, organization_id, int(request.path_params["invitation_id"])
        ):
            raise HTTPException(404, "No pending invitation with this id in this organization.")
    return see_other(_members_url(organization_id, "revoked"))


# ------------------------------------------------------------------- accepting an invitation


def invitation_page(request: Request) -> Response:
    token = str(request.path_params["token"])
    with engine_of(request).connect() as conn:
        found = invitations.find_invitation(conn, token)
        if found is None or not found.is_open(SYSTEM_CLOCK.now()):
            return _invitation_refused(request)
        context = _invitation_context(conn, found, token)
        has_account = users.find_user_by_email(conn, found.email) is not None
    viewer = optional_viewer(request)
    return _invitation_view(request, viewer, context, has_account)


def _invitation_context(conn: Connection, found: Invitation, token: str) -> dict[str, Any]:
    team = teams.get_team(conn, found.team_id) if found.team_id is not None else None
    return {
        "invitation": found,
        "token": token,
        "organization_name": users.organization_name(conn, found.organization_id) or "an organization",
        "team_name": team.name if team else None,
        "inviter": users.email_of(conn, found.invited_by) if found.invited_by is not None else None,
        "min_length": users.MIN_PASSWORD_LENGTH,
    }


def _invitation_view(
    request: Request,
    viewer: Viewer | None,
    context: dict[str, Any],
    has_account: bool,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    invited = context["invitation"].email
    if viewer is not None:
        state = "join" if viewer.user.email == invited else "other-user"
        return render(request, viewer, "invitation.html", {**context, "state": state}, status=status)
    state = "log-in" if has_account else "sign-up"
    return anonymous_page(
        request, "invitation.html", {**context, "state": state, "errors": errors or {}}, status
    )


def _invitation_refused(request: Request) -> Response:
    return anonymous_page(request, "invitation.html", {"state": "refused"}, status=400)


async def accept_invitation(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_accept, request, str(request.path_params["token"]), form)


def _accept(request: Request, token: str, form: FormData) -> Response:
    viewer = optional_viewer(request)
    if not (
        check_csrf(viewer.csrf_token, form.get("csrf_token")) if viewer else anonymous_form_ok(request, form)
    ):
        raise HTTPException(400, STALE_FORM)
    with engine_of(request).connect() as conn:
        found = invitations.find_invitation(conn, token)
        if found is None or not found.is_open(SYSTEM_CLOCK.now()):
            return _invitation_refused(request)
        context = _invitation_context(conn, found, token)
        has_account = users.find_user_by_email(conn, found.email) is not None
    if viewer is not None:
        if viewer.user.email != found.email:
            return _invitation_view(request, viewer, context, has_account, status=403)
        return _join(request, found, viewer.user.id, new_account_password=None)
    if has_account:
        return _invitation_view(request, None, context, has_account, status=400)
    errors = password_errors(form, "password", "password_again")
    if errors:
        return _invitation_view(request, None, context, has_account, errors=errors, status=400)
    return _join(request, found, None, new_account_password=raw_field(form, "password"))


def _join(
    request: Request, found: Invitation, user_id: int | None, *, new_account_password: str | None
) -> Response:
    """Accept: make the account if needed, the membership (an existing one keeps its role), the
    team membership; then go to the projects, logged in."""
    try:
        with write_transaction(engine_of(request)) as conn:
            if not invitations.mark_accepted(conn, found.id, SYSTEM_CLOCK.now()):
                return _invitation_refused(request)
            if user_id is None:
                user_id = users.create_user(conn, found.email, new_account_password or "").id
            if users.role_of(conn, found.organization_id, user_id) is None:
                users.add_membership(conn, found.organization_id, user_id, found.role)
            team = teams.get_team(conn, found.team_id) if found.team_id is not None else None
            if team is not None and team.organization_id == found.organization_id:
                teams.add_team_member(conn, team.id, user_id)
    except users.EmailTaken:
        # Someone made the account in between (another tab): they log in and accept.
        return see_other(f"/login?next=/invitations/{request.path_params['token']}")
    if new_account_password is not None:
        return start_session(request, user_id, "/")
    return see_other("/")


# ----------------------------------------------------------------------------------- teams


@form_post
def create_team(request: Request, viewer: Viewer, form: FormData) -> Response:
    name = field(form, "name")
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        problem = _team_name_problem(name)
        if problem is None:
            try:
                made = teams.create_team(conn, organization_id, name)
            except teams.TeamNameTaken:
                problem = "Another team of this organization has this name."
    if problem is not None:
        return _members_page(
            request, viewer, Shown(errors={"team_name": problem}, values={"team_name": name}), 400
        )
    return see_other(_team_url(made, "team"))


def _team_name_problem(name: str) -> str | None:
    if not name:
        return "Give the team a name, e.g. “Backend”."
    if len(name) > teams.MAX_NAME:
        return f"A name has at most {teams.MAX_NAME} characters."
    return None


def team_page(request: Request) -> Response:
    viewer = current_viewer(request)
    return _team_page(request, viewer, notice=NOTICES.get(request.query_params.get("notice", "")))


def _team_page(
    request: Request,
    viewer: Viewer,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    name: str | None = None,
    status: int = 200,
) -> Response:
    with engine_of(request).connect() as conn:
        organization_id = _organization(request, conn, viewer)
        team = _team(request, conn, organization_id)
        members = teams.team_members(conn, team.id)
        owned = set(teams.team_project_ids(conn, team.id))
        org_projects = [p for p in projects.list_projects(conn) if p.organization_id == organization_id]
        org_members = users.members_with_roles(conn, organization_id)
    in_team = {member.id for member in members}
    context = {
        "organization_id": organization_id,
        "team": team,
        "name": team.name if name is None else name,
        "members": members,
        "projects": [p for p in org_projects if p.id in owned],
        "other_projects": [p for p in org_projects if p.id not in owned],
        "other_members": [m for m in org_members if m.id not in in_team],
        "can_manage": viewer.can_manage(organization_id),
        "notice": notice,
        "errors": errors or {},
    }
    return render(request, viewer, "team.html", context, status=status)


@form_post
def rename_team(request: Request, viewer: Viewer, form: FormData) -> Response:
    name = field(form, "name")
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        team = _team(request, conn, organization_id)
        problem = _team_name_problem(name)
        if problem is None:
            try:
                teams.rename_team(conn, team.id, name)
            except teams.TeamNameTaken:
                problem = "Another team of this organization has this name."
    if problem is not None:
        return _team_page(request, viewer, errors={"name": problem}, name=name, status=400)
    return see_other(_team_url(team, "renamed"))


def confirm_delete_team(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        team = _team(request, conn, organization_id)
    context = {
        "title": f"Delete the team “{team.name}”?",
        "message": "Its members stay in the organization. Projects only this team owned are then "
        "owned by no team, so every member of the organization sees them.",
        "listed": [],
        "action": f"/organizations/{organization_id}/teams/{team.id}/delete",
        "cancel": _team_url(team),
        "button": "Delete team",
    }
    return render(request, viewer, "confirm_delete.html", context)


@form_post
def delete_team(request: Request, viewer: Viewer, form: FormData) -> Response:
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        teams.delete_team(conn, _team(request, conn, organization_id).id)
    return see_other(_members_url(organization_id, "team-deleted"))


@form_post
def add_team_member(request: Request, viewer: Viewer, form: FormData) -> Response:
    user_id = int(field(form, "user")) if field(form, "user").isdigit() else 0
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        team = _team(request, conn, organization_id)
        if users.role_of(conn, organization_id, user_id) is None:
            raise HTTPException(400, "Choose a member of the organization.")
        teams.add_team_member(conn, team.id, user_id)
    return see_other(_team_url(team, "team-member"))


@form_post
def remove_team_member(request: Request, viewer: Viewer, form: FormData) -> Response:
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        team = _team(request, conn, organization_id)
        teams.remove_team_member(conn, team.id, int(request.path_params["user_id"]))
    return see_other(_team_url(team, "team-member"))


@form_post
def add_team_project(request: Request, viewer: Viewer, form: FormData) -> Response:
    project_id = int(field(form, "project")) if field(form, "project").isdigit() else 0
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        team = _team(request, conn, organization_id)
        project = projects.get_project(conn, project_id)
        if project is None or project.organization_id != organization_id:
            raise HTTPException(400, "Choose a project of the organization.")
        teams.add_project_team(conn, project.id, team.id)
    return see_other(_team_url(team, "team-project"))


@form_post
def remove_team_project(request: Request, viewer: Viewer, form: FormData) -> Response:
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization(request, conn, viewer)
        require_manager(viewer, organization_id)
        team = _team(request, conn, organization_id)
        teams.remove_project_team(conn, int(request.path_params["project_id"]), team.id)
    return see_other(_team_url(team, "team-project"))


def _routes() -> list[Route]:
    post = ["POST"]
    org = "/organizations/{organization_id:int}"
    member = org + "/members/{user_id:int}"
    team = org + "/teams/{team_id:int}"
    return [
        Route("/members/", my_members),
        Route(f"{org}/members/", members_page),
        Route(f"{member}/role", change_role, methods=post),
        Route(f"{member}/remove", remove_member, methods=post),
        Route(f"{org}/invitations/", invite, methods=post),
        Route(org + "/invitations/{invitation_id:int}/revoke", revoke, methods=post),
        Route("/invitations/{token:str}", invitation_page),
        Route("/invitations/{token:str}", accept_invitation, methods=post),
        Route(f"{org}/teams/", create_team, methods=post),
        Route(f"{team}/", team_page),
        Route(f"{team}/rename", rename_team, methods=post),
        Route(f"{team}/delete", confirm_delete_team),
        Route(f"{team}/delete", delete_team, methods=post),
        Route(f"{team}/members", add_team_member, methods=post),
        Route(team + "/members/{user_id:int}/remove", remove_team_member, methods=post),
        Route(f"{team}/projects", add_team_project, methods=post),
        Route(team + "/projects/{project_id:int}/remove", remove_team_project, methods=post),
    ]


ROUTES: list[Route] = _routes()
