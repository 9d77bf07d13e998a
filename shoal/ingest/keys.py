"""An in-memory cache of project keys, so authenticating a request costs a dict lookup.

A key is looked up in the store on first use and then trusted for `ttl` seconds; a key that does
not exist is remembered for a shorter time, so a client hammering with a wrong DSN costs one query
every few seconds, not one per request. Disabling a key, or changing its rate limit (which the
cached `KeyInfo` carries with the key's id, for shoal/ingest/limits.py), takes effect within `ttl`.
"""

from __future__ import annotations

from sqlalchemy import Engine

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.store.projects import KeyInfo, find_key

POSITIVE_TTL = 30.0
NEGATIVE_TTL = 5.0
# Bounds memory when a client sends endless random keys: past this many, start afresh.
MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, engine: Engine, clock: Clock = SYSTEM_CLOCK) -> None:
        self._engine = engine
        self._clock = clock
        self._entries: dict[str, tuple[float, KeyInfo | None]] = {}

    def lookup(self, public_key: str) -> KeyInfo | None:
        now = self._clock.now()
        cached = self._entries.get(public_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self._engine.connect() as conn:
            key = find_key(conn, public_key)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[public_key] = (now + (POSITIVE_TTL if key else NEGATIVE_TTL), key)
        return key
