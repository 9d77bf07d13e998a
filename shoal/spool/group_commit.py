"""Group commit: many concurrent ingest requests share one durable spool append.

Each request hands its entry to a writer thread and awaits a future. The writer takes everything
that queued up while the previous commit was on disk and appends it in one transaction, so one
fsync covers hundreds of requests under load and a lone request still commits at once. This, not a
faster JSON library, is what lets ingest accept thousands of events a second (../shared/bench/README.md: a
bare endpoint doing this reached ~6,000/s on one core).

The queue is bounded in bytes: when the disk cannot keep up, `append` fails fast with `SpoolFull`
(ingest answers 503, which SDKs treat as a lost event, not a reason to retry harder) instead of
holding ever more request bodies in memory.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable

from shoal.spool.base import Spool, SpoolEntry

log = logging.getLogger(__name__)

MAX_BATCH = 512
MAX_PENDING_BYTES = 256 * 1024 * 1024

_Waiter = tuple[SpoolEntry, asyncio.Future[None]]


class SpoolFull(Exception):
    """More bytes are waiting for the disk than the bound allows."""


class GroupCommitter:
    def __init__(self, open_spool: Callable[[], Spool], max_pending_bytes: int = MAX_PENDING_BYTES) -> None:
        self._open_spool = open_spool
        self._max_pending_bytes = max_pending_bytes
        self._pending_bytes = 0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # The spool is opened in the writer thread, the only thread that will use it.
        self._thread = threading.Thread(target=self._run, name="spool-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    async def append(self, entry: SpoolEntry) -> None:
        """Return once `entry` is durable in the spool; raise SpoolFull or the spool's error."""
        size = len(entry.body)
        with self._lock:
            if self._pending_bytes + size > self._max_pending_bytes:
                raise SpoolFull()
            self._pending_bytes += size
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((entry, future))
        await future

    def _run(self) -> None:
        spool = self._open_spool()
        try:
            while (batch := self._next_batch()) is not None:
                self._commit(spool, batch)
        finally:
            spool.close()

    def _next_batch(self) -> list[_Waiter] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                waiter = self._queue.get_nowait()
            except queue.Empty:
                break
            if waiter is None:
                self._queue.put(None)  # finish this batch, stop on the next round
                break
            batch.append(waiter)
        return batch

    def _commit(self, spool: Spool, batch: list[_Waiter]) -> None:
        error: Exception | None = None
        try:
            spool.append([entry for entry, _ in batch])
        except Exception as exc:  # a full disk, a broken file: every waiter hears about it
            log.exception("spool append failed for %d entries", len(batch))
            error = exc
        with self._lock:
            self._pending_bytes -= sum(len(entry.body) for entry, _ in batch)
        # Wake each event loop once for the whole batch (a server has one loop, tests may have more).
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for _, future in batch:
            by_loop.setdefault(future.get_loop(), []).append(future)
        for loop, futures in by_loop.items():
            loop.call_soon_threadsafe(_settle, futures, error)


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request was cancelled (client went away); nothing to tell
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
