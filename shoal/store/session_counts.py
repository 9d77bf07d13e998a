"""Fold a batch's session items into the per-hour session counters, in the digest's transaction,
counting every session once at its final health (docs/release-health.md).

An individual session (`sid`) keeps a state row with the health it is counted at. Its first
update counts it as started (whether or not it says `init`) with its health; a later update that
is worse moves it from one counter to the other, in the hour and release it started in (Sentry
forbids an update to change those). Health only goes up (shoal/digest/sessions.py), so applying
the same update twice, or two updates in either order, ends the same: a redelivered spool entry
changes nothing. A pre-aggregated `sessions` item has no ids; its key (arrival and bytes) is
kept, and an item whose key is known is not counted again.

Two PostgreSQL workers may insert the same new state or key at once; the loser's transaction
fails on the primary key and the digest runs its batch again (shoal/digest/store.py), which then
finds the winner's row. Rows are written in key order, so workers wait instead of deadlocking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy import Connection, case, delete, select, tuple_, update

from shoal.store.db import upsert
from shoal.store.releases import ensure_releases
from shoal.store.schema import (
    project,
    release_project,
    session_count_hour,
    session_item_seen,
    session_state,
    session_user_hour,
)


class Health(IntEnum):
    """A session's health, ordered: a session only ever moves up, so folding is a max."""

    HEALTHY = 0
    ERRORED = 1
    ABNORMAL = 2
    CRASHED = 3


@dataclass(frozen=True, slots=True)
class SessionUpdate:
    """One `session` item: a session's state as of this update."""

    project_id: int
    sid: str | None  # None: a session sent once, already ended (allowed without a sid)
    release: str
    environment: str  # "" for none
    started: float
    user_hash: str | None
    health: Health
    key_id: int = 0  # the DSN key it came with, for its accepted outcome; not stored

    @property
    def hour(self) -> int:
        return int(self.started // 3600)


@dataclass(frozen=True, slots=True)
class SessionBucket:
    """One bucket of a `sessions` item: ended sessions by final health."""

    release: str
    environment: str
    started: float
    user_hash: str | None
    exited: int  # healthy
    errored: int
    abnormal: int
    crashed: int

    @property
    def hour(self) -> int:
        return int(self.started // 3600)

    @property
    def total(self) -> int:
        return self.exited + self.errored + self.abnormal + self.crashed

    @property
    def worst(self) -> Health:
        for count, health in ((self.crashed, Health.CRASHED), (self.abnormal, Health.ABNORMAL)):
            if count:
                return health
        return Health.ERRORED if self.errored else Health.HEALTHY


@dataclass(frozen=True, slots=True)
class SessionAggregate:
    """One `sessions` item, with the key that makes counting it twice impossible."""

    project_id: int
    item_key: str
    received: float
    buckets: tuple[SessionBucket, ...]
    key_id: int = 0  # the DSN key it came with, for its accepted outcome; not stored


_CHUNK = 500  # keys per IN list, well under both backends' bound-parameter limits

# (project, release, environment, hour)
BucketKey = tuple[int, str, str, int]
# (project, release, environment, hour, user hash)
UserKey = tuple[int, str, str, int, str]
_COLUMNS = {Health.ERRORED: "errored", Health.ABNORMAL: "abnormal", Health.CRASHED: "crashed"}


@dataclass(frozen=True, slots=True)
class _State:
    bucket: BucketKey
    user_hash: str | None
    health: Health


class _Deltas:
    """What a batch adds to the counters and users, before it is written."""

    def __init__(self) -> None:
        self.counts: dict[BucketKey, Counter[str]] = {}
        self.users: dict[UserKey, Health] = {}

    def start(self, bucket: BucketKey, health: Health, sessions: int = 1) -> None:
        self.add(bucket, "started", sessions)
        self.move(bucket, Health.HEALTHY, health, sessions)

    def move(self, bucket: BucketKey, old: Health, new: Health, sessions: int = 1) -> None:
        if old in _COLUMNS:
            self.add(bucket, _COLUMNS[old], -sessions)
        if new in _COLUMNS:
            self.add(bucket, _COLUMNS[new], sessions)

    def add(self, bucket: BucketKey, column: str, n: int) -> None:
        self.counts.setdefault(bucket, Counter())[column] += n

    def user(self, bucket: BucketKey, user_hash: str | None, health: Health) -> None:
        if user_hash is None:
            return
        key = (*bucket, user_hash)
        self.users[key] = max(health, self.users.get(key, Health.HEALTHY))


def store_sessions(
    conn: Connection, updates: Sequence[SessionUpdate], aggregates: Sequence[SessionAggregate]
) -> list[SessionAggregate]:
    """Fold the updates and the aggregates not counted before; return those aggregates."""
    deltas = _Deltas()
    _fold_updates(conn, updates, deltas)
    fresh = _unseen(conn, aggregates)
    for aggregate in fresh:
        for b in aggregate.buckets:
            bucket = (aggregate.project_id, b.release, b.environment, b.hour)
            deltas.add(bucket, "started", b.total)
            for column, n in (("errored", b.errored), ("abnormal", b.abnormal), ("crashed", b.crashed)):
                deltas.add(bucket, column, n)
            deltas.user(bucket, b.user_hash, b.worst)
    _write_counts(conn, deltas.counts)
    _write_users(conn, deltas.users)
    return fresh


def _fold_updates(conn: Connection, updates: Sequence[SessionUpdate], deltas: _Deltas) -> None:
    keyed = [u for u in updates if u.sid is not None]
    known = _states(conn, {(u.project_id, u.sid) for u in keyed if u.sid is not None})
    before = dict(known)
    for u in updates:
        bucket = (u.project_id, u.release, u.environment, u.hour)
        if u.sid is None:
            deltas.start(bucket, u.health)
            deltas.user(bucket, u.user_hash, u.health)
            continue
        key = (u.project_id, u.sid)
        state = known.get(key)
        if state is None:
            deltas.start(bucket, u.health)
            known[key] = state = _State(bucket, u.user_hash, u.health)
        elif u.health > state.health:
            deltas.move(state.bucket, state.health, u.health)
            known[key] = state = _State(state.bucket, state.user_hash, u.health)
        deltas.user(state.bucket, state.user_hash, state.health)
    started = {(u.project_id, u.sid): u.started for u in keyed if u.sid is not None}
    _write_states(conn, before, known, started)


def _states(conn: Connection, keys: set[tuple[int, str]]) -> dict[tuple[int, str], _State]:
    found: dict[tuple[int, str], _State] = {}
    c = session_state.c
    for chunk in _chunks(sorted(keys)):
        rows = conn.execute(
            select(c.project_id, c.sid, c.release, c.environment, c.hour, c.user_hash, c.health).where(
                tuple_(c.project_id, c.sid).in_(chunk)
            )
        )
        for row in rows:
            bucket = (row.project_id, row.release, row.environment, row.hour)
            found[(row.project_id, row.sid)] = _State(bucket, row.user_hash, Health(row.health))
    return found


def _write_states(
    conn: Connection,
    before: dict[tuple[int, str], _State],
    after: dict[tuple[int, str], _State],
    started: dict[tuple[int, str], float],
) -> None:
    new = [key for key in sorted(after) if key not in before]
    if new:
        conn.execute(
            session_state.insert(),
            [
                {
                    "project_id": project_id,
                    "sid": sid,
                    "release": after[(project_id, sid)].bucket[1],
                    "environment": after[(project_id, sid)].bucket[2],
                    "hour": after[(project_id, sid)].bucket[3],
                    "user_hash": after[(project_id, sid)].user_hash,
                    "health": int(after[(project_id, sid)].health),
                    "started": started[(project_id, sid)],
                }
                for project_id, sid in new
            ],
        )
    for key in sorted(k for k in before if after[k].health != before[k].health):
        conn.execute(
            update(session_state)
            .where(session_state.c.project_id == key[0], session_state.c.sid == key[1])
            .values(health=int(after[key].health))
        )


def _unseen(conn: Connection, aggregates: Sequence[SessionAggregate]) -> list[SessionAggregate]:
    keys = {(a.project_id, a.item_key) for a in aggregates}
    c = session_item_seen.c
    seen: set[tuple[int, str]] = set()
    for chunk in _chunks(sorted(keys)):
        rows = conn.execute(
            select(c.project_id, c.item_key).where(tuple_(c.project_id, c.item_key).in_(chunk))
        )
        seen.update((row.project_id, row.item_key) for row in rows)
    fresh = []
    for a in aggregates:
        if (a.project_id, a.item_key) not in seen:
            seen.add((a.project_id, a.item_key))  # a second copy in the same batch is a repeat too
            fresh.append(a)
    if fresh:
        keys_in_order = sorted(fresh, key=lambda a: (a.project_id, a.item_key))
        conn.execute(
            session_item_seen.insert(),
            [
                {"project_id": a.project_id, "item_key": a.item_key, "received": a.received}
                for a in keys_in_order
            ],
        )
    return fresh


def _write_counts(conn: Connection, counts: dict[BucketKey, Counter[str]]) -> None:
    if not counts:
        return
    stmt = upsert(session_count_hour, conn)
    t, new = session_count_hour.c, stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.project_id, t.release, t.environment, t.hour],
        set_={name: t[name] + new[name] for name in ("started", "errored", "crashed", "abnormal")},
    )
    rows = [
        {
            "project_id": project_id,
            "release": release,
            "environment": environment,
            "hour": hour,
            **{name: n[name] for name in ("started", "errored", "crashed", "abnormal")},
        }
        for (project_id, release, environment, hour), n in sorted(counts.items())
    ]
    conn.execute(stmt, rows)


def _write_users(conn: Connection, users: dict[UserKey, Health]) -> None:
    if not users:
        return
    stmt = upsert(session_user_hour, conn)
    t, new = session_user_hour.c, stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.project_id, t.release, t.environment, t.hour, t.user_hash],
        set_={"health": case((new.health > t.health, new.health), else_=t.health)},
    )
    rows = [
        {
            "project_id": project_id,
            "release": release,
            "environment": environment,
            "hour": hour,
            "user_hash": user,
            "health": int(health),
        }
        for (project_id, release, environment, hour, user), health in sorted(users.items())
    ]
    conn.execute(stmt, rows)


def link_releases(conn: Connection, named: set[tuple[int, str]], now: float) -> None:
    """Make the releases the sessions name and link them to their projects, as events do: a
    release that only sessions have named so far is listed with its health."""
    if not named:
        return
    projects = sorted({project_id for project_id, _ in named})
    rows = conn.execute(select(project.c.id, project.c.organization_id).where(project.c.id.in_(projects)))
    organization_of = {row.id: row.organization_id for row in rows}
    wanted = {(organization_of[p], version) for p, version in named if p in organization_of}
    release_ids = ensure_releases(conn, wanted, now)
    links = sorted(
        {
            (release_ids[(organization_of[p], v)], p)
            for p, v in named
            if (organization_of.get(p), v) in release_ids
        }
    )
    if links:
        stmt = upsert(release_project, conn).on_conflict_do_nothing(
            index_elements=["release_id", "project_id"]
        )
        conn.execute(stmt, [{"release_id": r, "project_id": p} for r, p in links])


def prune_session_states(conn: Connection, before: float) -> int:
    """Forget the states of sessions started before `before`, and the keys of aggregates received
    before it: no update of them is taken any more (MAX_SESSION_AGE). Their counts stay."""
    states = conn.execute(delete(session_state).where(session_state.c.started < before)).rowcount
    seen = conn.execute(delete(session_item_seen).where(session_item_seen.c.received < before)).rowcount
    return int(states) + int(seen)


def _chunks(keys: Sequence[tuple[int, str]]) -> Iterable[Sequence[tuple[int, str]]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]
