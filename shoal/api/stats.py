"""Outcome counts as Sentry's API serves them: `GET /api/0/organizations/{org}/stats_v2/`.

Sentry's parameters, as far as the hourly outcome counters (shoal/store/outcome_stats.py) can
answer them: `field=sum(quantity)` and/or `field=sum(times_seen)` (one is required; attachments
count bytes in `sum(quantity)`, everything else items). Sentry documents `sum(times_seen)` as equal
to `sum(quantity)` for every category but attachments (their number, not their bytes) and
sessions; Shoal keeps one number per counter, so it answers `sum(times_seen)` with the items and
leaves attachments out of such a query (asking for them explicitly is a 400);
`groupBy` any of `outcome`, `category`, `reason`, `project`, `key_id`; the filters `category`,
`outcome`, `reason`, `project` (ids; `-1` or none: every project the token may see) and `key_id`;
`statsPeriod` (`<number><unit>`, units s, m, h, d, w; default 14d) or `start` and `end` (ISO 8601;
`end` inclusive); `interval` (default 1h: a whole number of hours that divides a day, as Sentry
asks, since the counters are hourly). As Sentry does, the range is widened to whole intervals,
a query must group or filter by category, `error` also counts `default` and `security`, and
attachments cannot be mixed with other categories.

The answer is Sentry's: `{"start", "end", "intervals": [...], "groups": [{"by": {...},
"totals": {"sum(quantity)": n}, "series": {"sum(quantity)": [...]}}]}`, with Sentry's outcome
and category names. Unlike Sentry, grouping by project keeps the series. A personal token of a
plain member counts only the projects their teams allow, as in the UI; an organization token
counts the whole organization. Reads need a scope among `org:read`, `org:write`, `org:admin`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth
from shoal.api.errors import FORBIDDEN, ApiError, bad_request, not_found
from shoal.api.json_io import json_response
from shoal.api.organizations import READ_ORGS
from shoal.api.paths import ORGANIZATION
from shoal.clock import iso_utc
from shoal.outcomes import Category
from shoal.store import outcome_stats, teams, tokens, users
from shoal.store.outcome_stats import GroupKey, OutcomeFilter
from shoal.store.tokens import TokenOwner
from shoal.store.url_projects import row_id

FIELD = "sum(quantity)"
TIMES_SEEN = "sum(times_seen)"
FIELDS = (FIELD, TIMES_SEEN)
# Sentry's groupBy names → the store's dimensions.
GROUP_BY = {
    "outcome": "outcome",
    "category": "category",
    "reason": "reason",
    "project": "project",
    "key_id": "key",
}
# Sentry's outcome names; Shoal records the first five (abuse and cardinality_limited never occur).
OUTCOMES = (
    "accepted",
    "filtered",
    "rate_limited",
    "invalid",
    "abuse",
    "client_discard",
    "cardinality_limited",
)
CATEGORIES = frozenset(c.value for c in Category)
HOUR = 3600
DAY = 86400
MAX_POINTS = 1000  # Sentry's limit of points in a series
# Sentry defaults to 90 days, which at its default interval (1h) is more points than it allows:
# a request without a range would always be refused. 14 days fit.
DEFAULT_PERIOD = "14d"
_DURATION = re.compile(r"([0-9]{1,9})([smhdw]?)")  # Sentry's <number><unit>; no unit: seconds
_UNITS = {"": 1, "s": 1, "m": 60, "h": HOUR, "d": DAY, "w": 7 * DAY}
_LATEST = datetime(9000, 1, 1, tzinfo=UTC).timestamp()  # a range must end before this


class StatsInvalid(ValueError):
    """A parameter Sentry would refuse, with its words."""


@dataclass(frozen=True)
class StatsQuery:
    fields: tuple[str, ...]  # FIELDS, in the order asked
    group_by: tuple[str, ...]  # Sentry's names, in the order asked
    categories: tuple[str, ...]  # stored names
    outcomes: tuple[str, ...]
    reasons: tuple[str, ...]
    key_ids: tuple[int, ...]
    project_ids: tuple[int, ...] | None  # None: every project the token may see
    start: int  # unix seconds, on an interval boundary
    end: int  # exclusive, on an interval boundary
    interval: int  # seconds


async def stats_v2(request: Request) -> Response:
    return await run_in_threadpool(_stats, request)


def _stats(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        organization_id = tokens.reachable_organization(conn, owner, request.path_params["org_slug"])
        if organization_id is None:
            raise not_found()
        auth.require_scope(owner, READ_ORGS)
        try:
            query = parse_query(request.query_params, auth.clock_of(request).now())
        except StatsInvalid as exc:
            raise bad_request(str(exc)) from exc
        visible = visible_projects(conn, owner, organization_id)
        return json_response(answer(conn, query, _chosen(query, visible)))


def visible_projects(conn: Connection, owner: TokenOwner, organization_id: int) -> list[int]:
    """The organization's projects the token may count: all of them for an organization token, a
    superuser, an owner or an admin; for a plain member, those their teams allow."""
    found = outcome_stats.organization_project_ids(conn, organization_id)
    if owner.organization_id is not None or owner.is_superuser:
        return found
    if users.role_of(conn, organization_id, owner.user_id) in teams.MANAGER_ROLES:
        return found
    hidden = teams.hidden_project_ids(conn, owner.user_id, [organization_id])
    return [project_id for project_id in found if project_id not in hidden]


def _chosen(query: StatsQuery, visible: Sequence[int]) -> tuple[int, ...]:
    if query.project_ids is None:
        return tuple(visible)
    # Sentry refuses a project the caller may not see, or that is not the organization's.
    if not set(query.project_ids) <= set(visible):
        raise ApiError(403, {"detail": FORBIDDEN})
    return query.project_ids


def answer(conn: Connection, query: StatsQuery, project_ids: tuple[int, ...]) -> dict[str, Any]:
    where = OutcomeFilter(
        project_ids,
        query.start // HOUR,
        query.end // HOUR,
        query.categories,
        query.outcomes,
        query.reasons,
        query.key_ids,
    )
    dimensions = [GROUP_BY[name] for name in query.group_by]
    step = query.interval // HOUR
    totals = _merged(outcome_stats.totals(conn, where, dimensions), query.group_by)
    series = _merged_series(outcome_stats.bucketed(conn, where, dimensions, step), query.group_by)
    hours = range(query.start // HOUR, query.end // HOUR, step)
    # Both fields are the same number per counter (see the module's docstring).
    groups = [
        {
            "by": dict(zip(query.group_by, key, strict=True)),
            "totals": dict.fromkeys(query.fields, total),
            "series": {name: [series.get(key, {}).get(hour, 0) for hour in hours] for name in query.fields},
        }
        for key, total in sorted(totals.items(), key=lambda item: tuple(str(v) for v in item[0]))
    ]
    return {
        "start": iso_utc(query.start),
        "end": iso_utc(query.end),
        "intervals": [iso_utc(hour * HOUR) for hour in hours],
        "groups": groups,
    }


def _api_key(key: GroupKey, group_by: Sequence[str]) -> GroupKey:
    return tuple(
        outcome_stats.api_category(str(value)) if name == "category" else value
        for name, value in zip(group_by, key, strict=True)
    )


def _merged(totals: dict[GroupKey, int], group_by: Sequence[str]) -> dict[GroupKey, int]:
    """Totals with the stored categories that Sentry counts as one added together."""
    merged: dict[GroupKey, int] = {}
    for key, quantity in totals.items():
        api_key = _api_key(key, group_by)
        merged[api_key] = merged.get(api_key, 0) + quantity
    return merged


def _merged_series(
    series: dict[GroupKey, dict[int, int]], group_by: Sequence[str]
) -> dict[GroupKey, dict[int, int]]:
    merged: dict[GroupKey, dict[int, int]] = {}
    for key, buckets in series.items():
        into = merged.setdefault(_api_key(key, group_by), {})
        for hour, quantity in buckets.items():
            into[hour] = into.get(hour, 0) + quantity
    return merged


# ----------------------------------------------------------------------------- parameters


def parse_query(params: QueryParams, now: float) -> StatsQuery:
    """The query the parameters ask for, checked as Sentry checks them; raises StatsInvalid."""
    fields = _fields(params.getlist("field"))
    group_by = _group_by(params.getlist("groupBy"))
    categories = _categories(params.getlist("category"))
    if not categories and "category" not in group_by:
        raise StatsInvalid("Query must have category as groupby or filter")
    if TIMES_SEEN in fields:
        categories = _counted_in_items(categories)
    outcomes = _outcomes(params.getlist("outcome"))
    key_ids = _whole_numbers(params.getlist("key_id"), "key")
    project_ids = _projects(params.getlist("project"))
    interval = _interval(params.get("interval") or "1h")
    start, end = _range(params, now, interval)
    return StatsQuery(
        fields=fields,
        group_by=group_by,
        categories=categories,
        outcomes=outcomes,
        reasons=tuple(dict.fromkeys(params.getlist("reason"))),
        key_ids=key_ids,
        project_ids=project_ids,
        start=start,
        end=end,
        interval=interval,
    )


def _fields(names: list[str]) -> tuple[str, ...]:
    if not names:
        raise StatsInvalid('At least one "field" is required.')
    for name in names:
        if name not in FIELDS:
            raise StatsInvalid(f'Invalid field: "{name}"')
    return tuple(dict.fromkeys(names))


def _counted_in_items(categories: tuple[str, ...]) -> tuple[str, ...]:
    """The categories a `sum(times_seen)` query reads: attachments' counters hold bytes, not how
    many attachments there were, so they cannot answer it."""
    if "attachment" in categories:
        raise StatsInvalid(
            "sum(times_seen) is not recorded for attachments: Shoal counts their bytes, sum(quantity)"
        )
    return categories or tuple(sorted(CATEGORIES - {"attachment"}))


def _group_by(names: list[str]) -> tuple[str, ...]:
    for name in names:
        if name not in GROUP_BY:
            raise StatsInvalid(f'Invalid groupBy: "{name}"')
    return tuple(dict.fromkeys(names))


def _categories(names: list[str]) -> tuple[str, ...]:
    stored: list[str] = []
    for name in dict.fromkeys(names):
        if name not in CATEGORIES:
            raise StatsInvalid(f'Invalid category: "{name}"')
        stored += outcome_stats.stored_categories(name)
    if "attachment" in stored and len(stored) > 1:
        raise StatsInvalid("if filtering by attachment no other category may be present")
    return tuple(stored)


def _outcomes(names: list[str]) -> tuple[str, ...]:
    for name in names:
        if name not in OUTCOMES:
            raise StatsInvalid(f'Invalid outcome: "{name}"')
    return tuple(dict.fromkeys(names))


def _whole_numbers(values: list[str], what: str) -> tuple[int, ...]:
    found = []
    for value in values:
        number = row_id(value.strip())
        if number is None:
            raise StatsInvalid(f'Invalid {what}: "{value}"')
        found.append(number)
    return tuple(dict.fromkeys(found))


def _projects(values: list[str]) -> tuple[int, ...] | None:
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not parts or "-1" in parts:
        return None
    try:
        return _whole_numbers(parts, "project")
    except StatsInvalid:
        raise StatsInvalid("Invalid project parameter. Values must be numbers.") from None


def _interval(text: str) -> int:
    seconds = _seconds(text, "interval")
    if seconds < HOUR or seconds % HOUR:
        raise StatsInvalid("The interval has to be a multiple of the minimum interval of one hour.")
    if seconds > DAY:
        raise StatsInvalid("The interval has to be less than one day.")
    if DAY % seconds:
        raise StatsInvalid("The interval should divide one day without a remainder.")
    return seconds


def _seconds(text: str, name: str) -> int:
    found = _DURATION.fullmatch(text.strip())
    if found is None or int(found[1]) == 0:
        raise StatsInvalid(f"Invalid {name}: {text!r}")
    return int(found[1]) * _UNITS[found[2]]


def _range(params: QueryParams, now: float, interval: int) -> tuple[int, int]:
    """[start, end) widened to whole intervals, as Sentry widens it."""
    if params.get("start") or params.get("end"):
        start, end = _explicit_range(params.get("start"), params.get("end"))
    else:
        period = _seconds(params.get("statsPeriod") or DEFAULT_PERIOD, "statsPeriod")
        start, end = now - period, now
    start = min(start, now)
    first = int(start // interval) * interval
    last = -int(-end // interval) * interval
    if (last - first) // interval > MAX_POINTS:
        raise StatsInvalid(
            "Your interval and date range would create too many results. "
            "Use a larger interval, or a smaller date range."
        )
    return first, max(last, first + interval)


def _explicit_range(start_text: str | None, end_text: str | None) -> tuple[float, float]:
    if not start_text or not end_text:
        raise StatsInvalid("start and end are both required")
    start, end = _moment(start_text, "start"), _moment(end_text, "end") + 1  # Sentry: end is inclusive
    if start >= end:
        raise StatsInvalid("start must be before end")
    return start, end


def _moment(text: str, name: str) -> float:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise StatsInvalid(f"{name}: {text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        seconds = moment.timestamp()
    except (OverflowError, OSError, ValueError):
        seconds = -1.0
    if not 0 <= seconds < _LATEST:
        raise StatsInvalid(f"{name}: {text!r} is out of range")
    return seconds


ROUTES = [Route(ORGANIZATION + "/stats_v2/", stats_v2)]
