"""The digest worker: claim a batch from the spool, digest it, store it in one transaction, ack.

Run as a process (`shoal worker`, or the child `shoal run` starts) or driven one batch at a time by
tests (`run_once`). Failure handling, so that nothing accepted is lost:
- an entry that raises while being digested (a Shoal bug) is buried in the spool's dead letters and
  counted as invalid:processing_error; the rest of the batch goes on;
- an entry claimed more than MAX_ATTEMPTS times (each worker that took it died) is buried too;
- a store transaction that loses a race (another worker created the same issue) is run again;
- a store that is unreachable gets the batch released back to the spool and a growing pause.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Sequence

from sqlalchemy import Engine

from shoal import outcomes
from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.digest.decision_memory import DecisionMemory
from shoal.digest.pipeline import Digested, DigestLimits, Pipeline, ProjectSettings
from shoal.digest.sessions import MAX_SESSION_AGE
from shoal.digest.store import store_with_retries
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import ClaimedEntry, Spool
from shoal.store import aggregates, alert_rules, alert_state, outbox, session_counts
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.inbound_filters import FilterSettings
from shoal.store.projects import ScrubbingSettings, project_filters, project_groupings, project_scrubbing

log = logging.getLogger(__name__)

# Entries per claim and per store transaction. Per-batch costs (the issue and counter updates, one
# evaluation of each alert rule per touched issue) amortize over more events: on the corpus, 1024
# digests 12 % faster than 256 with no rules and 20 % faster with 20 rules (bench/alert_rules.py,
# 2026-12-01). A batch is about 5 MB of compressed events in memory.
BATCH_SIZE = 1024
MAX_ATTEMPTS = 5
_IDLE_SLEEP = 0.05
_MAX_ERROR_SLEEP = 10.0
_PRUNE_EVERY = 600.0
_MINUTE_COUNTS_KEPT = 24 * 60 + 60  # a day, and an hour of slack for "in the last hour" questions


def collect_garbage_less_often() -> None:
    """Raise the garbage collector's first threshold for a digest process. Digesting allocates
    thousands of objects per event (its parsed JSON), most freed by reference counting at once;
    at the default 700 allocations the collector runs so often that it costs as much as the alert
    rules: 10,000 made the digest 6 % faster on the corpus, with or without rules
    (bench/alert_rules.py, 2026-12-01). Cyclic garbage still goes, a little later."""
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


class DigestWorker:
    def __init__(
        self,
        spool: Spool,
        engine: Engine,
        limits: DigestLimits,
        lease_seconds: float,
        clock: Clock = SYSTEM_CLOCK,
        *,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._spool = spool
        self._batch_size = batch_size
        self._lease_seconds = lease_seconds
        self._engine = engine
        self._clock = clock
        self._pipeline = Pipeline(limits, PayloadCodec())
        self._decisions = DecisionMemory()
        self._next_prune = 0.0

    def run_once(self) -> int:
        """Digest one batch; return how many spool entries it handled (0: the spool was empty)."""
        claimed = self._spool.claim(self._batch_size, self._lease_seconds)
        if not claimed:
            return 0
        try:
            digested, buried = self._digest(claimed)
            result = store_with_retries(
                self._engine,
                digested.events,
                digested.outcomes,
                self._clock.now(),
                self._decisions,
                transactions=digested.transactions,
                check_ins=digested.check_ins,
                sessions=digested.sessions,
                attachments=digested.attachments,
                feedback=digested.feedback,
                refunds=digested.refunds,
            )
        except Exception:
            # The store is unreachable or broken, not the entries: hand them back for the next try.
            self._spool.release([c.id for c in claimed])
            raise
        buried_ids = {entry.id for entry, _ in buried}
        for entry, reason in buried:
            self._spool.bury(entry, reason)
        self._spool.ack([c.id for c in claimed if c.id not in buried_ids])
        log.debug(
            "digested entries=%d stored=%d duplicates=%d new_issues=%d",
            len(claimed),
            result.stored,
            result.duplicates,
            len(result.new_issue_ids),
        )
        return len(claimed)

    def run_forever(self, stop: threading.Event) -> None:
        error_sleep = 0.5
        while not stop.is_set():
            try:
                handled = self.run_once()
                self._maybe_prune()
                error_sleep = 0.5
            except Exception:
                log.exception("digest batch failed; retrying in %.1fs", error_sleep)
                stop.wait(error_sleep)
                error_sleep = min(error_sleep * 2, _MAX_ERROR_SLEEP)
                continue
            if handled == 0:
                stop.wait(_IDLE_SLEEP)

    def _digest(self, claimed: Sequence[ClaimedEntry]) -> tuple[Digested, list[tuple[ClaimedEntry, str]]]:
        digested = Digested()
        buried: list[tuple[ClaimedEntry, str]] = []
        settings = self._project_settings({c.entry.project_id for c in claimed})
        for c in claimed:
            project_id = c.entry.project_id
            if project_id not in settings:
                log.warning("dropping spool entry %d: project %d no longer exists", c.id, project_id)
                buried.append((c, "project deleted"))
                continue
            reason = self._digest_one(c, settings[project_id], digested)
            if reason is not None:
                buried.append((c, reason))
                key = OutcomeKey(
                    project_id, Category.ERROR, Outcome.INVALID, outcomes.PROCESSING_ERROR, c.entry.key_id
                )
                digested.outcomes[key] += 1
        return digested, buried

    def _digest_one(self, claimed: ClaimedEntry, project: ProjectSettings, into: Digested) -> str | None:
        """Digest one entry into `into`; return why it must be buried, or None."""
        if claimed.attempts > MAX_ATTEMPTS:
            log.error(
                "burying spool entry %d: claimed %d times without finishing", claimed.id, claimed.attempts
            )
            return f"not digested after {MAX_ATTEMPTS} attempts"
        # Digest into a scratch batch first, so a failure halfway leaves nothing of this entry behind.
        scratch = Digested()
        try:
            self._pipeline.digest_entry(claimed.entry, project, scratch)
        except Exception as exc:
            log.exception("burying spool entry %d: digest failed", claimed.id)
            return f"digest failed: {type(exc).__name__}: {exc}"[:500]
        into.events.extend(scratch.events)
        into.outcomes.update(scratch.outcomes)
        into.refunds.update(scratch.refunds)
        into.transactions.extend(scratch.transactions)
        into.check_ins.extend(scratch.check_ins)
        into.attachments.extend(scratch.attachments)
        into.feedback.extend(scratch.feedback)
        into.sessions.extend(scratch.sessions)
        return None

    def _project_settings(self, project_ids: set[int]) -> dict[int, ProjectSettings]:
        """Read for every batch, so that a saved grouping rule, alert rule, scrubbing setting or
        inbound filter applies to the next."""
        with self._engine.connect() as conn:
            groupings = project_groupings(conn, project_ids)
            attributes = alert_rules.attributes_compared(conn, groupings)
            scrubbing = project_scrubbing(conn, project_ids)
            filters = project_filters(conn, project_ids)
        return {
            project_id: ProjectSettings(
                grouping,
                attributes.get(project_id, frozenset()),
                scrubbing=scrubbing.get(project_id, ScrubbingSettings()),
                filters=filters.get(project_id, FilterSettings()),
            )
            for project_id, grouping in groupings.items()
        }

    def _maybe_prune(self) -> None:
        now = self._clock.now()
        if now < self._next_prune:
            return
        self._next_prune = now + _PRUNE_EVERY
        with write_transaction(self._engine) as conn:
            pruned = aggregates.prune_minute_counts(conn, int(now // 60) - _MINUTE_COUNTS_KEPT)
            decisions = alert_state.prune_decisions(conn, now)
            notifications = outbox.prune(conn, now - outbox.KEPT_SECONDS)
            # Sessions older than this take no updates any more (shoal/digest/sessions.py).
            session_counts.prune_session_states(conn, now - MAX_SESSION_AGE)
        if pruned or decisions or notifications:
            log.info(
                "pruned %d per-minute issue counts, %d alert decisions and %d sent notifications",
                pruned,
                decisions,
                notifications,
            )
