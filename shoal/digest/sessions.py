"""Release health: read `session` and `sessions` items (protocol.md §3) into what the store folds
into its per-hour session counters (shoal/store/session_counts.py).

A `session` item is one update of one session (`sid`): the SDK sends the session's whole state
each time, so the store keeps the health it last counted the session at and moves it when a
later update is worse. A `sessions` item is request mode's pre-aggregated buckets: sessions that
already ended, counted by final status per minute of their start (and distinct id, if any).

Health, as Sentry derives it (develop docs, "Crashed, Abnormal vs Errored"; Relay's session
metrics): `crashed` and `abnormal` are their statuses; `errored` is a session with `errors` > 0
or status `errored` that neither crashed nor ended abnormally; the rest (`ok`, `exited`) is
healthy. Hours are those of the session's `started`, as Relay buckets them.

Checked as Relay checks them: the item must be a JSON object naming a release (`attrs.release`);
`started` must parse, be at most a minute ahead of the arrival and at most five days old
(Relay's `max_session_secs_in_past`), or the item is invalid. A `did` is hashed before it is
kept, as Sentry does; the nil UUID means "no user", as in Relay.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection

from shoal.digest.normalize import MAX_SECONDS_IN_FUTURE
from shoal.digest.timestamps import parse_timestamp
from shoal.ingest.envelope import Item
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.spool.base import SpoolEntry
from shoal.store.session_counts import (
    Health,
    SessionAggregate,
    SessionBucket,
    SessionUpdate,
    link_releases,
    store_sessions,
)

# Outcome reasons (category session) for an item that cannot be counted.
INVALID_SESSION = "invalid_session"  # not an object, no release, an unknown status
SESSION_TIMESTAMP = "timestamp"  # Relay's reason: `started` missing, in the future or too old

MAX_SESSION_AGE = 5 * 24 * 3600  # Relay's max_session_secs_in_past; the store keeps states as long
MAX_RELEASE = 200  # the release table's version length
MAX_ENVIRONMENT = 64
_NIL_UUIDS = frozenset({"00000000-0000-0000-0000-000000000000", "0" * 32})


_STATUS_HEALTH = {
    "ok": Health.HEALTHY,
    "exited": Health.HEALTHY,
    "errored": Health.ERRORED,
    "abnormal": Health.ABNORMAL,
    "crashed": Health.CRASHED,
}


class InvalidSession(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class SessionItems:
    """The session items of a batch, read; what the store folds in its write transaction."""

    updates: list[SessionUpdate] = field(default_factory=list)
    aggregates: list[SessionAggregate] = field(default_factory=list)
    _occurrences: Counter[str] = field(default_factory=Counter)

    def add(self, item: Item, entry: SpoolEntry) -> OutcomeKey | None:
        """Read a `session` or `sessions` item of `entry`; the invalid outcome if it cannot count."""
        try:
            if item.type == "session":
                self.updates.append(session_update(item, entry.project_id, entry.received_at, entry.key_id))
            else:
                key = aggregate_key(entry.project_id, entry.received_at, item.payload, 0)
                self._occurrences[key] += 1
                occurrence = self._occurrences[key] - 1
                self.aggregates.append(
                    session_aggregate(item, entry.project_id, entry.received_at, occurrence, entry.key_id)
                )
        except InvalidSession as exc:
            return OutcomeKey(entry.project_id, Category.SESSION, Outcome.INVALID, exc.reason, entry.key_id)
        return None

    def extend(self, other: SessionItems) -> None:
        self.updates.extend(other.updates)
        self.aggregates.extend(other.aggregates)


def session_update(item: Item, project_id: int, received: float, key_id: int = 0) -> SessionUpdate:
    """The update a `session` item holds; raises InvalidSession."""
    data = _object(item.payload)
    release, environment = _attributes(data.get("attrs"))
    started = _started(data.get("started"), received)
    status = data.get("status", "ok")
    if not isinstance(status, str) or status not in _STATUS_HEALTH:
        raise InvalidSession(INVALID_SESSION)
    health = _STATUS_HEALTH[status]
    if health == Health.HEALTHY and _whole(data.get("errors")) > 0:
        health = Health.ERRORED
    sid = data.get("sid")
    return SessionUpdate(
        project_id=project_id,
        sid=sid[:64] if isinstance(sid, str) and sid else None,
        release=release,
        environment=environment,
        started=started,
        user_hash=user_hash(data.get("did")),
        health=health,
        key_id=key_id,
    )


def session_aggregate(
    item: Item, project_id: int, received: float, occurrence: int, key_id: int = 0
) -> SessionAggregate:
    """The buckets a `sessions` item holds; raises InvalidSession when none can be counted.
    `occurrence` tells apart identical items of one request (the how-many-th it is)."""
    data = _object(item.payload)
    release, environment = _attributes(data.get("attrs"))
    raw = data.get("aggregates")
    buckets = tuple(
        bucket
        for entry in (raw if isinstance(raw, list) else [])
        if (bucket := _bucket(entry, release, environment, received)) is not None
    )
    if not buckets:
        raise InvalidSession(SESSION_TIMESTAMP if isinstance(raw, list) and raw else INVALID_SESSION)
    return SessionAggregate(
        project_id, aggregate_key(project_id, received, item.payload, occurrence), received, buckets, key_id
    )


def aggregate_key(project_id: int, received: float, payload: bytes, occurrence: int) -> str:
    """A key that is the same when the same spool entry is digested again and different for any
    other request: its arrival time (microseconds, from ingest) with the item's bytes."""
    digest = hashlib.sha256(f"{project_id}|{received!r}|{occurrence}|".encode())
    digest.update(payload)
    return digest.hexdigest()[:32]


def user_hash(did: object) -> str | None:
    """The kept form of a session's distinct id: hashed (Sentry hashes it too), None if absent."""
    if isinstance(did, int | float) and not isinstance(did, bool):
        did = str(did)
    if not isinstance(did, str) or not did or did.lower() in _NIL_UUIDS:
        return None
    return hashlib.sha256(did.encode()).hexdigest()[:32]


def _object(payload: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidSession(INVALID_SESSION) from exc
    if not isinstance(data, dict):
        raise InvalidSession(INVALID_SESSION)
    return data


def _attributes(attrs: object) -> tuple[str, str]:
    """Release and environment ("" for none); a session without a release counts for nothing."""
    found = attrs if isinstance(attrs, Mapping) else {}
    release, environment = found.get("release"), found.get("environment")
    if not isinstance(release, str) or not release.strip() or len(release) > MAX_RELEASE:
        raise InvalidSession(INVALID_SESSION)
    if environment is not None and (not isinstance(environment, str) or len(environment) > MAX_ENVIRONMENT):
        raise InvalidSession(INVALID_SESSION)
    return release.strip(), environment or ""


def _started(value: object, received: float) -> float:
    started = parse_timestamp(value)
    if started is None or started > received + MAX_SECONDS_IN_FUTURE or started < received - MAX_SESSION_AGE:
        raise InvalidSession(SESSION_TIMESTAMP)
    return started


def _bucket(entry: object, release: str, environment: str, received: float) -> SessionBucket | None:
    if not isinstance(entry, Mapping):
        return None
    try:
        started = _started(entry.get("started"), received)
    except InvalidSession:
        return None
    bucket = SessionBucket(
        release=release,
        environment=environment,
        started=started,
        user_hash=user_hash(entry.get("did")),
        exited=_whole(entry.get("exited")),
        errored=_whole(entry.get("errored")),
        abnormal=_whole(entry.get("abnormal")),
        crashed=_whole(entry.get("crashed")),
    )
    return bucket if bucket.total else None


def _whole(value: object) -> int:
    """A non-negative count; anything else counts as 0, as Relay's defaults do."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def store_session_items(conn: Connection, items: SessionItems | None, now: float) -> Counter[OutcomeKey]:
    """Fold the batch's session items into the counters (in the batch's transaction), make the
    releases they name, and return their accepted outcomes: every update, and every aggregate not
    counted before (a repeat is not accepted twice)."""
    if items is None:
        return Counter()
    fresh = store_sessions(conn, items.updates, items.aggregates)
    named = {(u.project_id, u.release) for u in items.updates}
    named.update((a.project_id, b.release) for a in fresh for b in a.buckets)
    link_releases(conn, named, now)
    accepted: Counter[OutcomeKey] = Counter()
    for project_id, key_id in [(u.project_id, u.key_id) for u in items.updates] + [
        (a.project_id, a.key_id) for a in fresh
    ]:
        accepted[OutcomeKey(project_id, Category.SESSION, Outcome.ACCEPTED, "", key_id)] += 1
    return accepted
