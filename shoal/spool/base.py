"""The spool's contract: a durable queue of accepted envelopes between ingest and digest.

`append` returns only once its entries survive a power cut; ingest answers an SDK only after that.
`claim` leases entries to one digest worker; `ack` removes them once their effects are committed to
the store; an entry whose lease expires (its worker died) is claimed again, and its attempt count
grows. Digesting is idempotent on (project, event_id), so a redelivered entry changes nothing. An
entry that keeps failing, or kills every worker that takes it, is buried: moved to the dead letters
with the reason, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One accepted request, as ingest saw it."""

    project_id: int
    kind: str  # "envelope" or "store": which endpoint received the body
    received_at: float
    event_id: str | None  # the id ingest answered with, or None when the envelope holds no event
    client_ip: str | None
    content_encoding: str  # as sent ("" for identity); ingest checked it decodes within the limits
    body: bytes
    key_id: int = 0  # the DSN key it came with (project_key.id), for its outcomes; 0: not known


@dataclass(frozen=True, slots=True)
class ClaimedEntry:
    id: int
    attempts: int  # claims so far, this one included
    entry: SpoolEntry


class Spool(Protocol):
    def append(self, entries: Sequence[SpoolEntry]) -> None:
        """Store the entries durably (one commit for all of them)."""

    def claim(self, limit: int, lease_seconds: float) -> list[ClaimedEntry]:
        """Lease up to `limit` unleased entries, oldest first."""

    def ack(self, ids: Sequence[int]) -> None:
        """Remove entries whose effects are committed."""

    def release(self, ids: Sequence[int]) -> None:
        """Give entries back unprocessed (the store was unreachable): claimable again at once, and
        the claim does not count as an attempt."""

    def bury(self, claimed: ClaimedEntry, reason: str) -> None:
        """Move an entry that cannot be digested to the dead letters."""

    def backlog(self) -> int:
        """Entries not yet acked (leased or not)."""

    def close(self) -> None: ...
