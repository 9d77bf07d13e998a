"""Accounts and access in the UI: a password reset through the emailed link, an invitation accepted,
a password changed (in Chromium); and over plain HTTP: every new form refusing a post without its
CSRF token, who sees which team's project, who may change alert rules and roles, notification
settings deciding who gets alert emails, the login rate limit, and reset links that say nothing
about who has an account and work once."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shoal.bootstrap import default_organization_id
from shoal.store import alert_rules, invitations, password_resets, projects, teams, users
from shoal.store.db import write_transaction
from shoal.store.schema import invitation, membership, team
from shoal.web.account_pages import LoginLimiter
from tests.support.browser_login import log_in
from tests.support.events import python_error
from tests.support.form_client import Answer, FormClient, text_of
from tests.support.http import auth_header, envelope_url, event_envelope, post
from tests.support.receivers import Mailbox, smtp_server
from tests.support.server import ADMIN_EMAIL, ADMIN_PASSWORD, RunningShoal, start_shoal, wait_until
from tests.support.web_client import WebClient

PASSWORD = "a long enough password"
NEW_PASSWORD = "quite another passphrase"
NOT_YOUR_TEAM = "This project belongs to a team you are not in."
MAIL_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[RunningShoal]:
    """One server for the module, with email through a real SMTP server (aiosmtpd)."""
    with smtp_server(mailbox) as port:
        env = {
            "SHOAL_SMTP_HOST": "127.0.0.1",
            "SHOAL_SMTP_PORT": str(port),
            "SHOAL_EMAIL_FROM": "Shoal <shoal@example.com>",
        }
        running = start_shoal(tmp_path_factory.mktemp("accounts-ui") / "data", extra_env=env)
        yield running
        running.stop()


@pytest.fixture(scope="module")
def no_email(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    """A server without SHOAL_SMTP_HOST."""
    running = start_shoal(tmp_path_factory.mktemp("accounts-no-email") / "data")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(server: RunningShoal) -> FormClient:
    """The first-start account: a superuser and owner."""
    return FormClient(server)


# --------------------------------------------------------------------------------- helpers


class Anonymous(FormClient):
    """A client nobody logged in with. Its form token is the login form's double-submit cookie,
    which the forgot / reset / invitation forms share."""

    def __init__(self, shoal: RunningShoal) -> None:
        WebClient.__init__(self, shoal)
        self._token = None

    def log_in_as(self, email: str, password: str = PASSWORD) -> Answer:
        answer = self.post("/login", {"email": email, "password": password, "next": "/"})
        self._token = None  # logged in, forms carry the session's token from now on
        return answer


def person(shoal: RunningShoal, role: str = "member", *, team_ids: tuple[int, ...] = ()) -> str:
    """A new user of the default organization with `role`, in the teams given; their email."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    with write_transaction(shoal.engine) as conn:
        made = users.create_user(conn, email, PASSWORD)
        users.add_membership(conn, default_organization_id(conn), made.id, role)
        for team_id in team_ids:
            teams.add_team_member(conn, team_id, made.id)
    return email


def logged_in(shoal: RunningShoal, email: str, password: str = PASSWORD) -> FormClient:
    client = Anonymous(shoal)
    assert client.log_in_as(email, password).status == 200
    return client


def user_id(shoal: RunningShoal, email: str) -> int:
    with shoal.engine.connect() as conn:
        found = users.find_user_by_email(conn, email)
    assert found is not None
    return found.id


@dataclass(frozen=True)
class Owned:
    team_id: int
    project: projects.ProjectInfo


def team_project(shoal: RunningShoal, label: str) -> Owned:
    """A new team owning a new project of the default organization."""
    tag = uuid.uuid4().hex[:6]
    with write_transaction(shoal.engine) as conn:
        organization_id = default_organization_id(conn)
        made_team = teams.create_team(conn, organization_id, f"{label} {tag}")
        project = projects.create_project(
            conn, organization_id, f"{label} {tag}", "python", "newstyle:2023-01-11"
        )
        teams.add_project_team(conn, project.id, made_team.id)
    return Owned(made_team.id, project)


def unowned_project(shoal: RunningShoal, label: str) -> projects.ProjectInfo:
    with write_transaction(shoal.engine) as conn:
        name = f"{label} {uuid.uuid4().hex[:6]}"
        return projects.create_project(
            conn, default_organization_id(conn), name, "python", "newstyle:2023-01-11"
        )


def issue_in(shoal: RunningShoal, project_id: int, title: str) -> int:
    """An issue of the project, made by one event through ingest; its id."""
    with shoal.engine.connect() as conn:
        key = projects.first_enabled_key(conn, project_id)
    assert key is not None
    event = python_error("AccessError", f"open_{uuid.uuid4().hex[:8]}", title)
    reply = post(
        envelope_url(shoal.url, project_id), event_envelope(event, event["event_id"]), auth_header(key)
    )
    assert reply.status == 200
    shoal.wait_for_event(event["event_id"])
    with shoal.engine.connect() as conn:
        from shoal.store.schema import event as event_table

        found = conn.execute(
            select(event_table.c.issue_id).where(event_table.c.event_id == event["event_id"])
        )
        return int(found.scalar_one())


def mail_to(mailbox: Mailbox, address: str, subject: str, since: int = 0) -> EmailMessage:
    """The first message to `address` whose subject contains `subject`, received after the first
    `since` messages; waits for it."""

    def found() -> EmailMessage | None:
        for message in mailbox.messages[since:]:
            if address in str(message["To"]) and subject in str(message["Subject"]):
                return message
        return None

    wait_until(lambda: found() is not None, MAIL_TIMEOUT, f"an email to {address} about {subject!r}")
    message = found()
    assert message is not None
    return message


def link_in(message: EmailMessage, path: str) -> str:
    body = message.get_content()
    match = re.search(rf"https?://\S+{re.escape(path)}\S+", str(body))
    assert match, body
    return match[0]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def session_cookie(shoal: RunningShoal, email: str, password: str = PASSWORD) -> str:
    """Log in with a cookie jar of our own and return the session cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{shoal.url}/login", timeout=30) as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
    assert token
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token[1], "next": "/"})
    with opener.open(f"{shoal.url}/login", form.encode(), timeout=30) as response:
        assert response.status == 200
    return next(cookie.value or "" for cookie in jar if cookie.name == "shoal_session")


def with_cookie(shoal: RunningShoal, path: str, cookie: str, data: bytes | None = None) -> int:
    """The status of a request carrying only this session cookie, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        f"{shoal.url}{path}", data, headers={"Cookie": f"shoal_session={cookie}"}
    )
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def session_works(shoal: RunningShoal, cookie: str) -> bool:
    """Whether this session cookie still gets a page (rather than a redirect to the login)."""
    return with_cookie(shoal, "/account/", cookie) == 200


# ------------------------------------------------------------------------------------ browser


@pytest.mark.browser
def test_a_forgotten_password_is_reset_through_the_emailed_link(
    page: Page, server: RunningShoal, mailbox: Mailbox
) -> None:
    email = person(server)
    old_session = session_cookie(server, email)
    page.goto(f"{server.url}/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#reset-sent")).to_contain_text(f"If an account exists for {email}")

    link = link_in(mail_to(mailbox, email, "Reset your Shoal password"), "/reset-password/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Set new password").click()
    expect(page.locator("#new_password-error")).to_have_text("Use at least 10 characters.")

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.locator("#password-reset")).to_have_text(
        "Your password was changed. Log in with the new one."
    )
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_have_text(email)

    assert not session_works(server, old_session)
    assert Anonymous(server).log_in_as(email, PASSWORD).status == 401
    page.goto(link)  # used once: refused now
    expect(page.locator("#link-refused")).to_be_visible()


@pytest.mark.browser
def test_an_invitation_is_sent_and_accepted_into_a_team(
    page: Page, server: RunningShoal, mailbox: Mailbox
) -> None:
    owned = team_project(server, "Invited")
    invitee = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    log_in(page, server)
    page.get_by_role("link", name="Members & teams").click()
    page.get_by_label("Email", exact=True).fill(invitee)
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_label("Team (optional)").select_option(str(owned.team_id))
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("p.notice")).to_contain_text(f"Invitation sent to {invitee}")
    expect(page.locator("table.invitations")).to_contain_text(invitee)

    link = link_in(mail_to(mailbox, invitee, "You are invited"), "/invitations/")
    page.context.clear_cookies()
    page.goto(link)
    expect(page.locator("#invitation-summary")).to_contain_text(f"{ADMIN_EMAIL} invited {invitee} as member")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account and join").click()
    expect(page.locator(".who")).to_have_text(invitee)

    page.goto(f"{server.url}/projects/{owned.project.id}/issues/")
    expect(page.locator("h1")).to_contain_text(owned.project.name)
    with server.engine.connect() as conn:
        accepted = conn.execute(
            select(invitation.c.accepted_at).where(invitation.c.email == invitee)
        ).scalar()
        assert accepted is not None
        assert [m.email for m in teams.team_members(conn, owned.team_id)] == [invitee]
    page.goto(link)
    expect(page.locator("#invitation-refused")).to_be_visible()


@pytest.mark.browser
def test_a_password_is_changed_on_the_account_page(page: Page, server: RunningShoal) -> None:
    email = person(server)
    elsewhere = session_cookie(server, email)
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Account").click()
    expect(page.locator("#account-email")).to_have_text(email)

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#current_password-error")).to_have_text("That is not your current password.")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("p.notice")).to_contain_text("Your password was changed")
    assert not session_works(server, elsewhere)
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_have_text(email)


# --------------------------------------------------------------------------------------- CSRF


def test_every_new_form_refuses_a_post_without_its_csrf_token(
    server: RunningShoal, admin: FormClient
) -> None:
    owned = team_project(server, "Csrf")
    member_email = person(server, team_ids=(owned.team_id,))
    member = user_id(server, member_email)
    with write_transaction(server.engine) as conn:
        organization_id = default_organization_id(conn)
        pending, invitation_token = invitations.create_invitation(
            conn,
            organization_id,
            "csrf@example.com",
            "member",
            team_id=None,
            invited_by=None,
            now=time.time(),
        )
        reset_token = password_resets.create_reset(conn, member, time.time())
    org = f"/organizations/{organization_id}"
    team_path = f"{org}/teams/{owned.team_id}"
    with_session = {
        "/account/password": {"current_password": ADMIN_PASSWORD, "new_password": NEW_PASSWORD},
        "/account/notifications/": {},
        f"{org}/members/{member}/role": {"role": "admin"},
        f"{org}/members/{member}/remove": {},
        f"{org}/invitations/": {"email": "new@example.com", "role": "member"},
        f"{org}/invitations/{pending.id}/revoke": {},
        f"{org}/teams/": {"name": "Never made"},
        f"{team_path}/rename": {"name": "Never renamed"},
        f"{team_path}/delete": {},
        f"{team_path}/members": {"user": str(member)},
        f"{team_path}/members/{member}/remove": {},
        f"{team_path}/projects": {"project": str(owned.project.id)},
        f"{team_path}/projects/{owned.project.id}/remove": {},
        f"/invitations/{invitation_token}": {},
    }
    for path, fields in with_session.items():
        answer = admin.post(path, fields, with_token=False)
        assert answer.status == 400, (path, answer.status)
    passwords = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    without_session = {
        "/forgot-password": {"email": member_email},
        f"/reset-password/{reset_token}": passwords,
        f"/invitations/{invitation_token}": {"password": PASSWORD, "password_again": PASSWORD},
    }
    for path, fields in without_session.items():
        answer = Anonymous(server).post(path, fields, with_token=False)
        assert answer.status == 400, (path, answer.status)

    with server.engine.connect() as conn:
        assert users.role_of(conn, organization_id, member) == "member"
        assert [m.id for m in teams.team_members(conn, owned.team_id)] == [member]
        assert teams.team_project_ids(conn, owned.team_id) == [owned.project.id]
        assert (
            conn.execute(select(team.c.name).where(team.c.name.in_(["Never made", "Never renamed"]))).all()
            == []
        )
        assert invitations.find_invitation(conn, invitation_token) is not None
        assert users.find_user_by_email(conn, "csrf@example.com") is None
        assert password_resets.valid_reset_user(conn, reset_token, time.time()) == member
    assert Anonymous(server).log_in_as(ADMIN_EMAIL, ADMIN_PASSWORD).status == 200  # password unchanged


# --------------------------------------------------------------------- teams and visibility


def test_a_member_of_team_a_cannot_open_team_bs_project_by_url(server: RunningShoal) -> None:
    team_a, team_b = team_project(server, "Alpha"), team_project(server, "Beta")
    open_to_all = unowned_project(server, "Shared")
    b_issue = issue_in(server, team_b.project.id, "only for team B")
    member = logged_in(server, person(server, team_ids=(team_a.team_id,)))

    for path in (
        f"/projects/{team_b.project.id}/issues/",
        f"/issues/{b_issue}/",
        f"/issues/{b_issue}/events/",
    ):
        answer = member.fetch(path)
        assert (answer.status, answer.text()) == (403, NOT_YOUR_TEAM), path
    for project in (team_a.project, open_to_all):
        answer = member.fetch(f"/projects/{project.id}/issues/")
        assert answer.status == 200 and project.name in answer.text()
    listed = member.fetch("/projects/").text()
    assert team_a.project.name in listed and open_to_all.name in listed
    assert team_b.project.name not in listed


def test_owners_and_admins_see_every_team_project(server: RunningShoal) -> None:
    owned = team_project(server, "Gamma")
    b_issue = issue_in(server, owned.project.id, "seen by admins")
    admin_client = logged_in(server, person(server, "admin"))
    assert admin_client.fetch(f"/projects/{owned.project.id}/issues/").status == 200
    assert admin_client.fetch(f"/issues/{b_issue}/").status == 200
    assert owned.project.name in admin_client.fetch("/projects/").text()


def test_a_project_of_another_organization_answers_404(server: RunningShoal) -> None:
    with write_transaction(server.engine) as conn:
        other = projects.create_organization(conn, f"other-{uuid.uuid4().hex[:6]}", "Other")
        elsewhere = projects.create_project(conn, other, "elsewhere", "python", "newstyle:2023-01-11")
    member = logged_in(server, person(server))
    assert member.fetch(f"/projects/{elsewhere.id}/issues/").status == 404
    assert member.fetch(f"/organizations/{other}/members/").status == 404


def test_deleting_a_team_opens_its_project_to_every_member(server: RunningShoal, admin: FormClient) -> None:
    owned = team_project(server, "Delta")
    member = logged_in(server, person(server))
    assert member.fetch(f"/projects/{owned.project.id}/issues/").status == 403
    with server.engine.connect() as conn:
        organization_id = default_organization_id(conn)
    confirm = admin.fetch(f"/organizations/{organization_id}/teams/{owned.team_id}/delete")
    assert "Delete the team" in confirm.text()
    done = admin.post(f"/organizations/{organization_id}/teams/{owned.team_id}/delete", {})
    assert done.status == 200 and "The team was deleted" in done.text()
    assert member.fetch(f"/projects/{owned.project.id}/issues/").status == 200


def test_an_admin_builds_a_team_and_gives_it_a_project(server: RunningShoal) -> None:
    manager = logged_in(server, person(server, "admin"))
    newcomer_email = person(server)
    project = unowned_project(server, "Epsilon")
    with server.engine.connect() as conn:
        organization_id = default_organization_id(conn)
    name = f"Platform {uuid.uuid4().hex[:6]}"
    made = manager.post(f"/organizations/{organization_id}/teams/", {"name": name})
    assert made.status == 200 and name in made.text()
    team_path = urllib.parse.urlsplit(made.url).path
    assert manager.post(f"{team_path}members", {"user": str(user_id(server, newcomer_email))}).status == 200
    assert manager.post(f"{team_path}projects", {"project": str(project.id)}).status == 200
    page = manager.fetch(team_path).text()
    assert newcomer_email in page and project.name in page
    duplicate = manager.post(f"/organizations/{organization_id}/teams/", {"name": name})
    assert duplicate.status == 400 and "Another team of this organization has this name." in duplicate.text()

    outsider = logged_in(server, person(server))
    assert outsider.fetch(f"/projects/{project.id}/issues/").status == 403
    assert logged_in(server, newcomer_email).fetch(f"/projects/{project.id}/issues/").status == 200


# ------------------------------------------------------------------------------------ roles


def test_a_member_cannot_change_alert_rules_while_an_admin_can(server: RunningShoal) -> None:
    project = unowned_project(server, "Rules")
    with server.engine.connect() as conn:
        [rule] = alert_rules.project_rules(conn, project.id)
        organization_id = default_organization_id(conn)
    member = logged_in(server, person(server))
    status_path = f"/projects/{project.id}/alerts/{rule.id}/status"
    refused = member.post(status_path, {"status": "disabled"})
    assert refused.status == 403 and "Only owners and admins" in refused.text()
    assert member.post(f"/projects/{project.id}/alerts/{rule.id}/delete", {}).status == 403
    assert member.post(f"/projects/{project.id}/alerts/new", {"name": "mine"}).status == 403
    assert member.post(f"/projects/{project.id}/grouping/regroup", {}).status == 403
    new_channel = {"kind": "webhook", "name": "mine", "url": "https://example.com/hook"}
    assert member.post(f"/organizations/{organization_id}/channels/new", new_channel).status == 403
    with server.engine.connect() as conn:
        assert alert_rules.get_rule(conn, rule.id).status == "active"  # type: ignore[union-attr]
    assert member.fetch(f"/projects/{project.id}/alerts/").status == 200  # reading is fine

    manager = logged_in(server, person(server, "admin"))
    done = manager.post(status_path, {"status": "disabled"})
    assert done.status == 200 and "Disabled" in done.text()
    with server.engine.connect() as conn:
        assert alert_rules.get_rule(conn, rule.id).status == "disabled"  # type: ignore[union-attr]


def test_a_member_can_still_triage_and_comment(server: RunningShoal) -> None:
    project = unowned_project(server, "Triage")
    issue_id = issue_in(server, project.id, "members triage")
    member = logged_in(server, person(server))
    assert member.post(f"/issues/{issue_id}/comment", {"text": "looking at it"}).status == 200
    assert member.post(f"/issues/{issue_id}/resolve", {"kind": "now"}).status == 200


def test_only_owners_change_roles_and_the_last_owner_stays(server: RunningShoal) -> None:
    with write_transaction(server.engine) as conn:
        organization_id = projects.create_organization(conn, f"solo-{uuid.uuid4().hex[:6]}", "Solo")
        people = {}
        for role in ("owner", "admin", "member"):
            made = users.create_user(conn, f"solo-{role}-{uuid.uuid4().hex[:6]}@example.com", PASSWORD)
            users.add_membership(conn, organization_id, made.id, role)
            people[role] = made
    members = f"/organizations/{organization_id}/members"
    owner = logged_in(server, people["owner"].email)
    for action, fields in (("role", {"role": "admin"}), ("remove", {})):
        refused = owner.post(f"{members}/{people['owner'].id}/{action}", fields)
        assert refused.status == 400 and "The last owner cannot be" in refused.text(), action

    admin_client = logged_in(server, people["admin"].email)
    refused = admin_client.post(f"{members}/{people['member'].id}/role", {"role": "admin"})
    assert (refused.status, refused.text()) == (403, "Only owners of this organization can change roles.")
    assert admin_client.post(f"{members}/{people['owner'].id}/remove", {}).status == 403
    as_owner = admin_client.post(
        f"{members[: -len('/members')]}/invitations/", {"email": "x@example.com", "role": "owner"}
    )
    assert as_owner.status == 400 and "Only owners can invite owners." in as_owner.text()

    assert owner.post(f"{members}/{people['member'].id}/role", {"role": "owner"}).status == 200
    assert owner.post(f"{members}/{people['owner'].id}/role", {"role": "member"}).status == 200
    with server.engine.connect() as conn:
        assert users.organization_roles(conn, people["member"].id) == {organization_id: "owner"}
        assert users.role_of(conn, organization_id, people["owner"].id) == "member"
    assert admin_client.post(f"{members}/{people['owner'].id}/remove", {}).status == 200  # a member now
    with server.engine.connect() as conn:
        assert (
            conn.execute(select(membership.c.user_id).where(membership.c.user_id == people["owner"].id)).all()
            == []
        )


def test_a_pending_invitation_can_be_revoked(server: RunningShoal, admin: FormClient) -> None:
    with server.engine.connect() as conn:
        organization_id = default_organization_id(conn)
    invitee = f"revoked-{uuid.uuid4().hex[:6]}@example.com"
    sent = admin.post(f"/organizations/{organization_id}/invitations/", {"email": invitee, "role": "member"})
    assert sent.status == 200 and f"Invitation sent to {invitee}" in sent.text()
    with server.engine.connect() as conn:
        [pending] = [i for i in invitations.pending_invitations(conn, organization_id) if i.email == invitee]
    revoked = admin.post(f"/organizations/{organization_id}/invitations/{pending.id}/revoke", {})
    assert revoked.status == 200 and "its link no longer works" in revoked.text()
    with server.engine.connect() as conn:
        assert invitations.get_invitation(conn, pending.id) is None


# ------------------------------------------------------------------ notification settings


def test_alert_emails_follow_each_members_notification_settings(
    server: RunningShoal, mailbox: Mailbox
) -> None:
    project = unowned_project(server, "Noisy")
    quiet_email, keen_email = person(server), person(server)
    quiet = logged_in(server, quiet_email)
    page = quiet.fetch("/account/notifications/")
    assert re.search(rf'value="{project.id}" checked', page.body)
    others = re.findall(r'name="email" value="(\d+)"', page.body)
    saved = quiet.post(
        "/account/notifications/", [("email", pid) for pid in others if pid != str(project.id)]
    )
    assert saved.status == 200 and "Saved." in saved.text()
    assert re.search(rf'value="{project.id}">', saved.body)  # unchecked now

    since = len(mailbox.messages)
    title = f"noisy {uuid.uuid4().hex[:8]}"
    issue_in(server, project.id, title)
    alert = mail_to(mailbox, keen_email, title, since)
    assert keen_email in str(alert["To"]) and ADMIN_EMAIL in str(alert["To"])
    assert quiet_email not in str(alert["To"])


def test_team_projects_are_not_offered_in_notification_settings_to_outsiders(server: RunningShoal) -> None:
    owned = team_project(server, "Hidden")
    outsider = logged_in(server, person(server))
    assert owned.project.name not in outsider.fetch("/account/notifications/").text()


# ---------------------------------------------------------------------- resets and login


def test_the_reset_page_does_not_reveal_whether_an_account_exists(
    server: RunningShoal, mailbox: Mailbox
) -> None:
    known, unknown = person(server), f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    since = len(mailbox.messages)
    answers = {
        email: Anonymous(server).post("/forgot-password", {"email": email}) for email in (known, unknown)
    }
    assert {answer.status for answer in answers.values()} == {200}
    assert answers[known].text().replace(known, "EMAIL") == answers[unknown].text().replace(unknown, "EMAIL")
    mail_to(mailbox, known, "Reset your Shoal password", since)
    assert not any(unknown in str(message["To"]) for message in mailbox.messages[since:])


def test_an_expired_or_used_reset_link_is_refused(server: RunningShoal) -> None:
    email = person(server)
    with write_transaction(server.engine) as conn:
        expired = password_resets.create_reset(conn, user_id(server, email), time.time() - 3601)
        fresh = password_resets.create_reset(conn, user_id(server, email), time.time())
    passwords = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    for token in (expired, "no-such-token"):
        answer = Anonymous(server).fetch(f"/reset-password/{token}")
        assert answer.status == 400 and "This link cannot be used" in answer.text()
        assert Anonymous(server).post(f"/reset-password/{token}", passwords).status == 400
    assert Anonymous(server).post(f"/reset-password/{fresh}", passwords).status == 200
    again = Anonymous(server).post(
        f"/reset-password/{fresh}", {**passwords, "new_password": "third password!"}
    )
    assert again.status == 400 and "This link cannot be used" in again.text()
    assert Anonymous(server).log_in_as(email, NEW_PASSWORD).status == 200


def test_five_failed_logins_for_an_email_refuse_even_the_right_password(server: RunningShoal) -> None:
    email, other = person(server), person(server)
    client = Anonymous(server)
    for _ in range(5):
        assert client.log_in_as(email, "wrong password").status == 401
    refused = client.log_in_as(email, PASSWORD)
    assert refused.status == 429
    assert "Too many failed logins" in refused.text() and "try again in 15 minutes" in refused.text()
    assert Anonymous(server).log_in_as(other).status == 200  # other accounts are not locked


def test_twenty_failed_logins_from_one_address_refuse_every_login_from_it(shoal: RunningShoal) -> None:
    client = Anonymous(shoal)
    for n in range(20):
        assert client.log_in_as(f"guess-{n}@example.com", "wrong password").status == 401
    assert Anonymous(shoal).log_in_as(ADMIN_EMAIL, ADMIN_PASSWORD).status == 429


def test_the_limit_lifts_when_the_window_ends() -> None:
    from shoal.clock import ManualClock

    clock = ManualClock(1000.0)
    limiter = LoginLimiter(per_email=2, per_address=100, window=900, clock=clock)
    limiter.failed("a@example.com", "10.0.0.1")
    clock.advance(100)
    limiter.failed("a@example.com", "10.0.0.2")
    assert limiter.retry_after("a@example.com", "10.0.0.3") == 801
    assert limiter.retry_after("b@example.com", "10.0.0.1") is None
    clock.advance(800)
    assert limiter.retry_after("a@example.com", "10.0.0.3") is None
    limiter.failed("a@example.com", "10.0.0.1")  # a new window starts
    assert limiter.retry_after("a@example.com", "10.0.0.1") is None


def test_logging_out_ends_the_session_on_the_server(server: RunningShoal) -> None:
    email = person(server)
    cookie, other = session_cookie(server, email), session_cookie(server, email)
    request = urllib.request.Request(f"{server.url}/account/", headers={"Cookie": f"shoal_session={cookie}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
    assert token
    form = urllib.parse.urlencode({"csrf_token": token[1]}).encode()
    assert with_cookie(server, "/logout", cookie, form) == 303
    # The cookie would still be sent by a copy of it: the server no longer knows it.
    assert not session_works(server, cookie)
    assert session_works(server, other)  # the user's other sessions live on


# ------------------------------------------------------------------------------ no email


def test_without_email_the_reset_page_says_to_ask_an_admin(no_email: RunningShoal) -> None:
    answer = Anonymous(no_email).fetch("/forgot-password")
    assert answer.status == 200
    assert "cannot send email" in answer.text() and "shoal user set-password EMAIL" in answer.text()


def test_without_email_an_invitation_shows_its_link_and_the_link_works(no_email: RunningShoal) -> None:
    with no_email.engine.connect() as conn:
        organization_id = default_organization_id(conn)
    invitee = f"by-hand-{uuid.uuid4().hex[:6]}@example.com"
    shown = FormClient(no_email).post(
        f"/organizations/{organization_id}/invitations/", {"email": invitee, "role": "admin"}
    )
    assert shown.status == 200 and "SHOAL_SMTP_HOST is not set" in shown.text()
    match = re.search(r"/invitations/[\w-]+", text_of(shown.body))
    assert match

    newcomer = Anonymous(no_email)
    form = newcomer.fetch(match[0])
    assert "Create account and join" in form.text()
    joined = newcomer.post(match[0], {"password": PASSWORD, "password_again": PASSWORD})
    assert joined.status == 200 and invitee in joined.text()
    with no_email.engine.connect() as conn:
        assert users.role_of(conn, organization_id, user_id(no_email, invitee)) == "admin"
