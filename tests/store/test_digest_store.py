"""Storing a digested batch, on SQLite and PostgreSQL: idempotence, hash → issue lookup, counters."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import orjson
from sqlalchemy import Engine, func, select

from shoal.digest.pipeline import DigestedEvent
from shoal.digest.store import StoreResult, store_batch, store_with_retries
from shoal.digest.summary import IssueSummary
from shoal.outcomes import Outcome, OutcomeKey
from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.schema import (
    event,
    issue,
    issue_count_hour,
    issue_count_minute,
    issue_hash,
    issue_tag,
    outcome_counter,
)
from shoal.store.schema import project as project_table

NOW = 1_795_000_000.0


def make_project(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, f"org-{uuid.uuid4().hex[:6]}", "Org")
        return projects.create_project(conn, org, "shop", "python", "newstyle:2026-01-20").id


def digested(
    project_id: int,
    hashes: list[str],
    *,
    title: str = "KeyError: 'x'",
    timestamp: float = NOW,
    user: str | None = "id:1",
    event_id: str | None = None,
    release: str | None = "1.0",
) -> DigestedEvent:
    tags = [("level", "error"), ("release", release or "")] + ([("user", user)] if user else [])
    return DigestedEvent(
        project_id=project_id,
        event_id=event_id or uuid.uuid4().hex,
        timestamp=timestamp,
        received=timestamp,
        level="error",
        platform="python",
        release=release,
        environment="production",
        user_key=user,
        grouping_config="newstyle:2026-01-20",
        hashes=hashes,
        summary=IssueSummary("error", title, "app in handler", {"type": "KeyError", "value": "'x'"}),
        tags=tags,
        payload=PayloadCodec().encode(b"{}"),
    )


def store(
    engine: Engine, batch: list[DigestedEvent], outcomes: Counter[OutcomeKey] | None = None
) -> StoreResult:
    with write_transaction(engine) as conn:
        return store_batch(conn, batch, outcomes or Counter(), NOW)


def one(engine: Engine, query: object) -> object:
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()  # type: ignore[call-overload]


def test_it_stores_a_batch_as_one_issue_per_hash(engine: Engine) -> None:
    project_id = make_project(engine)
    result = store(
        engine,
        [
            digested(project_id, ["a" * 32]),
            digested(project_id, ["a" * 32]),
            digested(project_id, ["b" * 32], title="ValueError"),
        ],
    )
    assert result.stored == 3
    assert len(result.new_issue_ids) == 2
    assert one(engine, select(func.count()).select_from(issue)) == 2
    assert one(engine, select(issue.c.times_seen).where(issue.c.title == "KeyError: 'x'")) == 2


def test_storing_the_same_events_again_changes_nothing(engine: Engine) -> None:
    project_id = make_project(engine)
    batch = [digested(project_id, ["a" * 32]) for _ in range(3)]
    store(engine, batch)
    again = store(engine, [*batch, batch[0]])
    assert (again.stored, again.duplicates, again.new_issue_ids) == (0, 4, [])
    assert one(engine, select(func.count()).select_from(event)) == 3
    assert one(engine, select(issue.c.times_seen)) == 3
    assert one(engine, select(project_table.c.events_stored).where(project_table.c.id == project_id)) == 3
    assert one(engine, select(func.sum(issue_tag.c.times_seen)).where(issue_tag.c.key == "level")) == 3


def test_the_first_known_hash_wins_and_every_hash_of_the_event_joins_that_issue(engine: Engine) -> None:
    project_id = make_project(engine)
    app_hash, system_hash, other = "a" * 32, "b" * 32, "c" * 32
    store(engine, [digested(project_id, [app_hash, system_hash])])
    # A new app hash but a known system hash: joins the existing issue, which gains the new hash.
    result = store(engine, [digested(project_id, [other, system_hash])])
    assert result.new_issue_ids == []
    with engine.connect() as conn:
        owners = {row.hash: row.issue_id for row in conn.execute(select(issue_hash))}
    assert set(owners) == {app_hash, system_hash, other}
    assert len(set(owners.values())) == 1


def test_hashes_are_per_project(engine: Engine) -> None:
    first, second = make_project(engine), make_project(engine)
    result = store(engine, [digested(first, ["a" * 32]), digested(second, ["a" * 32])])
    assert len(result.new_issue_ids) == 2


def test_counters_users_tags_and_time_buckets_add_up(engine: Engine) -> None:
    project_id = make_project(engine)
    batch = [
        digested(project_id, ["a" * 32], user="id:1", timestamp=NOW),
        digested(project_id, ["a" * 32], user="id:2", timestamp=NOW + 30),
        digested(project_id, ["a" * 32], user="id:1", timestamp=NOW + 3600),
    ]
    store(engine, batch[:2])
    store(engine, batch[2:])
    with engine.connect() as conn:
        row = conn.execute(select(issue)).one()
        assert (row.times_seen, row.users_seen) == (3, 2)
        assert (row.first_seen, row.last_seen) == (NOW, NOW + 3600)
        users = {
            r.value: r.times_seen for r in conn.execute(select(issue_tag).where(issue_tag.c.key == "user"))
        }
        assert users == {"id:1": 2, "id:2": 1}
        assert sum(r.events for r in conn.execute(select(issue_count_minute))) == 3
        assert sorted(r.events for r in conn.execute(select(issue_count_hour))) == [1, 2]


def test_the_issue_shows_its_newest_event_even_when_an_older_one_arrives_later(engine: Engine) -> None:
    project_id = make_project(engine)
    store(engine, [digested(project_id, ["a" * 32], title="KeyError: 'new'", timestamp=NOW, release="2.0")])
    store(
        engine, [digested(project_id, ["a" * 32], title="KeyError: 'old'", timestamp=NOW - 60, release="1.0")]
    )
    with engine.connect() as conn:
        row = conn.execute(select(issue)).one()
    assert (row.title, row.last_seen, row.first_seen) == ("KeyError: 'new'", NOW, NOW - 60)
    assert (row.first_release, row.last_release) == ("2.0", "2.0")
    assert orjson.loads(row.metadata)["type"] == "KeyError"


def test_short_ids_count_up_per_project(engine: Engine) -> None:
    project_id = make_project(engine)
    store(engine, [digested(project_id, [c * 32]) for c in "abc"])
    with engine.connect() as conn:
        assert sorted(conn.execute(select(issue.c.short_id)).scalars()) == [1, 2, 3]


def test_outcomes_are_counted_with_the_accepted_events(engine: Engine) -> None:
    project_id = make_project(engine)
    dropped = Counter({OutcomeKey(project_id, "error", Outcome.INVALID, "invalid_json"): 2})
    store(engine, [digested(project_id, ["a" * 32])], dropped)
    store(engine, [digested(project_id, ["a" * 32])], dropped)
    with engine.connect() as conn:
        counts = {(r.outcome, r.reason): r.quantity for r in conn.execute(select(outcome_counter))}
    assert counts == {("accepted", ""): 2, ("invalid", "invalid_json"): 4}


def test_workers_racing_on_a_new_hash_make_one_issue(engine: Engine) -> None:
    project_id = make_project(engine)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def race() -> None:
        try:
            start.wait()
            store_with_retries(engine, [digested(project_id, ["d" * 32])], Counter(), NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert one(engine, select(func.count()).select_from(issue)) == 1
    assert one(engine, select(issue.c.times_seen)) == 4
