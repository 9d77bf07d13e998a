"""Group commit: concurrent appends share commits, and every waiter hears how its commit went."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from shoal.spool.base import ClaimedEntry, SpoolEntry
from shoal.spool.group_commit import GroupCommitter, SpoolFull
from shoal.spool.sqlite import SqliteSpool


class CountingSpool(SqliteSpool):
    """The real SQLite spool, counting its append transactions."""

    commits = 0

    def append(self, entries: Sequence[SpoolEntry]) -> None:
        CountingSpool.commits += 1
        super().append(entries)


class BrokenSpool(SqliteSpool):
    def append(self, entries: Sequence[SpoolEntry]) -> None:
        raise OSError(28, "No space left on device")


def entry(n: int, size: int = 10) -> SpoolEntry:
    return SpoolEntry(1, "envelope", float(n), None, None, "", b"x" * size)


async def append_many(committer: GroupCommitter, n: int) -> None:
    await asyncio.gather(*(committer.append(entry(i)) for i in range(n)))


def test_it_commits_many_concurrent_appends_in_few_transactions(tmp_path: Path) -> None:
    CountingSpool.commits = 0
    committer = GroupCommitter(lambda: CountingSpool(tmp_path / "spool.db", durable_writes=True))
    committer.start()
    try:
        asyncio.run(append_many(committer, 500))
    finally:
        committer.stop()
    reader = SqliteSpool(tmp_path / "spool.db", durable_writes=False)
    claimed: list[ClaimedEntry] = reader.claim(1000, 60)
    assert len(claimed) == 500
    assert CountingSpool.commits < 50


def test_every_waiter_hears_of_a_failed_commit(tmp_path: Path) -> None:
    committer = GroupCommitter(lambda: BrokenSpool(tmp_path / "spool.db", durable_writes=True))
    committer.start()
    try:
        with pytest.raises(OSError, match="No space left"):
            asyncio.run(append_many(committer, 3))
    finally:
        committer.stop()


def test_it_refuses_at_once_when_too_many_bytes_wait_for_the_disk(tmp_path: Path) -> None:
    committer = GroupCommitter(
        lambda: SqliteSpool(tmp_path / "spool.db", durable_writes=True), max_pending_bytes=100
    )
    committer.start()
    try:
        with pytest.raises(SpoolFull):
            asyncio.run(committer.append(entry(1, size=101)))
        asyncio.run(committer.append(entry(2, size=100)))
    finally:
        committer.stop()
