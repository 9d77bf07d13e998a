"""The SQLite spool: durable appends, leases, redelivery after a lease expires, acks, dead letters."""

from __future__ import annotations

from pathlib import Path

from shoal.clock import ManualClock
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool


def entry(n: int) -> SpoolEntry:
    return SpoolEntry(1, "envelope", 1000.0 + n, f"{n:032x}", "127.0.0.1", "gzip", b"body-%d" % n)


def test_it_gives_back_what_was_appended_oldest_first(tmp_path: Path) -> None:
    spool = SqliteSpool(tmp_path / "spool.db", durable_writes=True)
    spool.append([entry(1), entry(2)])
    spool.append([entry(3)])
    claimed = spool.claim(10, lease_seconds=60)
    assert [c.entry for c in claimed] == [entry(1), entry(2), entry(3)]
    assert [c.attempts for c in claimed] == [1, 1, 1]


def test_it_survives_reopening(tmp_path: Path) -> None:
    SqliteSpool(tmp_path / "spool.db", durable_writes=True).append([entry(1)])
    reopened = SqliteSpool(tmp_path / "spool.db", durable_writes=False)
    assert reopened.backlog() == 1
    assert reopened.claim(10, 60)[0].entry == entry(1)


def test_a_leased_entry_is_not_claimed_twice_until_its_lease_expires(tmp_path: Path) -> None:
    clock = ManualClock(1_000_000.0)
    spool = SqliteSpool(tmp_path / "spool.db", durable_writes=True, clock=clock)
    other_worker = SqliteSpool(tmp_path / "spool.db", durable_writes=False, clock=clock)
    spool.append([entry(1), entry(2)])
    first = spool.claim(1, lease_seconds=30)
    second = other_worker.claim(10, lease_seconds=30)
    assert [c.entry for c in first] == [entry(1)]
    assert [c.entry for c in second] == [entry(2)]
    assert other_worker.claim(10, 30) == []
    clock.advance(31)
    redelivered = other_worker.claim(10, 30)
    assert [(c.entry, c.attempts) for c in redelivered] == [(entry(1), 2), (entry(2), 2)]


def test_acked_entries_are_gone(tmp_path: Path) -> None:
    spool = SqliteSpool(tmp_path / "spool.db", durable_writes=True)
    spool.append([entry(1), entry(2)])
    claimed = spool.claim(10, 60)
    spool.ack([claimed[0].id])
    assert spool.backlog() == 1


def test_released_entries_come_back_at_once_without_counting_an_attempt(tmp_path: Path) -> None:
    spool = SqliteSpool(tmp_path / "spool.db", durable_writes=True)
    spool.append([entry(1)])
    claimed = spool.claim(10, 3600)
    spool.release([c.id for c in claimed])
    again = spool.claim(10, 3600)
    assert [(c.entry, c.attempts) for c in again] == [(entry(1), 1)]


def test_a_buried_entry_leaves_the_queue_for_the_dead_letters_with_its_reason(tmp_path: Path) -> None:
    spool = SqliteSpool(tmp_path / "spool.db", durable_writes=True)
    spool.append([entry(1)])
    (claimed,) = spool.claim(10, 60)
    spool.bury(claimed, "digest failed: KeyError")
    assert spool.backlog() == 0
    assert spool.dead_letters() == 1
