"""Teams, who may see which project, who gets a project's alert emails, invitations, reset links and
sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, Engine

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import invitations, password_resets, projects, sessions, teams, users
from shoal.store.db import write_transaction
from shoal.store.invitations import INVITATION_SECONDS
from shoal.store.password_resets import RESET_SECONDS

NOW = 1_800_000_000.0
PASSWORD = "a long enough password"


@dataclass(frozen=True)
class Org:
    id: int
    users: dict[str, int]  # name → user id
    projects: dict[str, int]  # name → project id
    teams: dict[str, int]


def _user(conn: Connection, organization_id: int, name: str, role: str, *, superuser: bool = False) -> int:
    made = users.create_user(conn, f"{name}@example.com", PASSWORD, is_superuser=superuser)
    users.add_membership(conn, organization_id, made.id, role)
    return made.id


@pytest.fixture
def org(engine: Engine) -> Org:
    """owner, admin; alice in team A, bob in team B, carol in no team; projects owned by A, by B,
    by both, and by none."""
    with write_transaction(engine) as conn:
        organization_id = projects.create_organization(conn, "acme", "Acme")
        people = {name: _user(conn, organization_id, name, "member") for name in ("alice", "bob", "carol")}
        people["owner"] = _user(conn, organization_id, "owner", "owner")
        people["admin"] = _user(conn, organization_id, "admin", "admin")
        made = {
            name: projects.create_project(conn, organization_id, name, "python", DEFAULT_CONFIG_ID).id
            for name in ("a-only", "b-only", "both", "unowned")
        }
        team_a = teams.create_team(conn, organization_id, "Team A").id
        team_b = teams.create_team(conn, organization_id, "Team B").id
        teams.add_team_member(conn, team_a, people["alice"])
        teams.add_team_member(conn, team_b, people["bob"])
        for project_name, team_ids in (
            ("a-only", [team_a]),
            ("b-only", [team_b]),
            ("both", [team_a, team_b]),
        ):
            for team_id in team_ids:
                teams.add_project_team(conn, made[project_name], team_id)
    return Org(organization_id, people, made, {"A": team_a, "B": team_b})


def hidden(engine: Engine, org: Org, name: str) -> set[str]:
    with engine.connect() as conn:
        ids = teams.hidden_project_ids(conn, org.users[name], [org.id])
    return {name for name, project_id in org.projects.items() if project_id in ids}


def recipients(engine: Engine, org: Org, project: str) -> list[str]:
    with engine.connect() as conn:
        emails = users.alert_recipients(conn, org.id, org.projects[project])
    return [email.removesuffix("@example.com") for email in emails]


# ------------------------------------------------------------------------------- visibility


def test_a_member_sees_their_teams_projects_and_the_unowned_ones(engine: Engine, org: Org) -> None:
    assert hidden(engine, org, "alice") == {"b-only"}
    assert hidden(engine, org, "bob") == {"a-only"}


def test_a_member_in_no_team_sees_only_projects_no_team_owns(engine: Engine, org: Org) -> None:
    assert hidden(engine, org, "carol") == {"a-only", "b-only", "both"}


def test_nothing_is_hidden_in_organizations_where_the_user_is_not_a_plain_member(
    engine: Engine, org: Org
) -> None:
    with engine.connect() as conn:
        assert teams.hidden_project_ids(conn, org.users["carol"], []) == frozenset()


def test_projects_of_another_organization_are_not_counted_as_hidden(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        other = projects.create_organization(conn, "other", "Other")
        elsewhere = projects.create_project(conn, other, "secret", "python", DEFAULT_CONFIG_ID).id
        teams.add_project_team(conn, elsewhere, teams.create_team(conn, other, "Team X").id)
    with engine.connect() as conn:
        assert elsewhere not in teams.hidden_project_ids(conn, org.users["carol"], [org.id])


def test_deleting_a_team_leaves_its_projects_to_the_other_owners_or_to_everyone(
    engine: Engine, org: Org
) -> None:
    with write_transaction(engine) as conn:
        teams.delete_team(conn, org.teams["A"])
    assert hidden(engine, org, "carol") == {"b-only", "both"}
    assert hidden(engine, org, "alice") == {"b-only", "both"}


def test_leaving_the_organization_takes_the_user_out_of_its_teams(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        teams.leave_organization_teams(conn, org.id, org.users["alice"])
        assert teams.team_members(conn, org.teams["A"]) == []


def test_two_teams_of_one_organization_cannot_share_a_name(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn, pytest.raises(teams.TeamNameTaken):
        teams.create_team(conn, org.id, "team a")
    with write_transaction(engine) as conn:
        teams.rename_team(conn, org.teams["A"], "Team A")  # its own name is not "taken"
        teams.rename_team(conn, org.teams["A"], "Frontend")
        assert [t.name for t in teams.organization_teams(conn, org.id)] == ["Frontend", "Team B"]


# -------------------------------------------------------------------------- alert recipients


def test_alert_emails_go_to_who_may_see_the_project(engine: Engine, org: Org) -> None:
    assert recipients(engine, org, "a-only") == ["admin", "alice", "owner"]
    assert recipients(engine, org, "both") == ["admin", "alice", "bob", "owner"]
    assert recipients(engine, org, "unowned") == ["admin", "alice", "bob", "carol", "owner"]


def test_only_who_may_see_a_project_can_be_assigned_its_issues(engine: Engine, org: Org) -> None:
    with engine.connect() as conn:
        members = users.project_members(conn, org.id, org.projects["a-only"])
    assert sorted(m.email for m in members) == [f"{n}@example.com" for n in ("admin", "alice", "owner")]


def test_a_user_who_turned_a_projects_emails_off_is_left_out_of_that_project_only(
    engine: Engine, org: Org
) -> None:
    with write_transaction(engine) as conn:
        users.set_email_alerts(conn, org.users["carol"], org.projects["unowned"], False)
        users.set_email_alerts(conn, org.users["alice"], org.projects["unowned"], False)
        users.set_email_alerts(conn, org.users["alice"], org.projects["unowned"], True)  # and back on
    assert recipients(engine, org, "unowned") == ["admin", "alice", "bob", "owner"]
    with engine.connect() as conn:
        assert users.email_opt_outs(conn, org.users["carol"]) == {org.projects["unowned"]}
        assert users.email_opt_outs(conn, org.users["alice"]) == set()


def test_a_superuser_who_is_a_plain_member_still_sees_and_gets_everything(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        _user(conn, org.id, "root", "member", superuser=True)
    assert "root" in recipients(engine, org, "b-only")


# ------------------------------------------------------------------------------------ roles


def test_roles_and_the_owner_count(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        assert users.owner_count(conn, org.id) == 1
        users.set_role(conn, org.id, org.users["admin"], "owner")
        assert users.owner_count(conn, org.id) == 2
        assert users.organization_roles(conn, org.users["admin"]) == {org.id: "owner"}
        users.remove_membership(conn, org.id, org.users["carol"])
        assert users.role_of(conn, org.id, org.users["carol"]) is None


# ------------------------------------------------------------------------------ invitations


def _invite(conn: Connection, org: Org, email: str, now: float = NOW) -> tuple[invitations.Invitation, str]:
    return invitations.create_invitation(
        conn, org.id, email, "member", team_id=org.teams["A"], invited_by=org.users["owner"], now=now
    )


def test_an_invitation_is_found_by_its_token_and_accepted_once(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        made, token = _invite(conn, org, "New@Example.com")
        found = invitations.find_invitation(conn, token)
        assert found == made and found.email == "new@example.com" and found.is_open(NOW)
        assert invitations.mark_accepted(conn, made.id, NOW + 60)
        assert not invitations.mark_accepted(conn, made.id, NOW + 61)
        assert invitations.pending_invitations(conn, org.id) == []
        assert invitations.find_invitation(conn, "not-a-token") is None


def test_an_invitation_expires_after_7_days(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        made, _ = _invite(conn, org, "late@example.com")
        assert not made.is_open(NOW + INVITATION_SECONDS)
        assert not invitations.mark_accepted(conn, made.id, NOW + INVITATION_SECONDS)


def test_a_new_invitation_replaces_the_pending_one_and_revoking_ends_it(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        _, first = _invite(conn, org, "twice@example.com")
        second_invitation, second = _invite(conn, org, "twice@example.com", NOW + 5)
        assert invitations.find_invitation(conn, first) is None
        assert [i.id for i in invitations.pending_invitations(conn, org.id)] == [second_invitation.id]
        assert invitations.revoke_invitation(conn, org.id, second_invitation.id)
        assert invitations.find_invitation(conn, second) is None
        assert not invitations.revoke_invitation(conn, org.id, second_invitation.id)


# ---------------------------------------------------------------------- resets and sessions


def test_a_reset_link_works_once(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        token = password_resets.create_reset(conn, org.users["alice"], NOW)
        assert password_resets.valid_reset_user(conn, token, NOW + 10) == org.users["alice"]
        assert password_resets.use_reset(conn, token, NOW + 20) == org.users["alice"]
        assert password_resets.use_reset(conn, token, NOW + 30) is None
        assert password_resets.valid_reset_user(conn, token, NOW + 30) is None


def test_a_reset_link_expires_after_an_hour(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        token = password_resets.create_reset(conn, org.users["alice"], NOW)
        assert password_resets.use_reset(conn, token, NOW + RESET_SECONDS) is None


def test_using_one_reset_link_spends_the_users_other_links(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        first = password_resets.create_reset(conn, org.users["alice"], NOW)
        second = password_resets.create_reset(conn, org.users["alice"], NOW + 1)
        bobs = password_resets.create_reset(conn, org.users["bob"], NOW + 1)
        assert password_resets.use_reset(conn, second, NOW + 2) == org.users["alice"]
        assert password_resets.valid_reset_user(conn, first, NOW + 3) is None
        assert password_resets.valid_reset_user(conn, bobs, NOW + 3) == org.users["bob"]


def test_ending_a_users_sessions_can_keep_the_current_one(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        mine = sessions.create_session(conn, org.users["alice"])
        other = sessions.create_session(conn, org.users["alice"])
        bobs = sessions.create_session(conn, org.users["bob"])
        assert sessions.end_user_sessions(conn, org.users["alice"], keep=mine) == 1
        assert sessions.find_session(conn, mine) is not None
        assert sessions.find_session(conn, other) is None
        assert sessions.find_session(conn, bobs) is not None


def test_a_password_can_be_checked_and_changed(engine: Engine, org: Org) -> None:
    with write_transaction(engine) as conn:
        assert users.check_password(conn, org.users["alice"], PASSWORD)
        users.set_password(conn, org.users["alice"], "another long password")
        assert not users.check_password(conn, org.users["alice"], PASSWORD)
        assert users.authenticate(conn, "alice@example.com", "another long password") is not None
        assert not users.check_password(conn, 999_999, PASSWORD)
    assert users.password_problem("short") == "Use at least 10 characters."
    assert users.password_problem("x" * 10) is None
