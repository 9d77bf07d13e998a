"""What a project's settings change and read in the store, on SQLite and PostgreSQL: name, slug and
platform; client keys (create, enable and disable, rate limit, rotate); environments seen; the
teams that own a project; and deleting a project with everything under it."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import ColumnElement, Engine, Table, func, insert, select

from shoal.digest.pipeline import DigestedEvent
from shoal.digest.store import store_batch
from shoal.digest.summary import IssueSummary
from shoal.store import projects, teams
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.projects import RateLimit
from shoal.store.schema import (
    alert_rule,
    event,
    issue,
    issue_count_hour,
    issue_hash,
    issue_tag,
    project_key,
    project_team,
    team,
    team_member,
    users,
)
from shoal.store.users import add_membership, create_user

NOW = time.time()
CONFIG = "newstyle:2026-01-20"


def make_organization(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        return projects.create_organization(conn, f"org-{uuid.uuid4().hex[:6]}", "Org")


def make_project(engine: Engine, organization_id: int, name: str = "Shop") -> int:
    with write_transaction(engine) as conn:
        return projects.create_project(conn, organization_id, name, "python", CONFIG).id


def error_event(project_id: int, hash_: str, environment: str | None, timestamp: float) -> DigestedEvent:
    tags = [("level", "error")] + ([("environment", environment)] if environment else [])
    return DigestedEvent(
        project_id=project_id,
        event_id=uuid.uuid4().hex,
        timestamp=timestamp,
        received=timestamp,
        level="error",
        platform="python",
        release=None,
        environment=environment,
        user_key=None,
        grouping_config=CONFIG,
        hashes=[hash_],
        summary=IssueSummary("error", f"KeyError: {hash_}", "app in handler", {"type": "KeyError"}),
        tags=tags,
        payload=PayloadCodec().encode(b"{}"),
    )


def store(engine: Engine, batch: list[DigestedEvent]) -> None:
    with write_transaction(engine) as conn:
        store_batch(conn, batch, Counter(), NOW)


def count(engine: Engine, table: Table, *conditions: ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one())


# ------------------------------------------------------------------------------ name, slug, platform


def test_a_project_is_renamed_with_a_new_slug_and_platform_and_keeps_its_id(engine: Engine) -> None:
    project_id = make_project(engine, make_organization(engine))
    with write_transaction(engine) as conn:
        projects.update_project(conn, project_id, name="Web shop", slug="web-shop", platform="node")
    with engine.connect() as conn:
        found = projects.get_project(conn, project_id)
    assert found is not None
    assert (found.id, found.name, found.slug, found.platform) == (project_id, "Web shop", "web-shop", "node")


def test_a_slug_another_project_of_the_organization_has_is_refused(engine: Engine) -> None:
    organization_id = make_organization(engine)
    shop = make_project(engine, organization_id, "Shop")
    make_project(engine, organization_id, "Billing")
    with pytest.raises(projects.SlugTaken), write_transaction(engine) as conn:
        projects.update_project(conn, shop, name="Shop", slug="billing", platform="python")
    with engine.connect() as conn:
        assert projects.get_project(conn, shop).slug == "shop"  # type: ignore[union-attr]


def test_a_project_keeps_its_own_slug_and_may_share_one_with_another_organization(engine: Engine) -> None:
    shop = make_project(engine, make_organization(engine), "Shop")
    make_project(engine, make_organization(engine), "Billing")
    with write_transaction(engine) as conn:
        projects.update_project(conn, shop, name="Shop 2", slug="shop", platform="python")
        projects.update_project(conn, shop, name="Shop 2", slug="billing", platform="python")
    with engine.connect() as conn:
        assert projects.get_project(conn, shop).slug == "billing"  # type: ignore[union-attr]


# -------------------------------------------------------------------------------------------- keys


def test_keys_are_listed_oldest_first_and_a_new_one_is_enabled_without_a_limit(engine: Engine) -> None:
    project_id = make_project(engine, make_organization(engine))
    with write_transaction(engine) as conn:
        added = projects.add_key(conn, project_id, "staging")
    with engine.connect() as conn:
        keys = projects.list_keys(conn, project_id)
    assert [key.label for key in keys] == ["Default", "staging"]
    assert keys[1] == added
    assert added.enabled and added.rate_limit is None and len(added.public_key) == 32


def test_a_disabled_key_is_found_disabled_and_can_be_enabled_again(engine: Engine) -> None:
    project_id = make_project(engine, make_organization(engine))
    with write_transaction(engine) as conn:
        key = projects.add_key(conn, project_id, "ci")
        projects.set_key_enabled(conn, key.id, False)
    with engine.connect() as conn:
        assert projects.find_key(conn, key.public_key).enabled is False  # type: ignore[union-attr]
        assert projects.get_key(conn, project_id, key.id).enabled is False  # type: ignore[union-attr]
        assert projects.first_enabled_key(conn, project_id) != key.public_key
    with write_transaction(engine) as conn:
        projects.set_key_enabled(conn, key.id, True)
    with engine.connect() as conn:
        assert projects.find_key(conn, key.public_key).enabled is True  # type: ignore[union-attr]


def test_a_key_of_another_project_is_not_found_by_id(engine: Engine) -> None:
    organization_id = make_organization(engine)
    shop, billing = (
        make_project(engine, organization_id, "Shop"),
        make_project(engine, organization_id, "Bill"),
    )
    with write_transaction(engine) as conn:
        key = projects.add_key(conn, billing, "billing key")
    with engine.connect() as conn:
        assert projects.get_key(conn, shop, key.id) is None
        assert projects.get_key(conn, billing, key.id) == key


def test_a_rate_limit_is_stored_with_the_key_and_removed(engine: Engine) -> None:
    project_id = make_project(engine, make_organization(engine))
    with engine.connect() as conn:
        key = projects.list_keys(conn, project_id)[0]
    with write_transaction(engine) as conn:
        projects.set_key_rate_limit(conn, key.id, RateLimit(100, 60))
    with engine.connect() as conn:
        assert projects.get_key(conn, project_id, key.id).rate_limit == RateLimit(100, 60)  # type: ignore[union-attr]
        row = conn.execute(select(project_key).where(project_key.c.id == key.id)).one()
        assert (row.rate_limit_count, row.rate_limit_window) == (100, 60)
    with write_transaction(engine) as conn:
        projects.set_key_rate_limit(conn, key.id, None)
    with engine.connect() as conn:
        assert projects.get_key(conn, project_id, key.id).rate_limit is None  # type: ignore[union-attr]


def test_rotating_a_key_makes_an_enabled_one_with_its_label_and_limit_and_disables_it(
    engine: Engine,
) -> None:
    project_id = make_project(engine, make_organization(engine))
    with write_transaction(engine) as conn:
        old = projects.add_key(conn, project_id, "mobile")
        projects.set_key_rate_limit(conn, old.id, RateLimit(5, 1))
        new = projects.rotate_key(conn, project_id, old.id)
    with engine.connect() as conn:
        keys = {key.id: key for key in projects.list_keys(conn, project_id)}
    assert new.public_key != old.public_key
    assert keys[new.id] == new
    assert (new.label, new.enabled, new.rate_limit) == ("mobile", True, RateLimit(5, 1))
    assert keys[old.id].enabled is False


def test_rotating_a_key_of_another_project_changes_nothing(engine: Engine) -> None:
    organization_id = make_organization(engine)
    shop, billing = (
        make_project(engine, organization_id, "Shop"),
        make_project(engine, organization_id, "Bill"),
    )
    with engine.connect() as conn:
        billing_key = projects.list_keys(conn, billing)[0]
    with pytest.raises(LookupError), write_transaction(engine) as conn:
        projects.rotate_key(conn, shop, billing_key.id)
    with engine.connect() as conn:
        assert len(projects.list_keys(conn, shop)) == 1
        assert projects.list_keys(conn, billing) == [billing_key]


# ------------------------------------------------------------------------------------ environments


def test_environments_seen_counts_events_and_issues_of_each_most_recent_first(engine: Engine) -> None:
    organization_id = make_organization(engine)
    project_id = make_project(engine, organization_id)
    other = make_project(engine, organization_id, "Other")
    store(
        engine,
        [
            error_event(project_id, "a" * 32, "production", NOW - 300),
            error_event(project_id, "a" * 32, "production", NOW - 200),
            error_event(project_id, "b" * 32, "production", NOW - 100),
            error_event(project_id, "b" * 32, "staging", NOW - 10),
            error_event(project_id, "c" * 32, None, NOW),
            error_event(other, "d" * 32, "qa", NOW),
        ],
    )
    with engine.connect() as conn:
        seen = projects.environments_seen(conn, project_id)
    assert [(env.name, env.events, env.issues) for env in seen] == [("staging", 1, 1), ("production", 3, 2)]
    assert seen[0].last_seen == pytest.approx(NOW - 10)
    assert seen[1].last_seen == pytest.approx(NOW - 100)


def test_a_project_without_events_has_seen_no_environment(engine: Engine) -> None:
    project_id = make_project(engine, make_organization(engine))
    with engine.connect() as conn:
        assert projects.environments_seen(conn, project_id) == []


# ------------------------------------------------------------------------------------------- teams


def make_team(engine: Engine, organization_id: int, name: str, member_emails: list[str]) -> int:
    with write_transaction(engine) as conn:
        team_id = int(
            conn.execute(
                insert(team)
                .values(organization_id=organization_id, slug=name.lower(), name=name, created_at=NOW)
                .returning(team.c.id)
            ).scalar_one()
        )
        for email in member_emails:
            user = create_user(conn, email, "a long enough password")
            add_membership(conn, organization_id, user.id, "member")
            conn.execute(insert(team_member).values(team_id=team_id, user_id=user.id))
    return team_id


def test_teams_of_an_organization_are_listed_by_name(engine: Engine) -> None:
    organization_id = make_organization(engine)
    web = make_team(engine, organization_id, "Web", [])
    backend = make_team(engine, organization_id, "Backend", [])
    make_team(engine, make_organization(engine), "Elsewhere", [])
    with engine.connect() as conn:
        found = teams.organization_teams(conn, organization_id)
        assert teams.get_team(conn, web) == found[1]
    assert [(t.id, t.name, t.slug) for t in found] == [(backend, "Backend", "backend"), (web, "Web", "web")]


def test_the_teams_owning_a_project_are_listed_with_their_members(engine: Engine) -> None:
    organization_id = make_organization(engine)
    project_id = make_project(engine, organization_id)
    tag = uuid.uuid4().hex[:6]
    web = make_team(engine, organization_id, "Web", [f"zoe-{tag}@example.com", f"al-{tag}@example.com"])
    ops = make_team(engine, organization_id, "Ops", [])
    make_team(engine, organization_id, "Unrelated", [f"bo-{tag}@example.com"])
    with write_transaction(engine) as conn:
        teams.add_project_team(conn, project_id, web)
        teams.add_project_team(conn, project_id, ops)
    with engine.connect() as conn:
        owners = teams.project_teams(conn, project_id)
    assert [(access.team.name, access.member_emails) for access in owners] == [
        ("Ops", ()),
        ("Web", (f"al-{tag}@example.com", f"zoe-{tag}@example.com")),
    ]


def test_a_project_no_team_owns_lists_no_teams(engine: Engine) -> None:
    project_id = make_project(engine, make_organization(engine))
    with engine.connect() as conn:
        assert teams.project_teams(conn, project_id) == []


# ----------------------------------------------------------------------------------------- delete


def test_deleting_a_project_deletes_everything_under_it_and_nothing_else(engine: Engine) -> None:
    organization_id = make_organization(engine)
    doomed = make_project(engine, organization_id, "Doomed")
    kept = make_project(engine, organization_id, "Kept")
    team_id = make_team(engine, organization_id, "Web", [f"web-{uuid.uuid4().hex[:6]}@example.com"])
    with write_transaction(engine) as conn:
        teams.add_project_team(conn, doomed, team_id)
    store(
        engine,
        [
            error_event(doomed, "e" * 32, "production", NOW),
            error_event(doomed, "f" * 32, "staging", NOW),
            error_event(kept, "0" * 32, "production", NOW),
        ],
    )
    with write_transaction(engine) as conn:
        assert projects.delete_project(conn, doomed) is True
    with engine.connect() as conn:
        assert projects.get_project(conn, doomed) is None
        assert projects.list_keys(conn, doomed) == []
    for table in (issue, event, issue_hash, alert_rule):
        assert count(engine, table, table.c.project_id == doomed) == 0
        assert count(engine, table, table.c.project_id == kept) >= 1
    assert count(engine, issue_tag) == count(engine, issue_tag, issue_tag.c.issue_id.in_(select(issue.c.id)))
    assert count(engine, issue_count_hour) == count(
        engine, issue_count_hour, issue_count_hour.c.issue_id.in_(select(issue.c.id))
    )
    assert count(engine, project_team, project_team.c.project_id == doomed) == 0
    # The team and its members stay: only the project went.
    assert count(engine, team, team.c.id == team_id) == 1
    assert count(engine, users) >= 1


def test_deleting_a_missing_project_says_so(engine: Engine) -> None:
    project_id = make_project(engine, make_organization(engine))
    with write_transaction(engine) as conn:
        assert projects.delete_project(conn, project_id) is True
        assert projects.delete_project(conn, project_id) is False
