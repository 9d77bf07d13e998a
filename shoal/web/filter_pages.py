"""A project's inbound filters page (`/projects/{id}/settings/filters/`): every filter with its
toggle, the glob or address lists of the list filters, and next to each the preview — how many of
the last 7 days' stored events it would have dropped (shoal/digest/filters/preview.py) and how many
items it did drop; "Preview" re-counts with the form's values before anything is saved. Below, the
project's deleted-and-discarded issues, each of which can be undiscarded (shoal/store/discards.py).

Anyone who may see the project reads the page; owners and admins change the filters, as every
project setting (`project_settings_pages.managed_project`). Undiscarding is open to whoever may
discard, which is whoever may delete issues: anyone who sees the project (`discard_pages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal import outcomes
from shoal.clock import SYSTEM_CLOCK
from shoal.digest.filters.globs import glob_error
from shoal.digest.filters.health_check import HEALTH_CHECK_GLOBS
from shoal.digest.filters.ip_address import ip_address_error
from shoal.digest.filters.legacy_browsers import NEWEST_LEGACY
from shoal.digest.filters.preview import MAX_EVENTS, FilterPreview, preview_filters
from shoal.store import discards, projects
from shoal.store.db import write_transaction
from shoal.store.inbound_filters import LIST_FILTERS, PRESETS, FilterSettings
from shoal.web.auth import Viewer, current_viewer, engine_of
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render
from shoal.web.project_settings_pages import managed_project, visible

MAX_PATTERNS = 100
MAX_PATTERN = 200


@dataclass(frozen=True)
class FilterRow:
    """How the page shows one filter."""

    reason: str
    label: str
    help: str
    unit: str = "events"  # what it drops
    placeholder: str = ""  # for the list filters: an example of their patterns


_LEGACY = ", ".join(f"{family.replace('_', ' ').title()} ≤ {v}" for family, v in NEWEST_LEGACY.items())
ROWS = (
    FilterRow(
        outcomes.FILTER_HEALTH_CHECK,
        "Health-check transactions",
        "Transactions of load-balancer and Kubernetes probes, by transaction name or URL path: "
        + ", ".join(HEALTH_CHECK_GLOBS[:4])
        + ", … — so app.main.health at /health is one too.",
        unit="transactions",
    ),
    FilterRow(
        outcomes.FILTER_HTTP_404,
        "HTTP 404 errors",
        "Not-found exceptions of web frameworks: Starlette and FastAPI HTTPException(status_code=404), "
        "Django Http404, werkzeug and Flask NotFound.",
    ),
    FilterRow(
        outcomes.FILTER_ERROR_TYPE,
        "Error types",
        "The raised exception's type, by name or module.name; one glob per line. "
        "Suggested: clients that hung up (ConnectionResetError, BrokenPipeError).",
        placeholder="ConnectionResetError",
    ),
    FilterRow(
        outcomes.FILTER_ERROR_MESSAGE,
        "Error messages",
        "“Type: message” of each exception, or a message event's text; one glob per line, "
        "matching the whole text: write *timed out* for “contains timed out”.",
        placeholder="*timed out*",
    ),
    FilterRow(
        outcomes.FILTER_RELEASE,
        "Releases",
        "The whole release name; one glob per line. Events without a release are kept.",
        placeholder="shop@1.0.*",
    ),
    FilterRow(
        outcomes.FILTER_ENVIRONMENT,
        "Environments",
        "The event's environment; one glob per line. Events without one are kept.",
        placeholder="staging",
    ),
    FilterRow(
        outcomes.FILTER_IP_ADDRESS,
        "IP addresses",
        "The user's address or the address that sent the event; one address or CIDR range per line.",
        placeholder="10.0.0.0/8",
    ),
    FilterRow(
        outcomes.FILTER_LOCALHOST,
        "Localhost",
        "Events of a developer's machine: user address 127.0.0.1 or ::1, or a localhost or file: URL.",
    ),
    FilterRow(
        outcomes.FILTER_WEB_CRAWLERS,
        "Web crawlers",
        "Requests whose User-Agent is a search engine, link preview, archiver or uptime checker.",
    ),
    FilterRow(
        outcomes.FILTER_BROWSER_EXTENSIONS,
        "Browser extensions",
        "JavaScript errors thrown by extensions and injected scripts (chrome-extension:// frames, …).",
    ),
    FilterRow(
        outcomes.FILTER_LEGACY_BROWSERS,
        "Legacy browsers",
        f"JavaScript events from old browsers: {_LEGACY}.",
    ),
)

NOTICES = {
    "saved": "Inbound filters saved: events digested from now on follow them.",
    "undiscarded": (
        "Undiscarded: the issue's tombstones are gone, so its events are stored again, as a new issue."
    ),
    "not-discarded": "That issue is not discarded (any more).",
}


def _path(project_id: int) -> str:
    return f"/projects/{project_id}/settings/filters/"


# ------------------------------------------------------------------------------------ the page


def filters_page(request: Request) -> Response:
    viewer = current_viewer(request)
    project_id = int(request.path_params["project_id"])
    code = request.query_params.get("notice", "")
    return render_filters(request, viewer, project_id, notice=NOTICES.get(code) or _discard_notice(code))


def _discard_notice(code: str) -> str | None:
    """ "discarded-3": what discard_pages redirects here with."""
    op, _, count = code.partition("-")
    if op != "discarded" or not count.isdigit():
        return None
    n = int(count)
    issues = f"{n} issue{'' if n == 1 else 's'}"
    return (
        f"Deleted and discarded {issues}: {'its' if n == 1 else 'their'} events are gone, and later "
        "ones are dropped before they are stored (filtered:discarded-hash). Undiscard below to undo."
    )


def render_filters(
    request: Request,
    viewer: Viewer,
    project_id: int,
    *,
    settings: FilterSettings | None = None,
    texts: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    previewing: bool = False,
    status: int = 200,
) -> Response:
    """The page for `settings` (the saved ones when None); `texts` are the lists as typed."""
    with engine_of(request).connect() as conn:
        project = visible(conn, viewer, project_id)
        saved = projects.project_filters(conn, {project.id}).get(project.id, FilterSettings())
        shown = settings or saved
        preview = None if errors else preview_filters(conn, project.id, shown, SYSTEM_CLOCK.now())
        discarded = discards.discarded_issues(conn, project.id)
    context: dict[str, Any] = {
        "project": project,
        "rows": ROWS,
        "list_filters": LIST_FILTERS,
        "shown": shown,
        "saved": saved,
        "texts": texts or {reason: "\n".join(shown.patterns_of(reason)) for reason in LIST_FILTERS},
        "presets": PRESETS,
        "errors": errors or {},
        "notice": notice,
        "previewing": previewing,
        "preview": preview,
        "max_events": MAX_EVENTS,
        "preview_words": preview_words,
        "discarded": discarded,
        "discarded_dropped": preview.dropped[outcomes.DISCARDED_HASH] if preview else None,
        "can_manage": viewer.can_manage(project.organization_id),
    }
    return render(request, viewer, "project_filters.html", context, status=status)


# -------------------------------------------------------------------------- preview and save


@form_post
def post_filters(request: Request, viewer: Viewer, form: FormData) -> Response:
    """`action` = preview (count with the form's values, save nothing) or save."""
    project_id = int(request.path_params["project_id"])
    with engine_of(request).connect() as conn:
        managed_project(conn, viewer, project_id)
    settings, texts, errors = settings_from(form)
    action = field(form, "action")
    if errors:
        return render_filters(
            request, viewer, project_id, settings=settings, texts=texts, errors=errors, status=400
        )
    if action == "preview":
        notice = "Preview of the settings below: nothing is saved until you press Save."
        return render_filters(
            request, viewer, project_id, settings=settings, texts=texts, notice=notice, previewing=True
        )
    if action != "save":
        raise HTTPException(400, "Press Preview or Save.")
    with write_transaction(engine_of(request)) as conn:
        managed_project(conn, viewer, project_id)
        projects.set_project_filters(conn, project_id, settings)
    return see_other(f"{_path(project_id)}?notice=saved")


def settings_from(form: FormData) -> tuple[FilterSettings, dict[str, str], dict[str, str]]:
    """The settings the form describes (an unchecked box is absent: off), the lists as typed, and
    the problems by field (`patterns-<reason>`)."""
    on = frozenset(row.reason for row in ROWS if field(form, f"on-{row.reason}") == "on")
    texts = {reason: _raw(form, f"patterns-{reason}") for reason in LIST_FILTERS}
    patterns: dict[str, tuple[str, ...]] = {}
    errors: dict[str, str] = {}
    for reason, text in texts.items():
        patterns[reason], error = pattern_lines(text, ip_addresses=reason == outcomes.FILTER_IP_ADDRESS)
        if error:
            errors[f"patterns-{reason}"] = error
    return FilterSettings(on, patterns), texts, errors


def _raw(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def pattern_lines(text: str, *, ip_addresses: bool = False) -> tuple[tuple[str, ...], str | None]:
    """One pattern per line, blank lines skipped and repeats dropped; or why they cannot be used."""
    found = tuple(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if len(found) > MAX_PATTERNS:
        return (), f"At most {MAX_PATTERNS} patterns, one per line."
    for pattern in found:
        if len(pattern) > MAX_PATTERN:
            return (), f"A pattern has at most {MAX_PATTERN} characters: “{pattern[:40]}…” is longer."
        if not pattern.isprintable():
            return (), "A pattern is one line of visible characters."
        error = ip_address_error(pattern) if ip_addresses else glob_error(pattern)
        if error:
            return (), error
    return found, None


def preview_words(preview: FilterPreview, reason: str) -> str:
    """ "Would have dropped 3 of the 120 events stored in the last 7 days." (transactions, for the
    health-check filter: the only one replayed on them)."""
    n = preview.would_drop[reason]
    if reason == outcomes.FILTER_HEALTH_CHECK:
        stored, truncated, items = (
            preview.transactions_replayed,
            preview.transactions_truncated,
            "transaction",
        )
    else:
        stored, truncated, items = preview.events_replayed, preview.truncated, "event"
    of = f"the newest {stored:,}" if truncated else f"the {stored:,}"
    return (
        f"Would have dropped {n:,} of {of} {items}{'' if stored == 1 else 's'} stored in the last "
        f"{preview.days} days."
    )


ROUTES: list[Route] = [
    Route("/projects/{project_id:int}/settings/filters/", filters_page),
    Route("/projects/{project_id:int}/settings/filters/", post_filters, methods=["POST"]),
]
