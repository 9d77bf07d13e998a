"""The quota advisor's arithmetic, as tables: UTC month bounds, the projected run-out day at the
month's pace (at least a day counted), the month-end total when the quota lasts, a used-up quota,
the free plan assumed without a quota row, the top issues' share of the month's errors, and the
suggestions (error types of the top issues with the share a filter would save, expected noise
first, types already filtered left out; health checks when transactions arrive and none is
filtered)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shoal import quota_advisor
from shoal.quota_advisor import advise, month_bounds, ordinal, percent, project_quota
from shoal.store.budget import BudgetReadings, IssueVolume, MonthlyQuota, TransactionVolume


def at(day: int, hour: int = 0, month: int = 11, year: int = 2026) -> float:
    return datetime(year, month, day, hour, tzinfo=UTC).timestamp()


NO_TRANSACTIONS = TransactionVolume(0, 0, 0)
SHOP = 7  # the project id of every issue here


def readings(  # noqa: PLR0917 (a test's table of defaults)
    accepted: dict[str, int] | None = None,
    quotas: dict[str, int] | None = None,
    issues: list[IssueVolume] | None = None,
    transactions: TransactionVolume = NO_TRANSACTIONS,
    error_type_patterns: frozenset[str] = frozenset(),
    health_check_off: tuple[int, ...] = (SHOP,),
) -> BudgetReadings:
    """The project's own quotas, `limit` each, used by what it accepted."""
    accepted = accepted or {}
    own = {
        c: MonthlyQuota(limit, accepted.get(c, 0), organization_wide=False)
        for c, limit in (quotas or {}).items()
    }
    return BudgetReadings(accepted, own, issues or [], transactions, error_type_patterns, health_check_off)


def issue(n: int, kind: str, events: int) -> IssueVolume:
    return IssueVolume(n, SHOP, f"SHOP-{n}", f"{kind}: boom", kind, events)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (at(15, 12), at(1), at(1, month=12)),
        (at(31, 23, month=12), at(1, month=12), at(1, month=1, year=2027)),
        (at(1, 0, month=2), at(1, month=2), at(1, month=3)),
    ],
)
def test_a_month_is_a_utc_calendar_month(now: float, start: float, end: float) -> None:
    assert month_bounds(now) == (start, end)


@pytest.mark.parametrize(
    ("used", "limit", "now", "runs_out_day", "text"),
    [
        # 10 days in, 2,700 used: 270 a day, 2,300 left → 8.5 more days → the 19th.
        (
            2_700,
            5_000,
            at(11),
            19,
            "At this month's rate (270 errors a day), the error quota (5,000 a month) runs out on the 19th.",
        ),
        # The quota runs out later today.
        (
            4_990,
            5_000,
            at(11),
            11,
            "At this month's rate (499 errors a day), the error quota (5,000 a month) runs out today.",
        ),
        # Half a day in: counted as a whole day, so 100 errors are 100 a day, not 200.
        (100, 5_000, at(1, 12), None, None),
    ],
)
def test_the_run_out_day_at_the_month_s_pace(
    used: int, limit: int, now: float, runs_out_day: int | None, text: str | None
) -> None:
    p = project_quota("error", used, limit, False, now)
    if runs_out_day is None:
        assert p.runs_out_at is None
        assert p.daily_rate == pytest.approx(100)
    else:
        assert p.runs_out_at is not None
        assert datetime.fromtimestamp(p.runs_out_at, UTC).day == runs_out_day
        assert p.text == text


def test_a_quota_that_lasts_the_month_says_how_much_of_it_will_be_used() -> None:
    p = project_quota("error", 1_000, 5_000, False, at(11))  # 100 a day for 30 days
    assert p.runs_out_at is None
    assert p.month_end_total == 3_000
    assert p.text == (
        "At this month's rate (100 errors a day), the error quota (5,000 a month) lasts the month: "
        "about 3,000 of 5,000 by its end (60 %)."
    )


def test_a_used_up_quota_says_so() -> None:
    p = project_quota("transaction", 10_400, 10_000, False, at(20))
    assert p.used_up and p.runs_out_at is None
    assert (
        p.text
        == "The transaction quota (10,000 a month) is used up: 10,400 transactions accepted this month."
    )


def test_without_a_quota_row_the_free_plan_is_assumed_and_said() -> None:
    advice = advise(readings(accepted={"error": 2_700, "transaction": 300}), at(11))
    error, transaction = advice.projections
    assert (error.category, error.limit, error.free_plan) == ("error", 5_000, True)
    assert error.text == (
        "No error quota is set: with the free plan's quota (5,000 errors a month), at this month's rate "
        "(270 errors a day), it would run out on the 19th."
    )
    assert (transaction.limit, transaction.runs_out_at) == (10_000, None)
    assert "would last the month: about 900 of 10,000" in transaction.text


def test_a_quota_row_wins_over_the_free_plan_and_other_categories_need_a_row() -> None:
    advice = advise(
        readings(
            accepted={"error": 10, "attachment": 5_000, "session": 3},
            quotas={"error": 100, "attachment": 10_000},
        ),
        at(11),
    )
    assert [(p.category, p.limit, p.free_plan) for p in advice.projections] == [
        ("error", 100, False),
        ("attachment", 10_000, False),
    ]


def test_the_organization_s_quota_counts_all_of_its_projects() -> None:
    quotas = {"error": MonthlyQuota(5_000, 2_700, organization_wide=True)}
    advice = advise(BudgetReadings({"error": 300}, quotas, [], NO_TRANSACTIONS, frozenset(), ()), at(11))
    (error,) = advice.projections
    assert (error.used, error.organization_wide) == (2_700, True)
    assert error.text == (
        "At this month's rate (270 errors a day), the organization's error quota (5,000 a month) "
        "runs out on the 19th."
    )


@pytest.mark.parametrize(
    ("accepted", "issues", "worth"),
    [
        ({"error": 2_700}, [], True),  # runs out on the 19th
        ({"error": 100}, [], False),  # lasts the month: nothing to act on
        ({"error": 100}, [issue(1, "KeyError", 100)], True),  # a filter to suggest
    ],
)
def test_an_email_is_worth_sending_for_a_suggestion_or_a_quota_at_risk(
    accepted: dict[str, int], issues: list[IssueVolume], worth: bool
) -> None:
    advice = advise(readings(accepted=accepted, issues=issues, health_check_off=()), at(11))
    assert advice.worth_an_email == worth


def test_categories_without_items_this_month_are_left_out() -> None:
    assert advise(readings(quotas={"error": 100}), at(11)).projections == []


@pytest.mark.parametrize(
    ("events", "accepted", "text", "share"),
    [
        ([400, 150, 70, 10], 1_000, "These 3 issues are 62 % of this month's errors.", 0.62),
        ([50], 200, "This issue is 25 % of this month's errors.", 0.25),
        # The per-issue counts say more than the outcome counters: the larger is the whole.
        ([80, 40], 100, "These 2 issues are 100 % of this month's errors.", 1.0),
    ],
)
def test_the_top_issues_share_of_the_month(events: list[int], accepted: int, text: str, share: float) -> None:
    top = quota_advisor.top_issues([issue(i, "KeyError", n) for i, n in enumerate(events, 1)], accepted)
    assert top is not None
    assert top.text == text
    assert top.share == pytest.approx(share)


def test_no_issue_this_month_means_no_top_issues() -> None:
    assert quota_advisor.top_issues([], 100) is None


def test_the_top_issues_error_types_are_suggested_with_the_share_a_filter_saves() -> None:
    issues = [
        issue(1, "KeyError", 300),
        issue(2, "ConnectionResetError", 250),
        issue(3, "KeyError", 100),
        issue(4, "ConnectionResetError", 160),  # not a top issue, but a filter on its type drops it too
        issue(5, "ZeroDivisionError", 190),
    ]
    suggestions = quota_advisor.error_type_suggestions(issues, 1_000, frozenset())
    # Expected noise first, then by share; each type once; every issue of a type counts.
    assert [(s.subject, round(s.saves or 0, 2)) for s in suggestions] == [
        ("ConnectionResetError", 0.41),
        ("KeyError", 0.4),
    ]
    assert suggestions[0].text == "ignore `ConnectionResetError` (filter preview: −41 %)"


def test_a_type_a_filter_already_names_is_not_suggested_again() -> None:
    issues = [issue(1, "BrokenPipeError", 300), issue(2, "", 200)]  # a message event has no type
    assert quota_advisor.error_type_suggestions(issues, 500, frozenset({"brokenpipe*"})) == []


def test_a_type_saving_less_than_one_percent_is_not_worth_a_filter() -> None:
    assert quota_advisor.error_type_suggestions([issue(1, "KeyError", 5)], 1_000, frozenset()) == []


SOME = TransactionVolume(received=1_234, accepted=0, health_checks_filtered=0)


@pytest.mark.parametrize(
    ("transactions", "filter_on", "suggested"),
    [
        (SOME, False, True),
        # On, and nothing found by name or URL: there are no health checks to drop.
        (SOME, True, False),
        (TransactionVolume(received=1_234, accepted=1_000, health_checks_filtered=234), False, False),
        (NO_TRANSACTIONS, False, False),
    ],
)
def test_health_checks_are_suggested_when_transactions_arrive_and_the_filter_is_off(
    transactions: TransactionVolume, filter_on: bool, suggested: bool
) -> None:
    found = quota_advisor.health_check_suggestions(transactions, () if filter_on else (SHOP,))
    assert bool(found) == suggested
    if found:
        assert found[0].project_id == SHOP
        assert found[0].text == (
            "sample `/health` transactions (1,234 transactions this month and the health-check filter "
            "is off: turn it on)"
        )


def test_the_advice_reads_as_the_issue_asks() -> None:
    advice = advise(
        readings(
            accepted={"error": 2_700},
            quotas={"error": 5_000},
            issues=[
                issue(1, "ConnectionResetError", 1_107),
                issue(2, "KeyError", 400),
                issue(3, "KeyError", 167),
            ],
            transactions=TransactionVolume(500, 0, 0),
        ),
        at(11),
    )
    assert advice.month == "November 2026"
    assert advice.lines() == [
        "These 3 issues are 62 % of this month's errors.",
        "At this month's rate (270 errors a day), the error quota (5,000 a month) runs out on the 19th.",
        "Suggested: ignore `ConnectionResetError` (filter preview: −41 %); "
        "ignore `KeyError` (filter preview: −21 %); "
        "sample `/health` transactions (500 transactions this month and the health-check filter is off: "
        "turn it on).",
    ]


def test_an_empty_month_has_nothing_to_say() -> None:
    assert advise(readings(), at(11)).empty


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (31, "31st"),
    ],
)
def test_ordinal_days(day: int, words: str) -> None:
    assert ordinal(day) == words


@pytest.mark.parametrize(
    ("share", "text"), [(0.62, "62 %"), (0.004, "<1 %"), (0.996, ">99 %"), (1.0, "100 %"), (0.0, "0 %")]
)
def test_percentages_never_round_to_a_misleading_zero_or_hundred(share: float, text: str) -> None:
    assert percent(share) == text
