"""Delete and discard (shoal/store/discards.py) with the real digest worker on a real spool, on
SQLite and PostgreSQL: an issue's events are deleted and its later events dropped as
`filtered:discarded-hash`; undiscarding lets them in again, as a new issue; and the project's
inbound filters, saved, apply to the next batch."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from shoal import outcomes
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import DigestLimits
from shoal.digest.worker import DigestWorker
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store import discards, projects
from shoal.store.db import write_transaction
from shoal.store.inbound_filters import FilterSettings
from shoal.store.schema import event, issue, outcome_counter
from tests.support.events import python_error
from tests.support.http import event_envelope

LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)


@pytest.fixture
def project_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        return projects.create_project(conn, org, "shop", "python", DEFAULT_CONFIG_ID).id


class Digest:
    """A spool and its digest worker: `send` appends errors as ingest would and digests them."""

    def __init__(self, engine: Engine, spool: SqliteSpool) -> None:
        self.spool = spool
        self.worker = DigestWorker(spool, engine, LIMITS, lease_seconds=60)


@pytest.fixture
def worker(engine: Engine, tmp_path: Path) -> Digest:
    return Digest(engine, SqliteSpool(tmp_path / "spool.db", durable_writes=False))


def send(digest: Digest, project_id: int, *errors: tuple[str, str]) -> None:
    entries = []
    for kind, function in errors:
        error = python_error(kind, function)
        body = gzip.compress(event_envelope(error, error["event_id"]))
        entries.append(
            SpoolEntry(
                project_id, "envelope", error["timestamp"], error["event_id"], "10.0.0.1", "gzip", body
            )
        )
    digest.spool.append(entries)
    while digest.worker.run_once():
        pass


def short_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(int(r.short_id) for r in conn.execute(select(issue.c.short_id)))


def issue_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            str(r.title): int(r.id)
            for r in conn.execute(select(issue.c.title, issue.c.id, issue.c.status))
            if r.status != discards.DISCARDED
        }


def events_of(engine: Engine, issue_id: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(event.c.issue_id == issue_id)).scalar_one())


def filtered(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(outcome_counter.c.reason, func.sum(outcome_counter.c.quantity))
            .where(outcome_counter.c.outcome == "filtered")
            .group_by(outcome_counter.c.reason)
        )
        return {str(reason): int(n) for reason, n in rows}


def test_a_discarded_issue_loses_its_events_and_drops_its_later_ones(
    engine: Engine, worker: Digest, project_id: int
) -> None:
    send(worker, project_id, ("KeyError", "checkout"), ("KeyError", "checkout"), ("ValueError", "pay"))
    ids = issue_ids(engine)
    noisy, kept = ids["KeyError: peer gone"], ids["ValueError: peer gone"]
    with write_transaction(engine) as conn:
        assert discards.discard_issues(conn, [noisy], None, now=1_795_000_000.0) == 1
        assert discards.discard_issues(conn, [noisy], None, now=1_795_000_001.0) == 0  # already
    assert events_of(engine, noisy) == 0
    assert set(issue_ids(engine)) == {"ValueError: peer gone"}

    send(worker, project_id, ("KeyError", "checkout"), ("ValueError", "pay"))
    assert filtered(engine)[outcomes.DISCARDED_HASH] == 1
    assert events_of(engine, noisy) == 0
    assert events_of(engine, kept) == 2

    with engine.connect() as conn:
        (listed,) = discards.discarded_issues(conn, project_id)
    assert (listed.id, listed.title, listed.times_seen, listed.discarded_at) == (
        noisy,
        "KeyError: peer gone",
        2,
        1_795_000_000.0,
    )
    assert listed.hashes >= 1


def test_undiscarding_lets_the_error_in_again_as_a_new_issue(
    engine: Engine, worker: Digest, project_id: int
) -> None:
    send(worker, project_id, ("KeyError", "checkout"))
    (old,) = issue_ids(engine).values()
    with write_transaction(engine) as conn:
        discards.discard_issues(conn, [old], None, now=1_795_000_000.0)
        assert discards.undiscard(conn, project_id, old)
        assert not discards.undiscard(conn, project_id, old)  # gone: nothing left to undo
    send(worker, project_id, ("KeyError", "checkout"))
    (new,) = issue_ids(engine).values()
    assert short_ids(engine) == [2]  # a new issue: SHOP-2, not SHOP-1 again
    assert events_of(engine, new) == 1
    with engine.connect() as conn:
        assert discards.discarded_issues(conn, project_id) == []
    assert outcomes.DISCARDED_HASH not in filtered(engine)


def test_saved_filters_apply_to_the_next_batch(engine: Engine, worker: Digest, project_id: int) -> None:
    send(worker, project_id, ("ConnectionResetError", "read"))
    assert set(issue_ids(engine)) == {"ConnectionResetError: peer gone"}
    settings = FilterSettings.from_json("{}")
    with write_transaction(engine) as conn:
        projects.set_project_filters(
            conn, project_id, FilterSettings(settings.on | {outcomes.FILTER_ERROR_TYPE}, settings.patterns)
        )
    send(
        worker, project_id, ("ConnectionResetError", "read"), ("BrokenPipeError", "write"), ("KeyError", "x")
    )
    assert filtered(engine)[outcomes.FILTER_ERROR_TYPE] == 2
    assert set(issue_ids(engine)) == {"ConnectionResetError: peer gone", "KeyError: peer gone"}
