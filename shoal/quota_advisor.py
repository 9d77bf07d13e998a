"""The quota advisor: where this month's volume goes and what to do about it, as numbers and
sentences — "these 3 issues are 62 % of this month's errors; at this rate the error quota runs out
on the 19th; suggested: ignore `ConnectionResetError` (filter preview: −41 %), sample `/health`
transactions".

Pure functions over `BudgetReadings` (shoal/store/budget.py) and a moment; the Stats page and the
weekly email (shoal/advisor_email.py) show what they return. Months are UTC calendar months, as the
outcome counters' hours are UTC.

The projection is the month's pace so far: accepted items ÷ time elapsed in the month, counting at
least one day so that a month's first hours do not extrapolate wildly, carried forward to the
month's end. Without a monthly quota row the chapter's free plan (5,000 errors and 10,000
transactions a month, ../shared/reference/seed-chapter.txt) is assumed, and the text says so.
docs/stats.md explains the arithmetic to users.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from shoal.digest.filters.globs import any_match
from shoal.store.budget import BudgetReadings, IssueVolume, MonthlyQuota, TransactionVolume

DAY = 86400.0
TOP_ISSUES = 3
# The chapter's plan: the quota used when no monthly quota row exists.
FREE_PLAN = {"error": 5_000, "transaction": 10_000}
# Error types that are usually expected behaviour (clients hanging up, not-found pages), so the
# advisor names them first: the chapter's own list of noise, and the filter presets.
EXPECTED_NOISE = frozenset(
    {
        "ConnectionResetError",
        "BrokenPipeError",
        "ConnectionAbortedError",
        "ClientDisconnect",
        "ClientDisconnected",
        "CancelledError",
        "Http404",
        "NotFound",
        "HTTPException",
    }
)
MIN_SHARE = 0.01  # a suggestion that saves less than 1 % of the month's errors is not worth a filter
_NOUNS = {"error": ("error", "errors"), "transaction": ("transaction", "transactions")}


@dataclass(frozen=True)
class TopIssues:
    issues: list[IssueVolume]
    events: int
    share: float  # of the month's accepted errors, 0…1
    text: str


@dataclass(frozen=True)
class Projection:
    category: str  # "error", "transaction", …
    used: int  # accepted this month
    limit: int
    free_plan: bool  # no quota row: the chapter's plan is assumed
    organization_wide: bool  # the organization's quota: `used` counts all of its projects
    daily_rate: float
    runs_out_at: float | None  # when the quota is used up at this pace, if within the month
    month_end_total: int  # what the month will have accepted at this pace
    text: str

    @property
    def used_up(self) -> bool:
        return self.used >= self.limit

    @property
    def at_risk(self) -> bool:
        """Used up, or running out before the month ends."""
        return self.used_up or self.runs_out_at is not None


@dataclass(frozen=True)
class Suggestion:
    kind: str  # ignore-error-type | sample-health-checks
    subject: str  # the error type, or the transactions
    saves: float | None  # share of the month's errors a filter would have dropped, when known
    text: str
    project_id: int  # whose inbound filters page makes the change


@dataclass(frozen=True)
class Advice:
    month: str  # "November 2026"
    top: TopIssues | None
    projections: list[Projection]
    suggestions: list[Suggestion]

    def lines(self) -> list[str]:
        """The advice as plain sentences, in the order the page shows them."""
        found = [self.top.text] if self.top else []
        found += [p.text for p in self.projections]
        if self.suggestions:
            found.append("Suggested: " + "; ".join(s.text for s in self.suggestions) + ".")
        return found

    @property
    def empty(self) -> bool:
        return not (self.top or self.projections or self.suggestions)

    @property
    def worth_an_email(self) -> bool:
        """Something to do or to know in time: a suggestion, or a quota used up or running out
        this month. Top issues and a quota that lasts are shown, but alone mail nobody."""
        return bool(self.suggestions) or any(p.at_risk for p in self.projections)


def advise(readings: BudgetReadings, now: float) -> Advice:
    start, _ = month_bounds(now)
    errors = readings.accepted.get("error", 0)
    return Advice(
        month=datetime.fromtimestamp(start, UTC).strftime("%B %Y"),
        top=top_issues(readings.issues, errors),
        projections=projections(readings.accepted, readings.quotas, now),
        suggestions=[
            *error_type_suggestions(readings.issues, errors, readings.error_type_patterns),
            *health_check_suggestions(readings.transactions, readings.health_check_off),
        ],
    )


# ----------------------------------------------------------------------------------- months


def month_bounds(now: float) -> tuple[float, float]:
    """The start of the UTC month holding `now`, and the start of the next."""
    moment = datetime.fromtimestamp(now, UTC)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    following = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
    return start.timestamp(), following.timestamp()


def month_hours(now: float) -> tuple[int, int]:
    """The month's hour buckets (unix seconds // 3600): the first, and the first after it."""
    start, end = month_bounds(now)
    return int(start // 3600), int(end // 3600)


# ------------------------------------------------------------------------------- top issues


def top_issues(issues: Sequence[IssueVolume], accepted_errors: int) -> TopIssues | None:
    """The issues with the most events this month and their share of the month's errors."""
    top = [found for found in issues[:TOP_ISSUES] if found.events > 0]
    if not top:
        return None
    events = sum(found.events for found in top)
    # Per-issue counts and outcome counters are written apart; never claim more than everything.
    total = max(accepted_errors, sum(found.events for found in issues))
    share = events / total
    subject = "This issue is" if len(top) == 1 else f"These {len(top)} issues are"
    return TopIssues(top, events, share, f"{subject} {percent(share)} of this month's errors.")


# ------------------------------------------------------------------------------ projections


def projections(
    accepted: Mapping[str, int], quotas: Mapping[str, MonthlyQuota], now: float
) -> list[Projection]:
    """One projection per category with items accepted this month and a quota (or a free plan's)."""
    found = []
    for category in sorted({*quotas, *FREE_PLAN}, key=_category_order):
        if accepted.get(category, 0) <= 0:
            continue
        quota = quotas.get(category)
        if quota is None:
            found.append(project_quota(category, accepted[category], FREE_PLAN[category], True, now))
        elif quota.limit > 0:
            found.append(
                project_quota(category, quota.used, quota.limit, False, now, quota.organization_wide)
            )
    return found


def _category_order(category: str) -> tuple[int, str]:
    return (0 if category in FREE_PLAN else 1, category)


def project_quota(  # noqa: PLR0917 (the projection's inputs, each named at the call)
    category: str,
    used: int,
    limit: int,
    free_plan: bool,
    now: float,
    organization_wide: bool = False,
) -> Projection:
    start, end = month_bounds(now)
    per_second = used / max(now - start, DAY)
    runs_out = now + (limit - used) / per_second if per_second > 0 and used < limit else None
    if runs_out is not None and runs_out >= end:
        runs_out = None
    month_end_total = round(used + per_second * (end - now))
    projection = Projection(
        category, used, limit, free_plan, organization_wide, per_second * DAY, runs_out, month_end_total, ""
    )
    return replace(projection, text=projection_text(projection, now))


def projection_text(p: Projection, now: float) -> str:
    """ "At this month's rate (312 errors a day), the error quota (5,000 a month) runs out on the
    19th." and its variants: lasting the month, used up, and the same against the free plan."""
    one, many = _NOUNS.get(p.category, (f"{p.category} item", f"{p.category} items"))
    pace = f"at this month's rate ({_rate(p.daily_rate)} {many} a day)"
    if p.free_plan:
        unset = f"No {one} quota is set: "
        if p.used_up:
            plan = f"the free plan's quota ({p.limit:,} {many} a month)"
            return f"{unset}{plan} would be used up: {p.used:,} {many} accepted this month."
        opening, runs, lasts = (
            f"{unset}with the free plan's quota ({p.limit:,} {many} a month), {pace}, it",
            "would run out",
            "would last",
        )
    else:
        quota = f"the organization's {one} quota" if p.organization_wide else f"the {one} quota"
        if p.used_up:
            used = f"{p.used:,} {many} accepted this month"
            return f"{_capital(quota)} ({p.limit:,} a month) is used up: {used}."
        opening, runs, lasts = f"{_capital(pace)}, {quota} ({p.limit:,} a month)", "runs out", "lasts"
    if p.runs_out_at is not None:
        return f"{opening} {runs} {_day_words(p.runs_out_at, now)}."
    share = percent(p.month_end_total / p.limit)
    return f"{opening} {lasts} the month: about {p.month_end_total:,} of {p.limit:,} by its end ({share})."


def _day_words(moment: float, now: float) -> str:
    day = datetime.fromtimestamp(moment, UTC)
    if day.date() == datetime.fromtimestamp(now, UTC).date():
        return "today"
    return f"on the {ordinal(day.day)}"


def _rate(per_day: float) -> str:
    return f"{per_day:,.1f}".removesuffix(".0") if per_day < 10 else f"{round(per_day):,}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------ suggestions


def error_type_suggestions(
    issues: Sequence[IssueVolume], accepted_errors: int, filtered_patterns: frozenset[str]
) -> list[Suggestion]:
    """An error-type filter for each type among the top issues that no error-type filter drops
    yet, with the share of the month's errors it would have dropped (every issue of that type
    counts); expected noise first."""
    total = max(accepted_errors, sum(found.events for found in issues))
    if total <= 0:
        return []
    per_type: dict[str, int] = {}
    for found in issues:
        if found.error_type:
            per_type[found.error_type] = per_type.get(found.error_type, 0) + found.events
    candidates: dict[str, tuple[float, int]] = {}  # type → (share, project of its top issue)
    for found in issues[:TOP_ISSUES]:
        kind = found.error_type
        if not kind or kind in candidates or any_match([kind], filtered_patterns):
            continue
        share = per_type[kind] / total
        if share >= MIN_SHARE:
            candidates[kind] = (share, found.project_id)
    ordered = sorted(candidates.items(), key=lambda item: (item[0] not in EXPECTED_NOISE, -item[1][0]))
    return [
        Suggestion(
            "ignore-error-type",
            kind,
            share,
            f"ignore `{kind}` (filter preview: −{percent(share)})",
            project_id,
        )
        for kind, (share, project_id) in ordered
    ]


def health_check_suggestions(
    transactions: TransactionVolume, unfiltered_projects: Sequence[int]
) -> list[Suggestion]:
    """Transactions arrive at projects whose health-check filter is off: health checks are usually
    most of a web service's transactions (the chapter drops `/health` in
    `before_send_transaction`). Where the filter is on and dropped nothing, there are none to find
    (it reads the name and the URL)."""
    if transactions.received <= 0 or transactions.health_checks_filtered > 0 or not unfiltered_projects:
        return []
    return [
        Suggestion(
            "sample-health-checks",
            "transactions",
            None,
            f"sample `/health` transactions ({transactions.received:,} transactions this month and the "
            "health-check filter is off: turn it on)",
            unfiltered_projects[0],
        )
    ]


# ------------------------------------------------------------------------------- formatting


def percent(share: float) -> str:
    """0.62 → "62 %"; never a misleading "0 %" for something, nor "100 %" for less than all."""
    exact = share * 100
    if 0 < exact < 1:
        return "<1 %"
    if 99 < exact < 100:
        return ">99 %"
    return f"{round(exact)} %"


def ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"
