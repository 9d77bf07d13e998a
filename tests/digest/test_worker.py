"""The digest worker, one batch at a time, on a real spool and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import DigestLimits
from shoal.digest.worker import MAX_ATTEMPTS, DigestWorker
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store import projects
from shoal.store.db import create_store_engine, write_transaction
from shoal.store.schema import event, issue, outcome_counter
from tests.support.http import event_envelope

LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)


@pytest.fixture
def project_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        return projects.create_project(conn, org, "shop", "python", DEFAULT_CONFIG_ID).id


@pytest.fixture
def spool(tmp_path: Path) -> SqliteSpool:
    return SqliteSpool(tmp_path / "spool.db", durable_writes=False)


def envelope_entry(project_id: int, message: str, event_id: str | None = None) -> SpoolEntry:
    event_id = event_id or uuid.uuid4().hex
    body = gzip.compress(event_envelope({"message": message, "level": "warning"}, event_id))
    return SpoolEntry(project_id, "envelope", 1_795_000_000.0, event_id, "10.0.0.1", "gzip", body)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def outcomes(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        return {(r.outcome, r.reason): r.quantity for r in conn.execute(select(outcome_counter))}


def test_it_stores_a_batch_and_acks_it(engine: Engine, spool: SqliteSpool, project_id: int) -> None:
    spool.append(
        [envelope_entry(project_id, "disk almost full"), envelope_entry(project_id, "disk almost full")]
    )
    worker = DigestWorker(spool, engine, LIMITS, lease_seconds=60)
    assert worker.run_once() == 2
    assert worker.run_once() == 0
    assert spool.backlog() == 0
    assert count(engine, event) == 2
    with engine.connect() as conn:
        row = conn.execute(select(issue)).one()
    assert (row.title, row.level, row.times_seen) == ("disk almost full", "warning", 2)


def test_a_redelivered_entry_is_not_stored_twice(engine: Engine, spool: SqliteSpool, project_id: int) -> None:
    entry = envelope_entry(project_id, "once")
    spool.append([entry, entry])
    DigestWorker(spool, engine, LIMITS, lease_seconds=60).run_once()
    spool.append([entry])
    DigestWorker(spool, engine, LIMITS, lease_seconds=60).run_once()
    assert count(engine, event) == 1
    assert outcomes(engine)[("accepted", "")] == 1


def test_an_entry_that_breaks_the_digest_is_buried_and_counted_and_the_rest_stored(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    broken = SpoolEntry(project_id, "envelope", 1_795_000_000.0, None, None, "gzip", b"not gzip at all")
    spool.append([broken, envelope_entry(project_id, "fine")])
    DigestWorker(spool, engine, LIMITS, lease_seconds=60).run_once()
    assert count(engine, event) == 1
    assert spool.backlog() == 0
    assert spool.dead_letters() == 1
    assert outcomes(engine)[("invalid", "processing_error")] == 1


def test_an_entry_that_kept_killing_workers_is_buried(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    spool.append([envelope_entry(project_id, "poison")])
    for _ in range(MAX_ATTEMPTS):
        spool.claim(10, lease_seconds=0)  # a worker took it and died
    DigestWorker(spool, engine, LIMITS, lease_seconds=60).run_once()
    assert spool.dead_letters() == 1
    assert count(engine, event) == 0


def test_an_unreachable_store_gives_the_batch_back_untouched(spool: SqliteSpool, tmp_path: Path) -> None:
    spool.append([envelope_entry(1, "waiting")])
    unreachable = create_store_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'shoal.db'}")
    with pytest.raises(Exception, match="unable to open database file"):
        DigestWorker(spool, unreachable, LIMITS, lease_seconds=3600).run_once()
    (again,) = spool.claim(10, lease_seconds=60)
    assert again.attempts == 1


def test_client_reports_and_unsupported_items_become_outcomes(
    engine: Engine, spool: SqliteSpool, project_id: int
) -> None:
    report = b'{"discarded_events":[{"reason":"ratelimit_backoff","category":"error","quantity":3}]}'
    body = b'{}\n{"type":"client_report"}\n' + report + b'\n{"type":"profile"}\n{"type":"profile"}'
    spool.append([SpoolEntry(project_id, "envelope", 1_795_000_000.0, None, None, "", body)])
    DigestWorker(spool, engine, LIMITS, lease_seconds=60).run_once()
    assert outcomes(engine) == {
        ("client_discard", "ratelimit_backoff"): 3,
        ("filtered", "unsupported_item"): 1,
    }
