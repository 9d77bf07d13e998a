"""The Stats page: what became of everything the SDKs sent — accepted, filtered, rate limited,
invalid, client-discarded — as a stacked chart per hour or day (24 hours, 14 days, 90 days), a
table per outcome and reason and one per client key, for one category at a time; and the quota
advisor's advice (shoal/quota_advisor.py) with links to the issues and the inbound filters.

`/organizations/{id}/stats/` counts every project of the organization the viewer may see, or the
one `?project=` chooses; `/projects/{id}/stats/` is the same page for one project, with the
opt-out of the advisor's weekly email (shoal/advisor_email.py) for owners and admins. `/stats/`
leads to the viewer's first organization. docs/stats.md describes it all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.clock import SYSTEM_CLOCK
from shoal.quota_advisor import Advice, advise, month_hours
from shoal.store import advisor_emails, budget, outcome_stats, projects, teams
from shoal.store.db import write_transaction
from shoal.store.outcome_stats import OutcomeFilter
from shoal.store.projects import ProjectInfo
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.form_posts import form_post, see_other
from shoal.web.pages import render, visible_project
from shoal.web.stats_charts import (
    OUTCOME_WORDS,
    OUTCOMES,
    PERIODS,
    StackedChart,
    StatsPeriod,
    hour_range,
    period_named,
    stacked_chart,
)

# The categories the page offers (Sentry's API names), with what the chooser says.
CATEGORIES: dict[str, str] = {
    "error": "Errors",
    "transaction": "Transactions",
    "attachment": "Attachments",
    "session": "Sessions",
    "span": "Spans",
    "monitor": "Cron check-ins",
    "log_item": "Logs",
    "profile": "Profiles",
    "replay": "Replays",
    "feedback": "User feedback",
}
DEFAULT_CATEGORY = "error"
NO_KEY = "no key known (client reports; older counters)"
NOTICES = {
    "email-on": "You will get this project's weekly quota advice by email.",
    "email-off": "You will not get this project's weekly quota advice by email any more.",
}


@dataclass(frozen=True)
class ReasonRow:
    outcome: str
    words: str  # "rate limited"
    reason: str  # "" for accepted
    quantity: int


@dataclass(frozen=True)
class KeyRow:
    project: ProjectInfo
    key: str  # its label, or NO_KEY
    per_outcome: dict[str, int]
    total: int


@dataclass(frozen=True)
class Scope:
    organization_id: int
    projects: list[ProjectInfo]  # every project of the organization the viewer sees
    chosen: ProjectInfo | None  # None: all of them

    @property
    def project_ids(self) -> tuple[int, ...]:
        return (self.chosen.id,) if self.chosen else tuple(p.id for p in self.projects)


# ------------------------------------------------------------------------------------ routes


def my_stats(request: Request) -> Response:
    """/stats/: the Stats page of the viewer's organization (the first, if there are several)."""
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        candidates = viewer.organization_ids or projects.organization_ids(conn)
    visible = [org for org in sorted(candidates) if viewer.can_see(org)]
    if not visible:
        raise HTTPException(404, "You are not a member of any organization.")
    return see_other(f"/organizations/{visible[0]}/stats/")


def organization_stats(request: Request) -> Response:
    viewer = current_viewer(request)
    organization_id = int(request.path_params["organization_id"])
    if not viewer.can_see(organization_id):
        raise HTTPException(404, "No such organization.")
    with engine_of(request).connect() as conn:
        shown = _visible_projects(conn, viewer, organization_id)
        chosen_id = request.query_params.get("project", "")
        chosen = next((p for p in shown if str(p.id) == chosen_id), None)
        if chosen_id and chosen is None:
            raise HTTPException(404, "No such project among those you may see here.")
        return _render(request, viewer, conn, Scope(organization_id, shown, chosen))


def project_stats(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        shown = _visible_projects(conn, viewer, project.organization_id)
        return _render(request, viewer, conn, Scope(project.organization_id, shown, project))


@form_post
def set_advisor_email(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Opt in or out of the project's weekly advisor email: `wanted` is "yes" or "no"."""
    wanted = form.get("wanted") == "yes"
    with write_transaction(engine_of(request)) as conn:
        project = visible_project(conn, viewer, int(request.path_params["project_id"]))
        advisor_emails.set_wants_email(conn, viewer.user.id, project.id, wanted)
    notice = "email-on" if wanted else "email-off"
    return see_other(f"/projects/{project.id}/stats/?notice={notice}#advisor-email")


ROUTES = [
    Route("/stats/", my_stats),
    Route("/organizations/{organization_id:int}/stats/", organization_stats),
    Route("/projects/{project_id:int}/stats/", project_stats),
    Route("/projects/{project_id:int}/stats/advisor-email", set_advisor_email, methods=["POST"]),
]


# ---------------------------------------------------------------------------------- the page


def _visible_projects(conn: Connection, viewer: Viewer, organization_id: int) -> list[ProjectInfo]:
    return [
        p
        for p in projects.list_projects(conn)
        if p.organization_id == organization_id and viewer.can_see_project(p)
    ]


def _render(request: Request, viewer: Viewer, conn: Connection, scope: Scope) -> Response:
    now = SYSTEM_CLOCK.now()
    period = period_named(request.query_params.get("period"))
    category = request.query_params.get("category", "")
    category = category if category in CATEGORIES else DEFAULT_CATEGORY
    where = OutcomeFilter(
        scope.project_ids, *hour_range(period, now), categories=outcome_stats.stored_categories(category)
    )
    chart = _chart(conn, where, period, category, now)
    context: dict[str, Any] = {
        "scope": scope,
        "project": scope.chosen,  # the main navigation's project links
        "period": period,
        "periods": PERIODS,
        "category": category,
        "categories": CATEGORIES,
        "chart": chart,
        "outcome_words": OUTCOME_WORDS,
        "outcomes": [name for name, _ in OUTCOMES],
        "reasons": reason_rows(conn, where),
        "keys": key_rows(conn, where, scope),
        "advice": scope_advice(conn, scope, now),
        "links": _links(scope, period, category),
        "email": _email_setting(conn, viewer, scope),
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return render(request, viewer, "stats.html", context)


def _chart(
    conn: Connection, where: OutcomeFilter, period: StatsPeriod, category: str, now: float
) -> StackedChart:
    found = outcome_stats.bucketed(conn, where, ["outcome"], period.bucket_hours)
    per_outcome = {str(outcome): buckets for (outcome,), buckets in found.items()}
    return stacked_chart(period, per_outcome, now, unit="bytes" if category == "attachment" else "items")


def reason_rows(conn: Connection, where: OutcomeFilter) -> list[ReasonRow]:
    """One row per outcome and reason, in the chart's order of outcomes, the most first."""
    order = {name: index for index, (name, _) in enumerate(OUTCOMES)}
    found = outcome_stats.totals(conn, where, ["outcome", "reason"])
    rows = [
        ReasonRow(str(outcome), OUTCOME_WORDS.get(str(outcome), str(outcome)), str(reason), quantity)
        for (outcome, reason), quantity in found.items()
    ]
    return sorted(rows, key=lambda row: (order.get(row.outcome, len(order)), -row.quantity, row.reason))


def key_rows(conn: Connection, where: OutcomeFilter, scope: Scope) -> list[KeyRow]:
    """One row per project and client key, with its quantity per outcome, the most first."""
    found = outcome_stats.totals(conn, where, ["project", "key", "outcome"])
    per_key: dict[tuple[int, int], dict[str, int]] = {}
    for (project_id, key_id, outcome), quantity in found.items():
        per_key.setdefault((int(project_id), int(key_id)), {})[str(outcome)] = quantity
    by_id = {p.id: p for p in scope.projects}
    labels = {
        (key.project_id, key.id): key.label or key.public_key[:8]
        for project_id in {project_id for project_id, _ in per_key}
        for key in projects.list_keys(conn, project_id)
    }
    rows = [
        KeyRow(by_id[project_id], labels.get((project_id, key_id), NO_KEY), counts, sum(counts.values()))
        for (project_id, key_id), counts in per_key.items()
        if project_id in by_id
    ]
    return sorted(rows, key=lambda row: (-row.total, row.project.name, row.key))


def scope_advice(conn: Connection, scope: Scope, now: float) -> Advice:
    readings = budget.read_budget(
        conn,
        scope.organization_id,
        scope.project_ids,
        month_hours(now),
        scope.chosen.id if scope.chosen else None,
    )
    return advise(readings, now)


def _links(scope: Scope, period: StatsPeriod, category: str) -> dict[str, Any]:
    """The URLs of the choosers: each keeps the other choices."""
    base = (
        f"/projects/{scope.chosen.id}/stats/"
        if scope.chosen
        else f"/organizations/{scope.organization_id}/stats/"
    )

    def to(**changes: str) -> str:
        return base + "?" + urlencode({"period": period.key, "category": category, **changes})

    return {
        "periods": {key: to(period=key) for key in PERIODS},
        "categories": {key: to(category=key) for key in CATEGORIES},
        "organization": f"/organizations/{scope.organization_id}/stats/?"
        + urlencode({"period": period.key, "category": category}),
    }


def _email_setting(conn: Connection, viewer: Viewer, scope: Scope) -> dict[str, bool] | None:
    """Whether the viewer gets the chosen project's weekly email, if they may (owners, admins)."""
    if scope.chosen is None:
        return None
    manager = viewer.roles.get(scope.organization_id) in teams.MANAGER_ROLES
    wanted = advisor_emails.wants_email(conn, viewer.user.id, scope.chosen.id)
    return {"eligible": manager, "wanted": wanted}
