"""Quotas, per-key rate limits and spike protection as ingest decides them (shoal/ingest/limits.py):
windows, scopes, envelopes only partly over, the header SDKs read, counts shared through the store
by several processes, and the rate-limited outcomes. On SQLite and PostgreSQL, with a manual clock."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from shoal.clock import ManualClock
from shoal.ingest.envelope import parse_envelope
from shoal.ingest.limits import POLICY_SECONDS, Item, Limiter, envelope_items, envelope_without
from shoal.outcomes import Outcome, OutcomeKey
from shoal.store import aggregates, projects, quota_usage, quotas
from shoal.store.db import write_transaction
from shoal.store.projects import KeyInfo, RateLimit
from shoal.store.quota_usage import UsageKey, window_bounds
from shoal.store.schema import outcome_counter

# 2026-03-10 12:00:30 UTC: mid-month, mid-day, 30 s into a minute.
START = calendar.timegm((2026, 3, 10, 12, 0, 30))
ERROR = Item("error", 1)
TRANSACTION = Item("transaction", 1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def make_project(engine: Engine, name: str = "shop") -> tuple[int, int]:
    """A project in a new organization: (organization id, project id)."""
    with write_transaction(engine) as conn:
        organization_id = projects.create_organization(conn, f"org-{name}", name)
        project = projects.create_project(conn, organization_id, name, "python", "newstyle:2023-01-11")
    return organization_id, project.id


def key_of(engine: Engine, project_id: int, limit: RateLimit | None = None) -> KeyInfo:
    with write_transaction(engine) as conn:
        key = projects.list_keys(conn, project_id)[0]
        projects.set_key_rate_limit(conn, key.id, limit)
        found = projects.find_key(conn, key.public_key)
    assert found is not None
    return found


def set_quota(engine: Engine, scope: tuple[int, int | None], category: str, window: str, limit: int) -> None:
    """A quota of the organization (project None) or the project: (organization id, project id)."""
    with write_transaction(engine) as conn:
        quotas.set_quota(conn, *scope, category=category, window=window, limit=limit)


def outcomes(engine: Engine) -> dict[tuple[str, str, str, int], int]:
    with engine.connect() as conn:
        rows = conn.execute(select(outcome_counter).where(outcome_counter.c.outcome == "rate_limited"))
        return {(r.category, r.reason, str(r.hour), r.key_id): r.quantity for r in rows}


# ------------------------------------------------------------------------------------ windows


def test_minutes_hours_and_days_are_utc_and_a_month_is_the_calendar_month() -> None:
    assert window_bounds("minute", 7, START) == (START - 30, START + 30)
    assert window_bounds("hour", 7, START) == (START - 30, START - 30 + 3600)
    day = calendar.timegm((2026, 3, 10, 0, 0, 0))
    assert window_bounds("day", 7, START) == (day, day + 86_400)
    assert window_bounds("month", 7, START) == (
        calendar.timegm((2026, 3, 1, 0, 0, 0)),
        calendar.timegm((2026, 4, 1, 0, 0, 0)),
    )
    december = calendar.timegm((2026, 12, 31, 23, 59, 59))
    assert window_bounds("month", 7, december) == (
        calendar.timegm((2026, 12, 1, 0, 0, 0)),
        calendar.timegm((2027, 1, 1, 0, 0, 0)),
    )


def test_a_keys_own_window_is_shifted_by_its_id_so_keys_do_not_all_reset_together() -> None:
    minute = START - 30
    assert window_bounds("60s", 0, START) == (minute, minute + 60)
    assert window_bounds("60s", 45, START) == (minute - 15, minute + 45)
    assert window_bounds("60s", 105, START) == (minute - 15, minute + 45)  # 105 % 60 == 45
    assert window_bounds("300s", 1, START)[1] - window_bounds("300s", 1, START)[0] == 300


# ------------------------------------------------------------------------- key rate limits


def test_a_key_limited_to_10_a_minute_refuses_the_11th_error_until_its_window_ends(
    engine: Engine, clock: ManualClock
) -> None:
    _, project_id = make_project(engine)
    key = key_of(engine, project_id, RateLimit(10, 60))
    limiter = Limiter(engine, clock)

    for _ in range(10):
        verdict = limiter.check(key, [ERROR])
        assert verdict.dropped == [] and verdict.limits == []
    refused = limiter.check(key, [ERROR])

    assert refused.dropped == [0] and refused.refuses_all(1)
    _, end = window_bounds("60s", key.id, clock.now())
    seconds = end - int(clock.now())
    assert refused.headers(refused=True) == [
        (b"x-sentry-rate-limits", f"{seconds}:default;error;security:key:key_quota".encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    clock.advance(seconds)
    assert limiter.check(key, [ERROR]).dropped == []


def test_a_keys_rate_limit_covers_errors_not_transactions(engine: Engine, clock: ManualClock) -> None:
    _, project_id = make_project(engine)
    key = key_of(engine, project_id, RateLimit(1, 60))
    limiter = Limiter(engine, clock)
    assert limiter.check(key, [ERROR]).dropped == []
    verdict = limiter.check(key, [TRANSACTION, Item("security", 1), Item("internal", 1)])
    assert verdict.dropped == [1]
    assert not verdict.refuses_all(3)


def test_a_retry_after_is_a_whole_number_of_seconds_rounded_up(engine: Engine, clock: ManualClock) -> None:
    _, project_id = make_project(engine)
    key = key_of(engine, project_id, RateLimit(1, 60))
    limiter = Limiter(engine, clock)
    limiter.check(key, [ERROR])
    clock.advance(0.4)
    verdict = limiter.check(key, [ERROR])
    _, end = window_bounds("60s", key.id, clock.now())
    assert verdict.retry_after == int(end - clock.now()) + 1
    assert b"." not in dict(verdict.headers(refused=True))[b"retry-after"]


# ---------------------------------------------------------------------------------- quotas


def test_a_monthly_project_quota_of_5_errors_refuses_the_6th_with_scope_project(
    engine: Engine, clock: ManualClock
) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, project_id), "error", "month", 5)
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)

    assert [limiter.check(key, [ERROR]).dropped for _ in range(5)] == [[]] * 5
    clock.advance(3600)
    refused = limiter.check(key, [ERROR])

    assert refused.refuses_all(1)
    header = dict(refused.headers(refused=True))[b"x-sentry-rate-limits"].decode()
    _, month_end = window_bounds("month", project_id, clock.now())
    assert header == f"{month_end - int(clock.now())}:default;error;security:project:project_quota"


def test_an_organization_quota_counts_all_its_projects_together(engine: Engine, clock: ManualClock) -> None:
    organization_id, first = make_project(engine)
    with write_transaction(engine) as conn:
        second = projects.create_project(conn, organization_id, "second", "python", "newstyle:2023-01-11").id
    set_quota(engine, (organization_id, None), "error", "day", 3)
    limiter = Limiter(engine, clock)
    key_a, key_b = key_of(engine, first), key_of(engine, second)

    assert limiter.check(key_a, [ERROR, ERROR]).dropped == []
    assert limiter.check(key_b, [ERROR]).dropped == []
    refused = limiter.check(key_b, [ERROR])

    assert refused.dropped == [0]
    assert [(limit.rule.scope, limit.rule.reason) for limit in refused.limits] == [
        ("organization", "org_quota")
    ]
    # The other project's next 200 carries the organization's limit too.
    assert [limit.rule.scope for limit in limiter.check(key_a, [Item("internal", 1)]).limits] == [
        "organization"
    ]


def test_a_minute_quota_lets_the_next_minute_through(engine: Engine, clock: ManualClock) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, project_id), "transaction", "minute", 2)
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)
    assert limiter.check(key, [TRANSACTION, TRANSACTION, TRANSACTION]).dropped == [2]
    clock.advance(30)  # START is 30 s into its minute
    assert limiter.check(key, [TRANSACTION]).dropped == []


def test_attachments_count_their_bytes(engine: Engine, clock: ManualClock) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, project_id), "attachment", "day", 1000)
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)
    assert limiter.check(
        key, [Item("attachment", 600), Item("attachment", 600), Item("attachment", 400)]
    ).dropped == [1]


def test_a_quota_set_later_applies_once_the_policy_is_read_again(engine: Engine, clock: ManualClock) -> None:
    organization_id, project_id = make_project(engine)
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)
    assert limiter.check(key, [ERROR, ERROR]).dropped == []
    set_quota(engine, (organization_id, project_id), "error", "month", 2)
    assert limiter.check(key, [ERROR]).dropped == []  # still the policy read 0 s ago
    clock.advance(POLICY_SECONDS)
    # The two errors counted before the quota existed count against it.
    assert limiter.check(key, [ERROR]).dropped == [0]


def test_a_removed_quota_is_no_longer_announced(engine: Engine, clock: ManualClock) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, project_id), "transaction", "month", 0)
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)
    assert limiter.check(key, [TRANSACTION]).limits
    with write_transaction(engine) as conn:
        (quota,) = quotas.project_quotas(conn, project_id)
        quotas.delete_quota(conn, quota.id)
    clock.advance(POLICY_SECONDS)
    assert limiter.check(key, [ERROR]).limits == []


# -------------------------------------------------------------------- partly over envelopes


def test_an_envelope_partly_over_keeps_its_other_items_and_names_the_limit(
    engine: Engine, clock: ManualClock
) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, None), "transaction", "month", 0)
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)
    body = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
        b'{"type":"transaction","length":12}\n{"spans":[]}\n'
        b'{"type":"event","length":16}\n{"message":"hi"}\n'
        b'{"type":"client_report"}\n{"discarded_events":[]}\n'
    )
    envelope = parse_envelope(body)

    verdict = limiter.check(key, envelope_items(envelope))

    assert verdict.dropped == [0]
    assert not verdict.refuses_all(3)
    header = dict(verdict.headers(refused=False))
    assert b"retry-after" not in header
    assert header[b"x-sentry-rate-limits"].decode().endswith(":transaction:organization:org_quota")
    kept = parse_envelope(envelope_without(envelope, verdict.dropped))
    assert kept.headers == {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}
    assert [(item.type, item.payload) for item in kept.items] == [
        ("event", b'{"message":"hi"}'),
        ("client_report", b'{"discarded_events":[]}'),
    ]


def test_limits_in_force_are_announced_on_later_answers_for_other_categories(
    engine: Engine, clock: ManualClock
) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, project_id), "transaction", "hour", 1)
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)
    limiter.check(key, [TRANSACTION, TRANSACTION])

    later = limiter.check(key, [ERROR])

    assert later.dropped == []
    assert (
        dict(later.headers(refused=False))[b"x-sentry-rate-limits"]
        == b"3570:transaction:project:project_quota"
    )
    clock.advance(3570)
    assert limiter.check(key, [ERROR]).limits == []


# ------------------------------------------------------------------------ spike protection


def test_spike_protection_limits_an_hour_to_its_floor_without_history(
    engine: Engine, clock: ManualClock
) -> None:
    _, project_id = make_project(engine)
    with write_transaction(engine) as conn:
        quotas.set_spike_protection(conn, project_id, quotas.SpikeProtection(True, floor=3, multiplier=10))
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)

    verdict = limiter.check(key, [ERROR] * 4)

    assert verdict.dropped == [3]
    assert [(limit.rule.scope, limit.rule.reason, limit.rule.limit) for limit in verdict.limits] == [
        ("project", "spike_protection", 3)
    ]


def test_spike_protections_limit_is_the_multiplier_times_last_weeks_hourly_average(
    engine: Engine, clock: ManualClock
) -> None:
    _, project_id = make_project(engine)
    hour = int(START // 3600) * 3600
    # 168 errors an hour over the last week: 10 × 168 = 1,680 > the 1,000 floor.
    history = {
        UsageKey("project", project_id, "error", "hour", hour - 3600 * (h + 1)): 168 for h in range(168)
    }
    with write_transaction(engine) as conn:
        quota_usage.add_usage(conn, history)
        assert quotas.hourly_baseline(conn, project_id, "error", hour) == 168
    key = key_of(engine, project_id)
    limiter = Limiter(engine, clock)

    assert limiter.check(key, [ERROR] * 1680).dropped == []
    assert limiter.check(key, [ERROR]).dropped == [0]
    assert limiter.check(key, [TRANSACTION] * 1000).dropped == []  # transactions: the floor
    assert limiter.check(key, [TRANSACTION]).dropped == [0]


def test_a_young_projects_baseline_is_averaged_over_its_own_hours_and_at_least_a_day(engine: Engine) -> None:
    _, project_id = make_project(engine)
    hour = int(START // 3600) * 3600
    with write_transaction(engine) as conn:
        # Two days old: 4,800 errors in its first hour, nothing since.
        quota_usage.add_usage(
            conn, {UsageKey("project", project_id, "error", "hour", hour - 48 * 3600): 4800}
        )
        assert quotas.hourly_baseline(conn, project_id, "error", hour) == 100  # 4,800 / 48 hours
        # An hour old: one hour of 4,800 is averaged over a day.
        assert quotas.hourly_baseline(conn, project_id, "error", hour - 47 * 3600) == 200
        assert quotas.hourly_baseline(conn, project_id, "transaction", hour) == 0


def test_what_spike_protection_dropped_raises_the_baseline_less_as_it_ages(engine: Engine) -> None:
    _, project_id = make_project(engine)
    hour = int(START // 3600) * 3600
    dropped = OutcomeKey(project_id, "error", Outcome.RATE_LIMITED, "spike_protection")
    quota_dropped = OutcomeKey(project_id, "error", Outcome.RATE_LIMITED, "project_quota")
    with write_transaction(engine) as conn:
        aggregates.add_outcomes(conn, hour // 3600 - 24, {dropped: 2400, quota_dropped: 10**6})
        # A day old, it weighs a tenth: 240 over the 24 hours since.
        assert quotas.hourly_baseline(conn, project_id, "error", hour) == pytest.approx(10)
        # An hour old: 10^(-1/24) of 2,400, over a day.
        assert quotas.hourly_baseline(conn, project_id, "error", hour - 23 * 3600) == pytest.approx(
            2400 * 0.1 ** (1 / 24) / 24
        )


def test_spike_protection_switched_off_limits_nothing(engine: Engine, clock: ManualClock) -> None:
    _, project_id = make_project(engine)
    with write_transaction(engine) as conn:
        quotas.set_spike_protection(conn, project_id, quotas.SpikeProtection(False, floor=1, multiplier=1))
    key = key_of(engine, project_id)
    assert Limiter(engine, clock).check(key, [ERROR] * 50).dropped == []


# ----------------------------------------------------------------- counts shared via the store


def test_two_processes_share_a_quota_through_the_store(engine: Engine, clock: ManualClock) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, project_id), "error", "day", 10)
    key = key_of(engine, project_id)
    first, second = Limiter(engine, clock), Limiter(engine, clock)

    assert first.check(key, [ERROR] * 6).dropped == []
    first.flush()
    # The second process reads the day's total on first use: 4 are left.
    assert second.check(key, [ERROR] * 5).dropped == [4]
    second.flush()
    first.flush()  # learns the other's count
    assert first.check(key, [ERROR]).dropped == [0]
    with engine.connect() as conn:
        start, _ = window_bounds("day", project_id, clock.now())
        counter = UsageKey("project", project_id, "error", "day", start)
        assert quota_usage.usage(conn, [counter]) == {counter: 10}


def test_a_restarted_process_continues_the_months_count(engine: Engine, clock: ManualClock) -> None:
    organization_id, project_id = make_project(engine)
    key = key_of(engine, project_id)
    before = Limiter(engine, clock)
    before.check(key, [ERROR] * 4)
    before.stop()  # a clean shutdown flushes
    set_quota(engine, (organization_id, None), "error", "month", 5)

    after = Limiter(engine, clock)

    assert after.check(key, [ERROR, ERROR]).dropped == [1]


def test_refused_items_become_rate_limited_outcomes_per_key_hour_and_category(
    engine: Engine, clock: ManualClock
) -> None:
    organization_id, project_id = make_project(engine)
    set_quota(engine, (organization_id, project_id), "transaction", "month", 0)
    key = key_of(engine, project_id, RateLimit(1, 3600))
    limiter = Limiter(engine, clock)
    limiter.check(key, [ERROR, ERROR, ERROR, TRANSACTION, Item("security", 1)])
    assert outcomes(engine) == {}

    limiter.flush()

    hour = str(int(START // 3600))
    assert outcomes(engine) == {
        ("error", "key_quota", hour, key.id): 2,
        ("security", "key_quota", hour, key.id): 1,
        ("transaction", "project_quota", hour, key.id): 1,
    }
    limiter.flush()  # nothing new: nothing added twice
    assert outcomes(engine)[("error", "key_quota", hour, key.id)] == 2


def test_old_windows_are_pruned(engine: Engine) -> None:
    now = START
    old = {
        UsageKey("project", 1, "error", "minute", now - 7200): 1,
        UsageKey("project", 1, "error", "hour", now - 9 * 86_400): 1,
        UsageKey("key", 1, "error", "60s", now - 3 * 86_400): 1,
    }
    kept = {
        UsageKey("project", 1, "error", "hour", now - 86_400): 1,
        UsageKey("project", 1, "error", "month", now - 86_400 * 31): 1,
    }
    with write_transaction(engine) as conn:
        quota_usage.add_usage(conn, {**old, **kept})
        assert quota_usage.prune(conn, now) == 3
        assert quota_usage.usage(conn, [*old, *kept]) == kept


def test_the_plan_preset_is_5000_errors_and_10000_transactions_a_month(engine: Engine) -> None:
    organization_id, _ = make_project(engine)
    with write_transaction(engine) as conn:
        quotas.apply_plan_preset(conn, organization_id)
        quotas.apply_plan_preset(conn, organization_id)  # twice: the same two quotas
        found = quotas.organization_quotas(conn, organization_id)
    assert [(q.category, q.window, q.limit, q.scope) for q in found] == [
        ("error", "month", 5000, "organization"),
        ("transaction", "month", 10_000, "organization"),
    ]


def test_the_month_of_the_last_second_of_a_year() -> None:
    moment = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    start, end = window_bounds("month", 1, moment)
    assert datetime.fromtimestamp(end, UTC) == datetime(2027, 1, 1, tzinfo=UTC)
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 12, 1, tzinfo=UTC)
