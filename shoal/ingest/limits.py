"""Quotas, per-key rate limits and spike protection, decided at ingest before the 200 (docs/quotas.md).

For each request, each item is let through or dropped *before* anything is spooled, so nothing
answered 200 is ever dropped later for a quota. The limits that apply to an item of a category:
- its key's rate limit (`project_key.rate_limit_count` per `rate_limit_window` seconds), for
  error-like items (error, default, security), as Sentry's key quotas;
- its project's and its organization's quotas for the category (table `quota`, per minute, hour,
  day or calendar month, UTC);
- spike protection (on by default per project): an hourly limit of max(floor, multiplier × the
  project's average hourly count over the last 7 days), for errors and transactions.

Counting is in memory: every web process keeps what it let through since its last flush, and a
thread adds that to `quota_usage` every FLUSH_SECONDS with an upsert that returns the totals of
all processes (shoal/store/quota_usage.py). A decision compares the last known total plus this
process's counts not yet flushed with the limit. One process is exact; with several, each sees the
others' counts up to one flush interval late (docs/quotas.md, "How exact"). An item an inbound
filter drops in the digest is subtracted again there (quota_usage.refund); the flush reads it back.

Whatever is dropped becomes an outcome `rate_limited:<reason>` per project, key, hour and
category, flushed to `outcome_counter` with the counts; so are requests of a known key that ingest
refused with 400 or 413 (`count_invalid`), since this is where ingest's outcomes are flushed. A
kill -9 loses at most the last flush interval of these counts; never an event answered 200.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
from sqlalchemy import Connection, Engine, select

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.ingest.envelope import Envelope
from shoal.outcomes import (
    KEY_QUOTA,
    ORG_QUOTA,
    PROJECT_QUOTA,
    SPIKE_PROTECTION,
    Category,
    Outcome,
    OutcomeKey,
    category_of_item,
)
from shoal.store import aggregates, quota_usage, quotas
from shoal.store.db import write_transaction
from shoal.store.projects import KeyInfo, get_project
from shoal.store.quota_usage import (
    ALWAYS_COUNTED,
    ALWAYS_COUNTED_ORG,
    UsageKey,
    current_key,
    window_bounds,
    window_end_bound,
)
from shoal.store.quotas import GOVERNED, QUOTA_CATEGORY
from shoal.store.schema import project

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
# A project's quotas and spike protection are read again after this long: a change on the
# settings page applies within it.
POLICY_SECONDS = 10.0
PRUNE_SECONDS = 3600.0
# A counter consulted in the last WATCH_SECONDS has its total read again at every flush.
WATCH_SECONDS = 60.0
# A total older than this many flush intervals (the counter was not watched, or flushes fail) is
# read again from the store before deciding with it, so no decision uses a total staler than that.
STALE_FLUSHES = 3


class Item(NamedTuple):
    """What a decision needs of an envelope item: its category and how much of it (attachments
    in bytes, everything else 1)."""

    category: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit: at most `limit` of `category` per `window` for the key, project or organization."""

    scope: str  # key | project | organization
    scope_id: int
    category: str  # a quota category (GOVERNED's keys)
    window: str  # minute | hour | day | month | "<seconds>s" (a key's own window)
    limit: int
    reason: str


@dataclass(frozen=True, slots=True)
class ActiveLimit:
    """A limit that refused something and lasts until its window ends: what X-Sentry-Rate-Limits says."""

    rule: Rule
    seconds: int  # until the window ends, rounded up: SDKs want an integer (protocol.md §5)

    def header_part(self) -> str:
        return f"{self.seconds}:{';'.join(GOVERNED[self.rule.category])}:{self.rule.scope}:{self.rule.reason}"


@dataclass
class Verdict:
    dropped: list[int] = field(default_factory=list)  # indexes of the items over a limit
    limits: list[ActiveLimit] = field(default_factory=list)  # every limit in force for the sender

    def refuses_all(self, item_count: int) -> bool:
        """Nothing is left to accept: answer 429 (an envelope with some items left gets 200)."""
        return item_count > 0 and len(self.dropped) == item_count

    @property
    def retry_after(self) -> int:
        return max((limit.seconds for limit in self.limits), default=60)

    def headers(self, *, refused: bool) -> list[tuple[bytes, bytes]]:
        """X-Sentry-Rate-Limits whenever a limit is in force (on 200s too, so SDKs stop early), and
        Retry-After on a 429, the longest limit's (as Relay writes it)."""
        if not self.limits:
            return []
        value = ", ".join(limit.header_part() for limit in self.limits)
        headers = [(b"x-sentry-rate-limits", value.encode("ascii"))]
        if refused:
            headers.append((b"retry-after", str(self.retry_after).encode("ascii")))
        return headers


@dataclass(frozen=True)
class _Policy:
    organization_id: int
    rules: dict[str, tuple[Rule, ...]]  # quota category → the project's, organization's and spike rules
    expires: float
    every_rule: frozenset[Rule] = frozenset()


def key_rule(key: KeyInfo) -> Rule | None:
    limit = key.rate_limit
    if limit is None:
        return None
    return Rule("key", key.id, "error", f"{limit.window}s", limit.count, KEY_QUOTA)


def envelope_items(envelope: Envelope) -> list[Item]:
    items = []
    for item in envelope.items:
        category = category_of_item(item.type)
        items.append(Item(category, len(item.payload) if category == Category.ATTACHMENT else 1))
    return items


def envelope_without(envelope: Envelope, dropped: Sequence[int]) -> bytes:
    """The envelope (uncompressed) without the dropped items: what is spooled when only some of
    its items are over a limit. Payloads are kept byte for byte; headers are written again."""
    gone = set(dropped)
    parts = [orjson.dumps(envelope.headers)]
    for index, item in enumerate(envelope.items):
        if index not in gone:
            parts.extend((orjson.dumps(item.headers), item.payload))
    return b"\n".join(parts) + b"\n"


class Limiter:
    """Decides, counts, and flushes the counts. `check` runs on the event loop; the flush runs in
    its own thread (`start`/`stop`) or when a test calls `flush`. One lock guards the counts."""

    def __init__(
        self, engine: Engine, clock: Clock = SYSTEM_CLOCK, flush_seconds: float = FLUSH_SECONDS
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._known: dict[UsageKey, tuple[int, float]] = {}  # total of every process, and as of when
        self._local: dict[UsageKey, int] = {}  # let through here since the last flush
        self._flushing: dict[UsageKey, int] = {}  # being added to the store right now
        self._watched: dict[UsageKey, float] = {}  # counter → when it was last consulted
        self._outcomes: Counter[tuple[int, OutcomeKey]] = Counter()  # (hour, outcome) → quantity
        self._active: dict[tuple[str, int], dict[Rule, int]] = {}  # (scope, id) → rule → window end
        self._policies: dict[int, _Policy] = {}
        self._baselines = _Baselines()
        self._windows: dict[Rule, tuple[UsageKey, int]] = {}  # rule → its current counter, window end
        self._always_hour = 0
        self._always: dict[tuple[int, int, str], tuple[UsageKey, ...]] = {}
        self._next_prune = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------- deciding

    def check(self, key: KeyInfo, items: Sequence[Item]) -> Verdict:
        """Which items are over a limit (counted as rate-limited outcomes), and the limits in force
        for this key, project and organization. The items let through are counted."""
        now = self._clock.now()
        policy = self._policy(key.project_id, now)
        own_rule = key_rule(key)
        verdict = Verdict()
        with self._lock:
            for index, item in enumerate(items):
                category = QUOTA_CATEGORY.get(item.category)
                if category is None:
                    continue  # client reports, spans, logs…: no quota applies
                rules = policy.rules.get(category, ())
                if own_rule is not None and category == "error":
                    rules = (own_rule, *rules)
                if not self._admit(key, policy, rules, item, now):
                    verdict.dropped.append(index)
            verdict.limits = self._in_force(key, policy, own_rule, now)
        return verdict

    def count_invalid(self, key: KeyInfo, reason: str) -> None:
        """Count a request of this key that ingest refused (400, 413) as `invalid:<reason>`: it
        goes to the store with the rate-limited outcomes, at the next flush."""
        outcome = OutcomeKey(key.project_id, Category.ERROR, Outcome.INVALID, reason, key.id)
        with self._lock:
            self._outcomes[int(self._clock.now() // 3600), outcome] += 1

    def _admit(self, key: KeyInfo, policy: _Policy, rules: Sequence[Rule], item: Item, now: float) -> bool:
        category = QUOTA_CATEGORY[item.category]
        counters = []
        for rule in rules:
            counter, end = self._counter(rule, now)
            if self._used(counter, now) + item.quantity > rule.limit:
                self._active.setdefault((rule.scope, rule.scope_id), {})[rule] = end
                hour = int(now // 3600)
                outcome = OutcomeKey(key.project_id, item.category, Outcome.RATE_LIMITED, rule.reason, key.id)
                self._outcomes[hour, outcome] += item.quantity
                return False
            counters.append(counter)
        counters.extend(self._always_counted(key.project_id, policy.organization_id, category, now))
        for counter in set(counters):
            self._local[counter] = self._local.get(counter, 0) + item.quantity
        return True

    def _counter(self, rule: Rule, now: float) -> tuple[UsageKey, int]:
        """The rule's counter of the window `now` is in, and when that window ends. Kept until it
        ends: windows_bounds on every item was a quarter of `check`'s time (bench/limiter_cost.py)."""
        cached = self._windows.get(rule)
        if cached is None or not cached[0].window_start <= now < cached[1]:
            start, end = window_bounds(rule.window, rule.scope_id, now)
            cached = self._windows[rule] = (
                UsageKey(rule.scope, rule.scope_id, rule.category, rule.window, start),
                end,
            )
        self._watched[cached[0]] = now
        return cached

    def _always_counted(
        self, project_id: int, organization_id: int, category: str, now: float
    ) -> tuple[UsageKey, ...]:
        """The project's and organization's hour, day and month counters: they all change on the
        hour at the latest, so they are made once an hour."""
        hour = int(now // 3600)
        if hour != self._always_hour:
            self._always_hour, self._always = hour, {}
        found = self._always.get((project_id, organization_id, category))
        if found is None:
            found = self._always[project_id, organization_id, category] = tuple(
                [current_key(scope, project_id, category, window, now) for scope, window in ALWAYS_COUNTED]
                + [
                    current_key(scope, organization_id, category, window, now)
                    for scope, window in ALWAYS_COUNTED_ORG
                ]
            )
        return found

    def _used(self, counter: UsageKey, now: float) -> int:
        known = self._known.get(counter)
        if known is None or known[1] < now - STALE_FLUSHES * self._flush_seconds:
            total = self._load(counter)
            if total is not None:
                known = self._known[counter] = (total, now)
        base = known[0] if known is not None else 0
        return base + self._flushing.get(counter, 0) + self._local.get(counter, 0)

    def _load(self, counter: UsageKey) -> int | None:
        """A counter this process has not seen yet (a new window, or a restart mid-month), or not
        lately: its total so far. None if the store cannot say: then the last total known is used
        (none: 0), as ingest keeps accepting while the store is down; the next flush reads it."""
        try:
            with self._engine.connect() as conn:
                return quota_usage.usage(conn, [counter]).get(counter, 0)
        except Exception:
            log.exception("cannot read quota usage; deciding with the last total known")
            return None

    def _in_force(
        self, key: KeyInfo, policy: _Policy, own_rule: Rule | None, now: float
    ) -> list[ActiveLimit]:
        """The limits that refused something and whose window has not ended, if they still exist."""
        found: dict[tuple[str, str, str], ActiveLimit] = {}
        for scope in (("key", key.id), ("project", key.project_id), ("organization", policy.organization_id)):
            active = self._active.get(scope)
            if not active:
                continue
            for rule, end in list(active.items()):
                if end <= now or (rule not in policy.every_rule and rule != own_rule):
                    del active[rule]
                    continue
                limit = ActiveLimit(rule, max(1, math.ceil(end - now)))
                # One entry per categories, scope and reason: the longest.
                slot = (rule.category, rule.scope, rule.reason)
                if slot not in found or found[slot].seconds < limit.seconds:
                    found[slot] = limit
        return list(found.values())

    # ------------------------------------------------------------------------------- policies

    def _policy(self, project_id: int, now: float) -> _Policy:
        policy = self._policies.get(project_id)
        if policy is not None and policy.expires > now:
            return policy
        try:
            with self._engine.connect() as conn:
                fresh = load_policy(conn, project_id, now, now + POLICY_SECONDS, self._baselines)
        except Exception:
            log.exception("cannot read the quotas of project %d; keeping what was known", project_id)
            fresh = _Policy(0, {}, now + 1) if policy is None else _replace_expiry(policy, now + 1)
        self._policies[project_id] = fresh
        return fresh

    # ------------------------------------------------------------------------------- flushing

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="quota-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and flush what is left (a clean shutdown loses no count)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def flush(self) -> None:
        """Add this process's counts and rate-limited outcomes to the store, and learn the totals."""
        now = self._clock.now()
        with self._lock:
            flushing, self._local = self._local, {}
            self._flushing = flushing
            self._watched = {c: seen for c, seen in self._watched.items() if seen > now - WATCH_SECONDS}
            watched = [counter for counter in self._watched if counter not in flushing]
            outcomes, self._outcomes = self._outcomes, Counter()
        if not flushing and not watched and not outcomes:
            return
        try:
            totals = self._write(flushing, watched, outcomes, now)
        except Exception:
            log.exception("cannot store quota counts; trying again in %.0fs", self._flush_seconds)
            with self._lock:
                for counter, count in flushing.items():
                    self._local[counter] = self._local.get(counter, 0) + count
                self._flushing = {}
                self._outcomes.update(outcomes)
            return
        with self._lock:
            self._known.update({counter: (total, now) for counter, total in totals.items()})
            self._flushing = {}
            self._forget_ended(now)

    def _write(
        self,
        increments: dict[UsageKey, int],
        watched: list[UsageKey],
        outcomes: Counter[tuple[int, OutcomeKey]],
        now: float,
    ) -> dict[UsageKey, int]:
        """Add the counts, read the totals of the counters watched, add the outcomes: one transaction."""
        by_hour: dict[int, Counter[OutcomeKey]] = {}
        for (hour, outcome), quantity in outcomes.items():
            by_hour.setdefault(hour, Counter())[outcome] += quantity
        with write_transaction(self._engine) as conn:
            totals = quota_usage.add_usage(conn, increments)
            found = quota_usage.usage(conn, watched)
            totals.update({counter: found.get(counter, 0) for counter in watched})
            existing = _existing_projects(conn, {outcome.project_id for _, outcome in outcomes})
            for hour, counts in sorted(by_hour.items()):
                aggregates.add_outcomes(
                    conn, hour, {k: n for k, n in counts.items() if k.project_id in existing}
                )
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_SECONDS
                quota_usage.prune(conn, now)
        return totals

    def _forget_ended(self, now: float) -> None:
        """Drop known totals of windows that ended (a month is at most 31 days)."""
        for counter in [c for c in self._known if window_end_bound(c) < now]:
            del self._known[counter]
        for rule in [r for r, (_, end) in self._windows.items() if end < now]:
            del self._windows[rule]


def _existing_projects(conn: Connection, project_ids: set[int]) -> set[int]:
    """Outcomes of a project deleted meanwhile are let go: their foreign key would fail the flush,
    and with it every later one."""
    if not project_ids:
        return set()
    return {int(i) for i in conn.execute(select(project.c.id).where(project.c.id.in_(project_ids))).scalars()}


def _replace_expiry(policy: _Policy, expires: float) -> _Policy:
    return _Policy(policy.organization_id, policy.rules, expires, policy.every_rule)


class _Baselines:
    """Spike protection's baselines by project and hour: they change only when the hour does, so
    each is read once an hour, not with every policy."""

    def __init__(self) -> None:
        self._hour = 0
        self._by_project: dict[int, dict[str, float]] = {}

    def of(self, conn: Connection, project_id: int, hour_start: int) -> dict[str, float]:
        if hour_start != self._hour:
            self._hour, self._by_project = hour_start, {}
        found = self._by_project.get(project_id)
        if found is None:
            found = self._by_project[project_id] = {
                category: quotas.hourly_baseline(conn, project_id, category, hour_start)
                for category in quotas.SPIKE_CATEGORIES
            }
        return found


def load_policy(
    conn: Connection, project_id: int, now: float, expires: float, baselines: _Baselines
) -> _Policy:
    """The rules of a project, from its quotas, its organization's and its spike protection."""
    project = get_project(conn, project_id)
    if project is None:
        return _Policy(0, {}, expires)
    rules: dict[str, list[Rule]] = {}
    for found in quotas.project_quotas(conn, project_id):
        rules.setdefault(found.category, []).append(
            Rule("project", project_id, found.category, found.window, found.limit, PROJECT_QUOTA)
        )
    for found in quotas.organization_quotas(conn, project.organization_id):
        rules.setdefault(found.category, []).append(
            Rule(
                "organization", project.organization_id, found.category, found.window, found.limit, ORG_QUOTA
            )
        )
    spike = quotas.spike_protection(conn, project_id)
    if spike.enabled:
        for category, baseline in baselines.of(conn, project_id, int(now // 3600) * 3600).items():
            rules.setdefault(category, []).append(
                Rule("project", project_id, category, "hour", spike.limit(baseline), SPIKE_PROTECTION)
            )
    every_rule = frozenset(rule for found in rules.values() for rule in found)
    return _Policy(project.organization_id, {c: tuple(r) for c, r in rules.items()}, expires, every_rule)
