"""Organizations, projects and client keys over `/api/0/`, in Sentry's shape: what each kind of
token lists, what it may not see (404 outside its organizations, 403 for a project its user's teams
keep from them), and the keys' DSNs; plus the OpenAPI document at `/api/0/schema/`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects, teams, users
from shoal.store.db import write_transaction
from shoal.store.projects import RateLimit
from tests.api.client import Api, create_token, items, record
from tests.support.http import post
from tests.support.server import RunningShoal, start_shoal

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("resources-api") / "data")
    with write_transaction(server.engine) as conn:
        other = projects.create_organization(conn, "other", "Other")
        projects.create_project(conn, other, "Theirs", "node", DEFAULT_CONFIG_ID)
    yield server
    server.stop()


def member_token(shoal: RunningShoal, role: str, organization_id: int = 1) -> str:
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    with write_transaction(shoal.engine) as conn:
        made = users.create_user(conn, email, PASSWORD)
        users.add_membership(conn, organization_id, made.id, role)
    return create_token(shoal, "--user", email)


def test_organizations_are_those_the_token_reaches(shoal: RunningShoal) -> None:
    superuser = Api(shoal, create_token(shoal))
    assert [org["slug"] for org in items(superuser.get("organizations/"))] == ["default", "other"]
    org = record(superuser.get("organizations/default/"))
    assert (org["id"], org["slug"], org["name"]) == ("1", "default", "Default")
    assert (org["isEarlyAdopter"], org["require2FA"], org["requireEmailVerification"]) == (
        False,
        False,
        False,
    )
    assert org["links"] == {"organizationUrl": shoal.url, "regionUrl": shoal.url}
    assert org["dateCreated"].endswith("Z") and org["features"] == []
    assert record(superuser.get("organizations/1/"))["slug"] == "default"

    scoped = Api(shoal, create_token(shoal, "--org", "other"))
    assert [org["slug"] for org in items(scoped.get("organizations/"))] == ["other"]
    assert scoped.get("organizations/default/").status == 404
    member = Api(shoal, member_token(shoal, "member"))
    assert [org["slug"] for org in items(member.get("organizations/"))] == ["default"]
    assert member.get("organizations/other/").status == 404
    assert Api(shoal, create_token(shoal, "--scopes", "event:read")).get("organizations/").status == 403


def test_projects_are_listed_with_their_organization_and_teams(shoal: RunningShoal) -> None:
    api = Api(shoal, create_token(shoal))
    listed = items(api.get("organizations/default/projects/"))
    mine = next(p for p in listed if p["slug"] == "my-project")
    assert (mine["id"], mine["name"], mine["platform"]) == (str(shoal.project_id), "my-project", "python")
    assert "organization" not in mine
    everywhere = {p["slug"]: p for p in items(api.get("projects/"))}
    assert everywhere["theirs"]["organization"]["slug"] == "other"
    detail = record(api.get("projects/default/my-project/"))
    assert detail["organization"]["slug"] == "default"
    assert record(api.get(f"projects/default/{shoal.project_id}/"))["slug"] == "my-project"
    assert api.get("projects/default/theirs/").status == 404

    with write_transaction(shoal.engine) as conn:
        owned = projects.create_project(conn, 1, f"Owned {uuid.uuid4().hex[:4]}", "python", DEFAULT_CONFIG_ID)
        team = teams.create_team(conn, 1, f"Web {uuid.uuid4().hex[:4]}")
        teams.add_project_team(conn, owned.id, team.id)
    shown = record(api.get(f"projects/default/{owned.slug}/"))
    assert shown["team"] == {"id": str(team.id), "slug": team.slug, "name": team.name}
    assert shown["teams"] == [shown["team"]] and shown["isMember"] is False

    member = Api(shoal, member_token(shoal, "member"))
    assert owned.slug not in {p["slug"] for p in items(member.get("organizations/default/projects/"))}
    assert owned.slug not in {p["slug"] for p in items(member.get("projects/"))}
    assert member.get(f"projects/default/{owned.slug}/").status == 403
    admin = Api(shoal, member_token(shoal, "admin"))
    assert owned.slug in {p["slug"] for p in items(admin.get("organizations/default/projects/"))}


def test_keys_carry_their_dsn_and_rate_limit(shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        extra = projects.add_key(conn, shoal.project_id, "Limited")
        projects.set_key_rate_limit(conn, extra.id, RateLimit(100, 60))
        projects.set_key_enabled(conn, extra.id, False)
    api = Api(shoal, create_token(shoal))
    first, second = items(api.get("projects/default/my-project/keys/"))[:2]
    assert first["dsn"]["public"] == shoal.dsn
    assert (first["id"], first["public"], first["name"]) == (shoal.public_key, shoal.public_key, "Default")
    assert (first["isActive"], first["rateLimit"], first["projectId"]) == (True, None, shoal.project_id)
    assert (second["label"], second["isActive"], second["rateLimit"]) == (
        "Limited",
        False,
        {"count": 100, "window": 60},
    )
    assert (
        Api(shoal, create_token(shoal, "--scopes", "event:read"))
        .get("projects/default/my-project/keys/")
        .status
        == 403
    )


def test_the_openapi_document_is_served_without_a_token(shoal: RunningShoal) -> None:
    reply = post(f"{shoal.url}/api/0/schema/", b"", {}, method="GET")
    assert reply.status == 200
    document = reply.json()
    assert isinstance(document, dict) and document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": shoal.url}]
    paths = document["paths"]
    for path in (
        "/api/0/",
        "/api/0/organizations/",
        "/api/0/projects/{org_slug}/{project_slug}/keys/",
        "/api/0/projects/{org_slug}/{project_slug}/issues/",
        "/api/0/organizations/{org_slug}/issues/{issue_id}/events/{event_id}/",
        "/api/0/organizations/{org_slug}/eventids/{event_id}/",
        "/api/0/organizations/{org_slug}/releases/{version}/previous-with-commits/",
    ):
        assert path in paths, path
    assert set(paths["/api/0/projects/{org_slug}/{project_slug}/issues/"]) == {"get", "put", "delete"}
