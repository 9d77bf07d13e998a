"""Releases, their commits and refs, deploys, repositories and `GET /api/0/` over the API, in
Sentry's shapes and status codes, on a running `shoal run` with tokens from `shoal token create`.

Most tests share one server; each uses versions, and where previous releases matter a project, of
its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from shoal.bootstrap import default_organization_id
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import commits, projects, releases, teams, users
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo
from shoal.store.schema import commit_file, organization, repository
from tests.api.client import Api, create_token, items, links, record
from tests.support.events import python_error, send_and_wait
from tests.support.server import RunningShoal, start_shoal

RELEASES = "organizations/default/releases/"
BAD_DATE = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    started = start_shoal(tmp_path_factory.mktemp("releases-api") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def api(server: RunningShoal) -> Api:
    return Api(server, create_token(server))


def release_path(version: str, rest: str = "") -> str:
    return f"{RELEASES}{quote(version, safe='')}/{rest}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_project(server: RunningShoal, name: str | None = None) -> ProjectInfo:
    with write_transaction(server.engine) as conn:
        organization_id = default_organization_id(conn)
        return projects.create_project(
            conn, organization_id, name or unique("proj"), "python", DEFAULT_CONFIG_ID
        )


def local_commit(
    sha: str, author: str, email: str, files: list[tuple[str, str]], message: str
) -> dict[str, Any]:
    """A commit as `sentry-cli releases set-commits --local` sends it (reference/protocol.md §7)."""
    return {
        "patch_set": [{"path": path, "type": kind} for path, kind in files],
        "repository": "origin",
        "author_name": author,
        "author_email": email,
        "timestamp": "2026-11-24T17:14:34+01:00",
        "message": message,
        "id": sha,
    }


def sha(seed: str) -> str:
    return (seed.encode().hex() * 40)[:40]


def create(api: Api, version: str, projects_: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    reply = api.post(RELEASES, {"version": version, "projects": projects_ or ["my-project"], **fields})
    assert reply.status == 201, reply.body
    return record(reply)


# ----------------------------------------------------------------------------------- the cycle


def test_a_release_is_created_reported_again_changed_and_deleted_in_sentrys_shape(
    shoal_on_each_store: RunningShoal,
) -> None:
    api = Api(shoal_on_each_store, create_token(shoal_on_each_store))
    made = api.post(
        RELEASES,
        {"version": "1.0.0", "projects": ["my-project"], "dateStarted": "2026-11-24T17:14:34.286238310Z"},
    )
    assert made.status == 201, made.body
    shown = record(made)
    assert shown["version"] == "1.0.0"
    assert shown["dateStarted"] == "2026-11-24T17:14:34.286238Z"
    assert (shown["dateReleased"], shown["ref"], shown["url"]) == (None, None, None)
    assert isinstance(shown["dateCreated"], str) and shown["dateCreated"].endswith("Z")
    assert (shown["newGroups"], shown["commitCount"], shown["deployCount"]) == (0, 0, 0)
    assert (shown["lastCommit"], shown["lastDeploy"], shown["authors"]) == (None, None, [])
    assert (shown["firstEvent"], shown["lastEvent"]) == (None, None)
    assert [(p["id"], p["slug"], p["newGroups"]) for p in shown["projects"]] == [
        (shoal_on_each_store.project_id, "my-project", 0)
    ]

    again = api.post(
        RELEASES, {"version": "1.0.0", "projects": ["my-project"], "url": "https://ci.example.com/7"}
    )
    assert again.status == 208, again.body
    assert record(again)["url"] == "https://ci.example.com/7"
    assert record(again)["dateCreated"] == shown["dateCreated"]

    finalized = api.put(
        release_path("1.0.0"), {"projects": ["my-project"], "dateReleased": "2026-11-25T08:00:00Z"}
    )
    assert finalized.status == 200, finalized.body
    assert record(finalized)["dateReleased"] == "2026-11-25T08:00:00Z"

    deleted = api.delete(release_path("1.0.0"))
    assert (deleted.status, deleted.body) == (204, b"")
    gone = api.get(release_path("1.0.0"))
    assert (gone.status, gone.json()) == (404, {"detail": "The requested resource does not exist"})
    assert api.delete(release_path("1.0.0")).status == 404


def test_local_commits_are_stored_with_authors_and_files_and_replace_the_previous_list(
    shoal_on_each_store: RunningShoal,
) -> None:
    api = Api(shoal_on_each_store, create_token(shoal_on_each_store))
    create(api, "2.0.0")
    head, first = sha("head"), sha("first")
    sent = [
        local_commit(
            head, "Dev Person", "Dev@Example.com", [("a.txt", "M"), ("b.txt", "A")], "second: add b\n"
        ),
        local_commit(first, "Ann Author", "ann@example.com", [("a.txt", "A")], "first: add a\n"),
    ]
    updated = record(api.put(release_path("2.0.0"), {"commits": sent}))
    assert updated["commitCount"] == 2
    assert updated["lastCommit"]["id"] == head
    assert updated["lastCommit"]["author"] == {"name": "Dev Person", "email": "dev@example.com"}
    assert updated["authors"] == [
        {"name": "Dev Person", "email": "dev@example.com"},
        {"name": "Ann Author", "email": "ann@example.com"},
    ]
    listed = items(api.get(release_path("2.0.0", "commits/")))
    assert [(c["id"], c["message"], c["repository"]["name"]) for c in listed] == [
        (head, "second: add b\n", "origin"),
        (first, "first: add a\n", "origin"),
    ]
    assert listed[0]["files"] == [{"filename": "a.txt", "type": "M"}, {"filename": "b.txt", "type": "A"}]
    # The author's time with its offset, served in UTC.
    assert listed[0]["dateCreated"] == "2026-11-24T16:14:34Z"

    third = sha("third")
    replaced = record(
        api.put(
            release_path("2.0.0"),
            {"commits": [local_commit(third, "Ann Author", "ann@example.com", [("c.txt", "A")], "third\n")]},
        )
    )
    assert (replaced["commitCount"], replaced["lastCommit"]["id"]) == (1, third)
    project_listed = items(api.get("projects/default/my-project/releases/2.0.0/commits/"))
    assert [c["id"] for c in project_listed] == [third]
    # The commits themselves stay: the next release may name them again.
    with shoal_on_each_store.engine.connect() as conn:
        files = conn.execute(select(commit_file.c.filename).order_by(commit_file.c.filename)).scalars().all()
    assert files == ["a.txt", "a.txt", "b.txt", "c.txt"]


def test_refs_without_commits_keep_the_ref_and_a_head_commit_for_last_commit(
    server: RunningShoal, api: Api
) -> None:
    version = unique("refs")
    create(api, version)
    head, previous = sha("def"), sha("abc")
    reply = api.put(
        release_path(version),
        {"refs": [{"repository": "acme/web", "commit": head, "previousCommit": previous}]},
    )
    assert reply.status == 200, reply.body
    shown = record(reply)
    assert (shown["commitCount"], shown["lastCommit"]["id"], shown["lastCommit"]["author"]) == (1, head, None)
    assert shown["lastCommit"]["repository"]["name"] == "acme/web"
    with server.engine.connect() as conn:
        found = releases.get_release(conn, default_organization_id(conn), version)
        assert found is not None
        assert commits.release_refs(conn, found.id) == [commits.RefInput("acme/web", head, previous)]
    # A range in `commit`, as Sentry also takes it.
    ranged = api.put(
        release_path(version), {"refs": [{"repository": "acme/web", "commit": "abc123..def456"}]}
    )
    assert record(ranged)["lastCommit"]["id"] == "def456"


def test_get_api_0_says_who_the_token_is(server: RunningShoal, api: Api) -> None:
    anonymous = Api(server, None).get("")
    assert (anonymous.status, anonymous.json()) == (200, {"version": "0", "user": None, "auth": None})
    personal = record(api.get(""))
    assert personal["user"]["email"] == "admin@example.com"
    assert isinstance(personal["user"]["id"], str)
    assert "project:releases" in personal["auth"]["scopes"]
    organization = record(
        Api(server, create_token(server, "--org", "default", "--scopes", "project:releases")).get("")
    )
    assert organization == {"version": "0", "user": None, "auth": {"scopes": ["project:releases"]}}
    assert Api(server, "sntryu_" + "0" * 64).get("").status == 401


# ---------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"projects": ["my-project"]}, {"version": ["This field is required."]}),
        ({"version": "", "projects": ["my-project"]}, {"version": ["This field may not be blank."]}),
        ({"version": "   ", "projects": ["my-project"]}, {"version": ["This field may not be blank."]}),
        ({"version": 12, "projects": ["my-project"]}, {"version": ["Not a valid string."]}),
        (
            {"version": "a" * 201, "projects": ["my-project"]},
            {"version": ["Ensure this field has no more than 200 characters."]},
        ),
        (
            {"version": "latest", "projects": ["my-project"]},
            {"version": ["Release with name latest is not allowed"]},
        ),
        (
            {"version": "LATEST", "projects": ["my-project"]},
            {"version": ["Release with name LATEST is not allowed"]},
        ),
        ({"version": "..", "projects": ["my-project"]}, {"version": ["Release with name .. is not allowed"]}),
        (
            {"version": "a/b", "projects": ["my-project"]},
            {"version": ["Release with name a/b is not allowed"]},
        ),
        (
            {"version": "a\nb", "projects": ["my-project"]},
            {"version": ["Release with name a\nb is not allowed"]},
        ),
        ({"version": "ok-1"}, {"projects": ["This field is required."]}),
        ({"version": "ok-1", "projects": []}, {"projects": ["This list may not be empty."]}),
        ({"version": "ok-1", "projects": ["nope"]}, {"projects": ["Invalid project ids or slugs"]}),
        ({"version": "ok-1", "projects": [987654]}, {"projects": ["Invalid project ids or slugs"]}),
        (
            {"version": "ok-1", "projects": ["my-project"], "dateReleased": "yesterday"},
            {"dateReleased": [BAD_DATE]},
        ),
        ({"version": "ok-1", "projects": ["my-project"], "url": "ftp://x"}, {"url": ["Enter a valid URL."]}),
    ],
)
def test_a_release_body_is_checked_as_sentry_checks_it(
    api: Api, body: dict[str, Any], errors: dict[str, Any]
) -> None:
    reply = api.post(RELEASES, body)
    assert (reply.status, reply.json()) == (400, errors)


def test_a_version_of_200_characters_and_a_project_id_as_a_number_are_taken(
    server: RunningShoal, api: Api
) -> None:
    version = "v" * 192 + uuid.uuid4().hex[:8]
    shown = create(api, version, [server.project_id])
    assert [p["slug"] for p in shown["projects"]] == ["my-project"]
    assert api.get(release_path(version)).status == 200


@pytest.mark.parametrize(
    ("commit", "field", "message"),
    [
        ({"repository": "origin"}, "commits[0].id", "This field is required."),
        ({"id": "a" * 65}, "commits[0].id", "Ensure this field has no more than 64 characters."),
        (
            {"id": "abc", "timestamp": "noon"},
            "commits[0].timestamp",
            BAD_DATE,
        ),
        (
            {"id": "abc", "patch_set": [{"path": "a", "type": "X"}]},
            "commits[0].patch_set[0].type",
            "Commit patch_set type X is not supported.",
        ),
        (
            {"id": "abc", "patch_set": [{"type": "A"}]},
            "commits[0].patch_set[0].path",
            "This field is required.",
        ),
    ],
)
def test_a_bad_commit_is_a_400_naming_its_field(
    api: Api, commit: dict[str, Any], field: str, message: str
) -> None:
    version = unique("bad-commit")
    create(api, version)
    reply = api.put(release_path(version), {"commits": [commit]})
    assert (reply.status, reply.json()) == (400, {field: [message]})
    assert record(api.get(release_path(version)))["commitCount"] == 0


# ------------------------------------------------------------------------------- lists and reads


def test_the_list_is_newest_first_with_link_pagination_a_version_prefix_and_a_project(
    server: RunningShoal, api: Api
) -> None:
    project = new_project(server)
    tag = uuid.uuid4().hex[:6]
    for version in (f"list-{tag}-a-1", f"list-{tag}-a-2", f"list-{tag}-b-1"):
        create(api, version, [project.slug])
    first = api.get(f"{RELEASES}?project={project.id}&per_page=2")
    assert [r["version"] for r in items(first)] == [f"list-{tag}-b-1", f"list-{tag}-a-2"]
    pages = links(first)
    assert (pages["previous"]["results"], pages["next"]["results"]) == ("false", "true")
    second = api.get(pages["next"]["url"])
    assert [r["version"] for r in items(second)] == [f"list-{tag}-a-1"]
    assert links(second)["next"]["results"] == "false"
    prefixed = api.get(f"{RELEASES}?query=LIST-{tag.upper()}-A")
    assert [r["version"] for r in items(prefixed)] == [f"list-{tag}-a-2", f"list-{tag}-a-1"]
    scoped = api.get(f"projects/default/{project.slug}/releases/")
    assert [r["version"] for r in items(scoped)] == [f"list-{tag}-b-1", f"list-{tag}-a-2", f"list-{tag}-a-1"]
    # Not in my-project: its list and its path do not show them.
    assert f"list-{tag}-a-1" not in [
        r["version"] for r in items(api.get("projects/default/my-project/releases/"))
    ]
    assert api.get(f"projects/default/my-project/releases/list-{tag}-a-1/").status == 404
    assert api.get(f"projects/default/{project.slug}/releases/list-{tag}-a-1/").status == 200
    assert api.get(f"{RELEASES}?project=abc").status == 400


def test_a_version_in_the_url_is_percent_decoded(api: Api) -> None:
    version = f"my-app@1.4.0+{uuid.uuid4().hex[:6]}"
    create(api, version)
    shown = record(api.get(release_path(version)))
    assert shown["version"] == version
    assert shown["shortVersion"] == version.removeprefix("my-app@")
    hashed = sha("build")
    assert create(api, hashed)["shortVersion"] == hashed[:12]


def test_previous_with_commits_is_exactly_empty_when_no_earlier_release_has_commits(
    server: RunningShoal, api: Api
) -> None:
    project = new_project(server)
    create(api, "1.0.0", [project.slug])
    none = api.get(release_path("1.0.0", "previous-with-commits/"))
    assert (none.status, none.body) == (200, b"{}")

    with_commits = {
        "commits": [local_commit(sha("one-one"), "Dev Person", "dev@example.com", [("a.py", "M")], "m\n")]
    }
    create(api, "1.1.0", [project.slug], **with_commits)
    create(api, "1.2.0", [project.slug])
    previous = record(api.get(release_path("1.2.0", "previous-with-commits/")))
    assert (previous["version"], previous["lastCommit"]["id"]) == ("1.1.0", sha("one-one"))
    # Semver decides between two semver versions, whatever their creation order.
    create(
        api,
        "0.9.0",
        [project.slug],
        commits=[local_commit(sha("zero-nine"), "A", "a@example.com", [], "z\n")],
    )
    assert record(api.get(release_path("1.0.0", "previous-with-commits/")))["version"] == "0.9.0"
    assert record(api.get(release_path("1.1.0", "previous-with-commits/")))["version"] == "0.9.0"
    assert api.get(release_path("0.9.0", "previous-with-commits/")).body == b"{}"


def test_previous_with_commits_goes_by_creation_for_other_versions_and_stays_in_the_projects(
    server: RunningShoal, api: Api
) -> None:
    ours, theirs = new_project(server), new_project(server)
    older, newer = unique("sha-old"), unique("sha-new")
    create(api, older, [ours.slug], commits=[local_commit(sha("older"), "A", "a@example.com", [], "o\n")])
    create(
        api,
        unique("elsewhere"),
        [theirs.slug],
        commits=[local_commit(sha("else"), "B", "b@example.com", [], "e\n")],
    )
    create(api, newer, [ours.slug])
    assert record(api.get(release_path(newer, "previous-with-commits/")))["version"] == older


def test_a_release_with_an_event_counts_its_new_issue_and_cannot_be_deleted(
    server: RunningShoal, api: Api
) -> None:
    version = unique("with-events")
    create(api, version)
    event = python_error("ReleaseProbeError", f"probe_{uuid.uuid4().hex[:8]}")
    send_and_wait(server, {**event, "release": version, "environment": "production"})
    shown = record(api.get(release_path(version)))
    assert (shown["newGroups"], shown["projects"][0]["newGroups"]) == (1, 1)
    assert shown["firstEvent"] is not None and shown["lastEvent"] is not None
    refused = api.delete(release_path(version))
    assert (refused.status, refused.json()) == (
        400,
        {"detail": "This release is referenced by active issues and cannot be removed."},
    )
    listed = items(api.get("projects/default/my-project/releases/?per_page=100"))
    assert version in [r["version"] for r in listed]


# --------------------------------------------------------------------------------------- deploys


def test_a_deploy_needs_an_environment_and_finishes_now_unless_told(api: Api) -> None:
    version = unique("deploy")
    create(api, version)
    path = release_path(version, "deploys/")
    missing = api.post(path, {"name": "canary"})
    assert (missing.status, missing.json()) == (400, {"environment": ["This field is required."]})
    assert api.post(path, {"environment": "a/b"}).status == 400
    before = time.time()
    made = api.post(
        path,
        {"environment": "production", "name": "canary", "url": None, "dateStarted": "2026-11-24T17:00:00Z"},
    )
    assert made.status == 201, made.body
    deployed = record(made)
    assert (deployed["environment"], deployed["name"], deployed["url"]) == ("production", "canary", None)
    assert deployed["dateStarted"] == "2026-11-24T17:00:00Z"
    assert isinstance(deployed["id"], str)
    finished = datetime.fromisoformat(deployed["dateFinished"]).timestamp()
    assert deployed["dateFinished"].endswith("Z") and before <= finished <= time.time()
    staged = record(api.post(path, {"environment": "staging", "dateFinished": "2030-01-01T00:00:00Z"}))
    assert [d["environment"] for d in items(api.get(path))] == ["staging", "production"]
    shown = record(api.get(release_path(version)))
    assert (shown["deployCount"], shown["lastDeploy"]) == (2, staged)
    assert api.post(path, {"environment": "production", "projects": ["nope"]}).status == 400
    assert api.post(release_path(unique("no-such"), "deploys/"), {"environment": "x"}).status == 404


# ---------------------------------------------------------------------------------- repositories


def test_repos_are_empty_until_one_is_registered_and_local_remotes_are_never_listed(tmp_path: Path) -> None:
    started = start_shoal(tmp_path / "data")
    try:
        api = Api(started, create_token(started))
        version = unique("repos")
        create(api, version, commits=[local_commit(sha("repo"), "A", "a@example.com", [("x", "A")], "x\n")])
        assert (
            api.get("organizations/default/repos/").status,
            items(api.get("organizations/default/repos/")),
        ) == (200, [])
        refused = api.post(
            "organizations/default/repos/", {"name": "acme/web", "url": "https://github.com/acme/web"}
        )
        assert refused.status == 403
        admin = Api(started, create_token(started, "--scopes", "org:read org:write"))
        assert admin.post("organizations/default/repos/", {"name": "acme/web"}).json() == {
            "url": ["A git repository needs its URL: sentry-cli matches it to your checkout."]
        }
        made = admin.post(
            "organizations/default/repos/", {"name": "acme/web", "url": "https://github.com/acme/web"}
        )
        assert made.status == 201, made.body
        assert items(admin.get("organizations/default/repos/")) == [record(made)]
        assert record(made)["provider"] == {"id": "git", "name": "Git"}
        assert record(made)["status"] == "active"
        assert (
            admin.post(
                "organizations/default/repos/", {"name": "acme/web", "url": "https://x.example/y"}
            ).status
            == 400
        )
        # The remote name from local commits can be registered too, and then it is listed.
        assert (
            admin.post("organizations/default/repos/", {"name": "origin", "provider": "shoal"}).status == 201
        )
        assert [r["name"] for r in items(admin.get("organizations/default/repos/"))] == ["acme/web", "origin"]
        with started.engine.connect() as conn:
            assert conn.execute(select(repository.c.name).order_by(repository.c.name)).scalars().all() == [
                "acme/web",
                "origin",
            ]
    finally:
        started.stop()


# ---------------------------------------------------------------------------------------- access


def test_the_scopes_are_sentrys_release_permission(server: RunningShoal) -> None:
    def token(scopes: str) -> Api:
        return Api(server, create_token(server, "--scopes", scopes))

    assert token("event:read").get(RELEASES).status == 403
    reader = token("project:read")
    assert reader.get(RELEASES).status == 200
    assert reader.post(RELEASES, {"version": unique("r"), "projects": ["my-project"]}).status == 403
    releaser = token("project:releases")
    version = unique("scoped")
    assert releaser.post(RELEASES, {"version": version, "projects": ["my-project"]}).status == 201
    assert releaser.get(release_path(version)).status == 200
    writer = token("project:write")
    assert writer.put(release_path(version), {"ref": "main"}).status == 200
    # Deleting takes project:releases or project:admin, not project:write (Sentry's map).
    assert writer.delete(release_path(version)).status == 403
    assert releaser.delete(release_path(version)).status == 204


def test_another_organizations_release_is_a_404(server: RunningShoal, api: Api) -> None:
    with write_transaction(server.engine) as conn:
        other = projects.create_organization(conn, unique("other"), "Other")
        theirs = projects.create_project(conn, other, "Theirs", "python", DEFAULT_CONFIG_ID)
        slug = conn.execute(select(organization.c.slug).where(organization.c.id == other)).scalar_one()
        found, _ = releases.create_release(conn, other, "secret-1.0", {}, time.time())
        releases.link_projects(conn, found.id, [theirs.id])
    scoped = Api(server, create_token(server, "--org", "default"))
    assert api.get(f"organizations/{slug}/releases/secret-1.0/").status == 200
    for path in ("", "commits/", "deploys/", "previous-with-commits/"):
        reply = scoped.get(f"organizations/{slug}/releases/secret-1.0/{path}")
        assert (reply.status, reply.json()) == (404, {"detail": "The requested resource does not exist"}), (
            path
        )
    assert scoped.get(release_path("secret-1.0")).status == 404
    assert (
        scoped.post(f"organizations/{slug}/releases/", {"version": "x", "projects": ["theirs"]}).status == 404
    )
    assert scoped.post(RELEASES, {"version": unique("x"), "projects": [theirs.id]}).status == 400


def test_a_plain_members_token_reaches_only_releases_of_projects_they_see(
    server: RunningShoal, api: Api
) -> None:
    hidden = new_project(server)
    email = f"{unique('member')}@example.com"
    with write_transaction(server.engine) as conn:
        member = users.create_user(conn, email, "a long enough password")
        users.add_membership(conn, default_organization_id(conn), member.id, "member")
        team = teams.create_team(conn, default_organization_id(conn), unique("team"))
        teams.add_project_team(conn, hidden.id, team.id)
    version = unique("hidden")
    create(api, version, [hidden.slug])
    theirs = Api(server, create_token(server, "--user", email))
    assert theirs.get(release_path(version)).status == 404
    assert version not in [r["version"] for r in items(theirs.get(f"{RELEASES}?per_page=100"))]
    assert theirs.post(RELEASES, {"version": unique("m"), "projects": [hidden.slug]}).status == 400


def test_sourcemap_uploads_are_answered_not_supported(api: Api) -> None:
    reply = api.get("organizations/default/chunk-upload/")
    assert reply.status == 501
    assert "not supported" in record(reply)["detail"]


def test_null_characters_are_refused_not_a_server_error_on_each_store(
    shoal_on_each_store: RunningShoal,
) -> None:
    api = Api(shoal_on_each_store, create_token(shoal_on_each_store))
    assert api.post(RELEASES, {"version": "a\x00b", "projects": ["my-project"]}).json() == {
        "version": ["Null characters are not allowed."]
    }
    create(api, "nul-1")
    bad_commit = {"commits": [{"id": "abc", "message": "x\x00y"}]}
    assert api.put(release_path("nul-1"), bad_commit).json() == {
        "commits[0].message": ["Null characters are not allowed."]
    }
    assert api.get(f"{RELEASES}a%00b/").status == 404
    assert api.get(f"{RELEASES}?query=%00").status == 400
    assert api.get("organizations/de%00fault/releases/").status == 404
    assert api.get("projects/default/my%00project/releases/").status == 404
    assert api.post(release_path("nul-1", "deploys/"), {"environment": "prod\x00"}).status == 400
