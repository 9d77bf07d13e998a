"""Bearer tokens: `shoal token create|list|revoke`, what the API answers without one, with a bad,
revoked or under-scoped one, and that a token never reaches another organization's projects."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from sqlalchemy import select

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects, teams, users
from shoal.store.db import write_transaction
from shoal.store.schema import api_token
from tests.api.client import RULES, Api, create_token, shoal_command
from tests.support.http import post
from tests.support.server import RunningShoal

NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID = {"detail": "Invalid token"}


def add_other_organization(server: RunningShoal) -> None:
    """Organization `other` with its own project and member, other@example.com."""
    with write_transaction(server.engine) as conn:
        organization_id = projects.create_organization(conn, "other", "Other")
        projects.create_project(conn, organization_id, "Theirs", "python", DEFAULT_CONFIG_ID)
        member = users.create_user(conn, "other@example.com", "another long password")
        users.add_membership(conn, organization_id, member.id, "owner")


def test_token_create_prints_only_a_personal_token_on_stdout(shoal: RunningShoal) -> None:
    made = shoal_command(shoal, "token", "create", "--label", "ci")
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"sntryu_[0-9a-f]{64}\n", made.stdout)
    assert Api(shoal, made.stdout.strip()).get(RULES).status == 200


def test_an_organization_token_carries_shoals_url_and_the_org_as_sentry_cli_reads_them(
    shoal: RunningShoal,
) -> None:
    token = create_token(shoal, "--org", "default")
    prefix, payload, secret = token.split("_")
    assert prefix == "sntrys"
    # sentry-cli decodes the payload as padded base64 and the secret as unpadded base64 of 32 bytes.
    claims = json.loads(base64.b64decode(payload, validate=True))
    assert (claims["url"], claims["region_url"], claims["org"]) == (shoal.url, shoal.url, "default")
    assert isinstance(claims["iat"], float)
    assert len(base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True)) == 32
    assert Api(shoal, token).get(RULES).status == 200


def test_tokens_are_stored_only_as_their_sha256(shoal: RunningShoal) -> None:
    token = create_token(shoal)
    with shoal.engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(select(api_token))]
    assert [row["token_hash"] for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in repr(rows)
    stored = b"".join(path.read_bytes() for path in shoal.data_dir.glob("shoal.db*"))
    assert token.encode() not in stored and token[7:].encode() not in stored


def test_without_a_token_or_with_an_unknown_one_the_api_answers_401(shoal: RunningShoal) -> None:
    missing = Api(shoal, None).get(RULES)
    assert (missing.status, missing.json()) == (401, NOT_PROVIDED)
    basic = post(f"{shoal.url}/api/0/{RULES}", b"", {"Authorization": "Basic YWRtaW46YWRtaW4="}, "GET")
    assert (basic.status, basic.json()) == (401, NOT_PROVIDED)
    bad = Api(shoal, "sntryu_" + "0" * 64).get(RULES)
    assert (bad.status, bad.json()) == (401, INVALID)


def test_a_revoked_token_is_refused_at_once(shoal: RunningShoal) -> None:
    token = create_token(shoal, "--label", "to revoke")
    api = Api(shoal, token)
    assert api.get(RULES).status == 200
    listed = json.loads(shoal_command(shoal, "token", "list", "--json").stdout)
    assert [(t["label"], t["user"], t["organization"]) for t in listed] == [
        ("to revoke", "admin@example.com", None)
    ]
    assert listed[0]["lastUsed"] is not None
    revoked = shoal_command(shoal, "token", "revoke", str(listed[0]["id"]))
    assert revoked.returncode == 0, revoked.stderr
    assert (api.get(RULES).status, api.get(RULES).json()) == (401, INVALID)
    again = shoal_command(shoal, "token", "revoke", str(listed[0]["id"]))
    assert again.returncode == 1
    assert again.stderr.strip() == f"Error: no token {listed[0]['id']}"


def test_a_token_without_the_scope_gets_403(shoal: RunningShoal) -> None:
    reader = Api(shoal, create_token(shoal, "--scopes", "project:read"))
    assert reader.get(RULES).status == 200
    refused = reader.post(RULES, {"name": "x", "conditions": []})
    assert (refused.status, refused.json()) == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )
    assert Api(shoal, create_token(shoal, "--scopes", "event:read")).get(RULES).status == 403
    assert (
        Api(shoal, create_token(shoal, "--scopes", "alerts:write")).post(RULES, {"name": "y"}).status == 201
    )


def test_an_unknown_scope_is_refused_with_one_line(shoal: RunningShoal) -> None:
    made = shoal_command(shoal, "token", "create", "--scopes", "project:read project:fly")
    assert made.returncode == 1
    assert made.stdout == ""
    assert made.stderr.startswith("Error: unknown scope project:fly")
    assert len(made.stderr.strip().splitlines()) == 1


def test_a_member_of_another_organization_gets_404_for_this_organizations_project(
    shoal: RunningShoal,
) -> None:
    add_other_organization(shoal)
    theirs = Api(shoal, create_token(shoal, "--user", "other@example.com"))
    assert theirs.get("projects/other/theirs/rules/").status == 200
    for path in (RULES, f"projects/default/{shoal.project_id}/rules/", "projects/1/my-project/rules/"):
        reply = theirs.get(path)
        assert (reply.status, reply.json()) == (404, {"detail": "The requested resource does not exist"})
    assert theirs.post(RULES, {"name": "sneaky"}).status == 404


def test_an_organization_token_only_acts_in_its_organization(shoal: RunningShoal) -> None:
    add_other_organization(shoal)
    # The admin is a superuser: a personal token reaches every organization, an org token one.
    assert Api(shoal, create_token(shoal)).get("projects/other/theirs/rules/").status == 200
    scoped = Api(shoal, create_token(shoal, "--org", "default"))
    assert scoped.get(RULES).status == 200
    assert scoped.get("projects/other/theirs/rules/").status == 404


def test_only_members_may_make_an_organizations_token(shoal: RunningShoal) -> None:
    add_other_organization(shoal)
    made = shoal_command(shoal, "token", "create", "--user", "other@example.com", "--org", "default")
    assert made.returncode == 1
    assert "not a member" in made.stderr
    assert shoal_command(shoal, "token", "create", "--user", "nobody@example.com").returncode == 1


def test_ingest_paths_that_look_like_api_0_stay_with_ingest(shoal: RunningShoal) -> None:
    for path in ("/api/0/store/", "/api/0/envelope/", "/api/01/store/"):
        reply = post(f"{shoal.url}{path}", b"{}", {"Content-Type": "application/json"})
        # Ingest's refusals carry X-Sentry-Error; the API's never do.
        assert "x-sentry-error" in reply.headers, (path, reply.status, reply.body)
    assert "x-sentry-error" not in Api(shoal, None).get(RULES).headers


def test_a_members_token_sees_only_the_projects_their_teams_allow(shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        member = users.create_user(conn, "newcomer@example.com", "a long enough password")
        users.add_membership(conn, 1, member.id, "member")
        owners = teams.create_team(conn, 1, "Checkout")
        teams.add_project_team(conn, shoal.project_id, owners.id)
    newcomer = Api(shoal, create_token(shoal, "--user", "newcomer@example.com"))
    reply = newcomer.get(RULES)
    assert (reply.status, reply.json()) == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )
    with write_transaction(shoal.engine) as conn:
        teams.add_team_member(conn, owners.id, member.id)
    assert newcomer.get(RULES).status == 200
