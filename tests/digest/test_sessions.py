"""Folding `session` and `sessions` items into the release health counters, through the real
pipeline and store (SQLite and PostgreSQL): each session counted once at its final health, in
any order, and nothing counted twice when a spool entry is digested again."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from shoal.clock import iso_utc
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import Digested, DigestLimits, Pipeline, ProjectSettings
from shoal.digest.sessions import MAX_SESSION_AGE
from shoal.digest.store import store_with_retries
from shoal.spool.base import SpoolEntry
from shoal.store import projects, release_stats, session_counts, session_stats
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.projects import ProjectGrouping
from shoal.store.schema import outcome_counter, session_state

NOW = 1_795_000_000.0  # 400 s into an hour
LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)


@pytest.fixture
def project_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        return projects.create_project(conn, org, "shop", "python", DEFAULT_CONFIG_ID).id


def envelope(*items: tuple[str, dict[str, Any]]) -> bytes:
    """A Python-style envelope of session items (Python sends no sent_at with them)."""
    lines = [b"{}"]
    for item_type, payload in items:
        body = orjson.dumps(payload)
        lines += [orjson.dumps({"type": item_type, "length": len(body)}), body]
    return b"\n".join(lines) + b"\n"


def update(
    sid: str, status: str = "ok", *, errors: int = 0, did: str | None = None, **attrs: str
) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {
        "sid": sid,
        "init": True,
        "started": iso_utc(NOW - 60),
        "status": status,
        "attrs": {"release": "shop@1.0", "environment": "production", **attrs},
    }
    if errors:
        payload["errors"] = errors
    if did is not None:
        payload["did"] = did
    return ("session", payload)


def aggregate(release: str = "shop@1.0", **counts: int) -> tuple[str, dict[str, Any]]:
    bucket = {"started": iso_utc(NOW - NOW % 60), **counts}
    return ("sessions", {"attrs": {"release": release, "environment": "production"}, "aggregates": [bucket]})


def digest(project_id: int, body: bytes, received: float = NOW) -> Digested:
    entry = SpoolEntry(project_id, "envelope", received, None, "10.0.0.1", "", body)
    into = Digested()
    settings = ProjectSettings(ProjectGrouping(DEFAULT_CONFIG_ID))
    Pipeline(LIMITS, PayloadCodec()).digest_entry(entry, settings, into)
    return into


def store(engine: Engine, digested: Digested) -> None:
    store_with_retries(engine, digested.events, digested.outcomes, NOW, sessions=digested.sessions)


def send(engine: Engine, project_id: int, *items: tuple[str, dict[str, Any]]) -> None:
    store(engine, digest(project_id, envelope(*items)))


def health(engine: Engine, project_id: int, release: str = "shop@1.0") -> session_stats.SessionHealth:
    with engine.connect() as conn:
        found = session_stats.release_health(conn, project_id, release)
    assert found is not None
    return found.total


def counts(h: session_stats.SessionHealth) -> tuple[int, int, int, int, int]:
    return (h.started, h.healthy, h.errored, h.crashed, h.abnormal)


def session_outcomes(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(select(outcome_counter).where(outcome_counter.c.category == "session"))
        return {(r.outcome, r.reason): r.quantity for r in rows}


def test_a_session_is_counted_once_at_its_final_health(engine: Engine, project_id: int) -> None:
    sid = str(uuid.uuid4())
    send(engine, project_id, update(sid))
    assert counts(health(engine, project_id)) == (1, 1, 0, 0, 0)
    send(engine, project_id, update(sid, errors=1))
    send(engine, project_id, update(sid, "crashed", errors=2))
    assert counts(health(engine, project_id)) == (1, 0, 0, 1, 0)
    assert health(engine, project_id).crash_free_sessions == 0.0


def test_updates_in_any_order_end_the_same(engine: Engine, project_id: int) -> None:
    sid = str(uuid.uuid4())
    send(engine, project_id, update(sid, "crashed", errors=1))
    send(engine, project_id, update(sid))
    send(engine, project_id, update(sid, "exited", errors=1))
    assert counts(health(engine, project_id)) == (1, 0, 0, 1, 0)


def test_errors_make_an_exited_session_errored_and_abnormal_is_its_own(
    engine: Engine, project_id: int
) -> None:
    send(
        engine,
        project_id,
        update(str(uuid.uuid4()), "exited"),
        update(str(uuid.uuid4()), "exited", errors=3),
        update(str(uuid.uuid4()), "errored"),
        update(str(uuid.uuid4()), "abnormal"),
    )
    found = health(engine, project_id)
    assert counts(found) == (4, 1, 2, 0, 1)
    assert found.crash_free_sessions == 1.0  # abnormal and errored sessions are not crashes


def test_an_entry_digested_twice_counts_its_sessions_once(engine: Engine, project_id: int) -> None:
    digested = digest(
        project_id, envelope(update(str(uuid.uuid4()), "crashed"), aggregate(exited=7, errored=2, crashed=1))
    )
    store(engine, digested)
    store(engine, digested)  # its worker died after the commit, before the ack
    assert counts(health(engine, project_id)) == (11, 7, 2, 2, 0)
    # The update is accepted each time it is folded; the repeated aggregate is not.
    assert session_outcomes(engine) == {("accepted", ""): 3}


def test_aggregates_add_their_buckets_and_two_alike_in_one_request_both_count(
    engine: Engine, project_id: int
) -> None:
    send(engine, project_id, aggregate(exited=5, crashed=1), aggregate(exited=5, crashed=1))
    send(engine, project_id, aggregate(exited=3, abnormal=1))
    found = health(engine, project_id)
    assert counts(found) == (16, 13, 0, 2, 1)
    assert found.crash_free_sessions == pytest.approx(1 - 2 / 16)
    assert found.users == 0 and found.crash_free_users is None  # request mode sends no user


def test_users_are_distinct_and_crash_free_users_count_those_who_never_crashed(
    engine: Engine, project_id: int
) -> None:
    send(
        engine,
        project_id,
        update(str(uuid.uuid4()), "exited", did="ann"),
        update(str(uuid.uuid4()), "crashed", did="ann"),
        update(str(uuid.uuid4()), "exited", did="bob"),
        update(str(uuid.uuid4()), "exited", did="cy"),
        update(str(uuid.uuid4()), "exited", did="00000000-0000-0000-0000-000000000000"),
    )
    found = health(engine, project_id)
    assert (found.users, found.crashed_users) == (3, 1)
    assert found.crash_free_users == pytest.approx(2 / 3)


def test_health_is_kept_per_environment(engine: Engine, project_id: int) -> None:
    send(
        engine,
        project_id,
        update(str(uuid.uuid4()), "crashed", environment="staging"),
        update(str(uuid.uuid4()), "exited"),
    )
    with engine.connect() as conn:
        found = session_stats.release_health(conn, project_id, "shop@1.0")
    assert found is not None
    assert [(e.environment, e.started, e.crashed) for e in found.environments] == [
        ("production", 1, 0),
        ("staging", 1, 1),
    ]
    assert found.total.crash_free_sessions == 0.5


def test_sessions_make_their_release(engine: Engine, project_id: int) -> None:
    send(engine, project_id, aggregate(release="shop@2.0", exited=1))
    with engine.connect() as conn:
        assert release_stats.find_release(conn, project_id, "shop@2.0") is not None


def test_sessions_that_cannot_count_are_invalid_outcomes(engine: Engine, project_id: int) -> None:
    no_release: tuple[str, dict[str, Any]] = ("session", {"sid": "a", "started": iso_utc(NOW), "attrs": {}})
    too_old = update(str(uuid.uuid4()))
    too_old[1]["started"] = iso_utc(NOW - MAX_SESSION_AGE - 60)
    unknown_status = update(str(uuid.uuid4()), "sleeping")
    send(engine, project_id, no_release, too_old, unknown_status, update(str(uuid.uuid4())))
    assert session_outcomes(engine) == {
        ("accepted", ""): 1,
        ("invalid", "invalid_session"): 2,
        ("invalid", "timestamp"): 1,
    }


def test_session_states_are_forgotten_after_five_days_but_counts_stay(
    engine: Engine, project_id: int
) -> None:
    send(engine, project_id, update(str(uuid.uuid4()), "crashed"), aggregate(exited=2))
    with write_transaction(engine) as conn:
        session_counts.prune_session_states(conn, NOW + MAX_SESSION_AGE)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(session_state)).scalar_one() == 0
    assert counts(health(engine, project_id)) == (3, 2, 0, 1, 0)


def test_sessions_in_a_window_count_a_partly_covered_hour_in_proportion() -> None:
    hour = int(NOW // 3600)
    per_hour = {(1, hour - 1, "production"): 100, (1, hour, "production"): 40, (1, hour, "staging"): 5}
    into_hour = NOW - hour * 3600  # 400 s
    last_hour = session_stats.sessions_in_window(per_hour, 1, NOW, 3600, "production")
    assert last_hour == pytest.approx(40 + 100 * (3600 - into_hour) / 3600)
    assert session_stats.sessions_in_window(per_hour, 1, NOW, 300, None) == pytest.approx(
        45 * 300 / into_hour
    )
    assert session_stats.sessions_in_window(per_hour, 2, NOW, 3600, None) == 0
