"""The OpenAPI 3.1 document of Shoal's `/api/0/` subset, served at `GET /api/0/schema/` (no token
needed: it says what exists, not what is in it). Paths, parameters and status codes are the ones
the resource modules serve; the JSON Schemas of bodies and answers are in
shoal/api/openapi_schemas.py. tests/api/test_schemathesis.py generates requests from it against
a running Shoal and checks that none gets a 5xx and every answer matches it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth, issues, keys, organizations, projects, releases, repos, stats, user_feedback
from shoal.api.json_io import json_response
from shoal.api.openapi_schemas import SCHEMAS, Schema, array, ref
from shoal.api.paths import PREFIX

Operation = dict[str, Any]

# ---------------------------------------------------------------------------------- parameters


def _path(name: str, schema: Schema, description: str, example: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
        "example": example,
    }


def _query(name: str, schema: Schema, description: str) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "in": "query", "schema": schema, "description": description}
    if schema.get("type") == "array":
        found.update(style="form", explode=True)
    return found


ORG = _path("org_slug", {"type": "string"}, "The organization's slug (or numeric id).", "default")
PROJECT = _path("project_slug", {"type": "string"}, "The project's slug (or numeric id).", "my-project")
ISSUE = _path("issue_id", {"type": "integer"}, "The issue's id.", 1)
EVENT = _path(
    "event_id",
    {"type": "string"},
    "The event's id: 32 hex digits (a UUID's dashes are dropped).",
    "0123456789abcdef0123456789abcdef",
)
ISSUE_EVENT = _path(
    "event_id",
    {"type": "string"},
    "An event id of the issue, or `latest`, `oldest`, `recommended` (the latest, in Shoal).",
    "latest",
)
VERSION = _path("version", {"type": "string"}, "The release's version.", "1.0.0")
RULE = _path("rule_id", {"type": "integer"}, "The alert rule's id.", 1)

CURSOR = _query(
    "cursor",
    {"type": "string"},
    "Where the page starts: a `cursor` of a Link header (`value:offset:is_prev`).",
)
PER_PAGE = _query(
    "per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page (default 100)."
)
PAGED = [CURSOR, PER_PAGE]
SEARCH = [
    _query(
        "query",
        {"type": "string"},
        "A search in the UI's syntax (docs/search.md); absent: `is:unresolved`; empty: every issue.",
    ),
    _query("environment", array({"type": "string"}), "Only issues seen in these environments."),
]
LIST_ISSUES = [
    *SEARCH,
    _query("sort", {"enum": ["date", "new", "freq", "user", "priority"]}, "The order (default `date`)."),
    _query("statsPeriod", {"enum": ["", "24h", "14d"]}, "The `stats` series (default 24h; empty: none)."),
    _query("shortIdLookup", {"enum": ["0", "1", "true", "false"]}, "Find the issue a short id query names."),
    *PAGED,
]
BULK = [
    _query("id", array({"type": "integer"}), "The issues to change (repeated); others are left alone."),
    _query("status", {"enum": ["resolved", "unresolved", "ignored", "muted"]}, "Only issues in this status."),
    *SEARCH,
]
ORG_PROJECTS = _query("project", array({"type": "integer"}), "Only these projects (ids); -1 or none: all.")
FULL = _query("full", {"enum": ["true", "false", "1", "0"]}, "The full events instead of their short form.")

# ----------------------------------------------------------------------------------- responses

LINK_HEADER = {"Link": {"description": "The previous and next pages.", "schema": {"type": "string"}}}


def _json(schema: Schema, description: str, *, paged: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if paged:
        answer["headers"] = LINK_HEADER
    return answer


def _empty(description: str) -> dict[str, Any]:
    return {"description": description}


ERRORS = {
    "default": _json(ref("Error"), "A refusal (401, 403, 404, 405) or a body that does not validate (400).")
}


def _op(
    operation_id: str,
    summary: str,
    tag: str,
    responses: dict[str, Any],
    *,
    params: list[dict[str, Any]] | None = None,
    body: Schema | None = None,
    scopes: str = "",
) -> Operation:
    found: Operation = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "parameters": params or [],
        "responses": {**responses, **ERRORS},
    }
    if scopes:
        found["description"] = f"Scopes: any of {scopes}."
    if body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return found


def _scopes(accepted: frozenset[str]) -> str:
    return ", ".join(f"`{scope}`" for scope in sorted(accepted))


READ_ISSUES = _scopes(auth.READ_ISSUES)
WRITE_ISSUES = _scopes(issues.WRITE_ISSUES)
DELETE_ISSUES = _scopes(issues.DELETE_ISSUES)
READ_ORGS = _scopes(organizations.READ_ORGS)
READ_PROJECTS = _scopes(projects.READ_PROJECTS)
READ_KEYS = _scopes(keys.READ_KEYS)
READ_RELEASES = _scopes(releases.READ_RELEASES)
WRITE_RELEASES = _scopes(releases.WRITE_RELEASES)
DELETE_RELEASES = _scopes(releases.DELETE_RELEASES)
READ_REPOS = _scopes(repos.READ_REPOS)
WRITE_REPOS = _scopes(repos.WRITE_REPOS)
READ_RULES = _scopes(auth.READ_RULES)
WRITE_RULES = _scopes(auth.WRITE_RULES)

# --------------------------------------------------------------------------------------- paths


def _issue_paths() -> dict[str, Any]:
    def lists(where: list[dict[str, Any]], name: str) -> dict[str, Any]:
        extra = [ORG_PROJECTS] if name == "organization" else []
        return {
            "get": _op(
                f"list_{name}_issues",
                f"The {name}'s issues a search finds",
                "Issues",
                {"200": _json(array(ref("Issue")), "The issues.", paged=True)},
                params=[*where, *extra, *LIST_ISSUES],
                scopes=READ_ISSUES,
            ),
            "put": _op(
                f"update_{name}_issues",
                f"Change the {name}'s issues named by ?id=, or, for a status, all the search finds",
                "Issues",
                {"200": _json(ref("BulkResult"), "What was set."), "204": _empty("No issue matched.")},
                params=[*where, *extra, *BULK],
                body=ref("IssueUpdate"),
                scopes=WRITE_ISSUES,
            ),
            "delete": _op(
                f"delete_{name}_issues",
                f"Delete the {name}'s issues named by ?id=",
                "Issues",
                {"204": _empty("Deleted (those in scope).")},
                params=[*where, *extra, {**BULK[0], "required": True}, BULK[1]],
                scopes=DELETE_ISSUES,
            ),
        }

    def detail(name: str, where: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "get": _op(
                f"get_issue{name}",
                "An issue",
                "Issues",
                {"200": _json(ref("IssueDetail"), "The issue.")},
                params=where,
                scopes=READ_ISSUES,
            ),
            "put": _op(
                f"update_issue{name}",
                "Change an issue: only the fields sent",
                "Issues",
                {"200": _json(ref("IssueDetail"), "The issue, changed.")},
                params=where,
                body=ref("IssueUpdate"),
                scopes=WRITE_ISSUES,
            ),
            "delete": _op(
                f"delete_issue{name}",
                "Delete an issue and its events",
                "Issues",
                {"202": _empty("Deleted.")},
                params=where,
                scopes=DELETE_ISSUES,
            ),
        }

    return {
        f"{PREFIX}projects/{{org_slug}}/{{project_slug}}/issues/": lists([ORG, PROJECT], "project"),
        f"{PREFIX}organizations/{{org_slug}}/issues/": lists([ORG], "organization"),
        f"{PREFIX}organizations/{{org_slug}}/issues/{{issue_id}}/": detail("", [ORG, ISSUE]),
        f"{PREFIX}issues/{{issue_id}}/": detail("_legacy", [ISSUE]),
    }


def _event_paths() -> dict[str, Any]:
    def issue_list(name: str, where: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "get": _op(
                f"list_issue_events{name}",
                "An issue's events, newest first",
                "Events",
                {"200": _json(array(ref("Event")), "The events (full ones with full=true).", paged=True)},
                params=[*where, FULL, *PAGED],
                scopes=READ_ISSUES,
            )
        }

    def one(operation_id: str, summary: str, where: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "get": _op(
                operation_id,
                summary,
                "Events",
                {"200": _json(ref("EventDetail"), "The event.")},
                params=where,
                scopes=READ_ISSUES,
            )
        }

    org_issue = f"{PREFIX}organizations/{{org_slug}}/issues/{{issue_id}}/events/"
    project = f"{PREFIX}projects/{{org_slug}}/{{project_slug}}/events/"
    return {
        org_issue: issue_list("", [ORG, ISSUE]),
        f"{PREFIX}issues/{{issue_id}}/events/": issue_list("_legacy", [ISSUE]),
        org_issue + "{event_id}/": one(
            "get_issue_event", "One of an issue's events", [ORG, ISSUE, ISSUE_EVENT]
        ),
        f"{PREFIX}issues/{{issue_id}}/events/{{event_id}}/": one(
            "get_issue_event_legacy", "One of an issue's events", [ISSUE, ISSUE_EVENT]
        ),
        project: {
            "get": _op(
                "list_project_events",
                "A project's events, newest received first",
                "Events",
                {"200": _json(array(ref("Event")), "The events (full ones with full=true).", paged=True)},
                params=[ORG, PROJECT, FULL, *PAGED],
                scopes=READ_ISSUES,
            )
        },
        project + "{event_id}/": one("get_project_event", "One of a project's events", [ORG, PROJECT, EVENT]),
        f"{PREFIX}organizations/{{org_slug}}/eventids/{{event_id}}/": {
            "get": _op(
                "lookup_event_id",
                "Which project and issue of the organization an event id belongs to",
                "Events",
                {"200": _json(ref("EventLookup"), "Where the event is, and the event.")},
                params=[ORG, EVENT],
                scopes=READ_ISSUES,
            )
        },
    }


def _resource_paths() -> dict[str, Any]:
    org = f"{PREFIX}organizations/{{org_slug}}/"
    project = f"{PREFIX}projects/{{org_slug}}/{{project_slug}}/"
    return {
        PREFIX: {
            "get": {
                **_op(
                    "info", "Who the token is (sentry-cli info)", "Auth", {"200": _json(ref("Info"), "Who.")}
                ),
                "security": [{}, {"bearer": []}],
            }
        },
        f"{PREFIX}schema/": {
            "get": {
                **_op("schema", "This document", "Auth", {"200": _json({"type": "object"}, "OpenAPI 3.1.")}),
                "security": [{}],
            }
        },
        f"{PREFIX}organizations/": {
            "get": _op(
                "list_organizations",
                "The organizations the token reaches",
                "Organizations",
                {"200": _json(array(ref("Organization")), "The organizations.", paged=True)},
                params=PAGED,
                scopes=READ_ORGS,
            )
        },
        org: {
            "get": _op(
                "get_organization",
                "An organization",
                "Organizations",
                {"200": _json(ref("Organization"), "The organization.")},
                params=[ORG],
                scopes=READ_ORGS,
            )
        },
        org + "projects/": {
            "get": _op(
                "list_organization_projects",
                "An organization's projects the token may see",
                "Projects",
                {"200": _json(array(ref("Project")), "The projects.", paged=True)},
                params=[ORG, *PAGED],
                scopes=READ_PROJECTS,
            )
        },
        f"{PREFIX}projects/": {
            "get": _op(
                "list_projects",
                "Every project the token may see, with its organization",
                "Projects",
                {"200": _json(array(ref("Project")), "The projects.", paged=True)},
                params=PAGED,
                scopes=READ_PROJECTS,
            )
        },
        project: {
            "get": _op(
                "get_project",
                "A project, with its organization",
                "Projects",
                {"200": _json(ref("Project"), "The project.")},
                params=[ORG, PROJECT],
                scopes=READ_PROJECTS,
            )
        },
        project + "keys/": {
            "get": _op(
                "list_project_keys",
                "A project's client keys (DSNs)",
                "Projects",
                {"200": _json(array(ref("Key")), "The keys, oldest first.", paged=True)},
                params=[ORG, PROJECT, *PAGED],
                scopes=READ_KEYS,
            )
        },
    }


def _rule_paths() -> dict[str, Any]:
    rules = f"{PREFIX}projects/{{org_slug}}/{{project_slug}}/rules/"
    decisions = [ISSUE, *PAGED]

    def decision_list(name: str, where: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "get": _op(
                f"list_alert_decisions{name}",
                "Why each alert rule did or did not fire for the issue (Shoal's own resource)",
                "Alert rules",
                {"200": _json(array(ref("Decision")), "The decisions, newest first.", paged=True)},
                params=where,
                scopes=f"{READ_ISSUES}, or any that reads rules",
            )
        }

    return {
        rules: {
            "get": _op(
                "list_rules",
                "A project's issue alert rules",
                "Alert rules",
                {"200": _json(array(ref("Rule")), "The rules, newest first.", paged=True)},
                params=[ORG, PROJECT, *PAGED],
                scopes=READ_RULES,
            ),
            "post": _op(
                "create_rule",
                "Make an alert rule",
                "Alert rules",
                {"201": _json(ref("Rule"), "The rule.")},
                params=[ORG, PROJECT],
                body=ref("RuleBody"),
                scopes=WRITE_RULES,
            ),
        },
        rules + "{rule_id}/": {
            "get": _op(
                "get_rule",
                "An alert rule",
                "Alert rules",
                {"200": _json(ref("Rule"), "The rule.")},
                params=[ORG, PROJECT, RULE],
                scopes=READ_RULES,
            ),
            "put": _op(
                "replace_rule",
                "Replace an alert rule",
                "Alert rules",
                {"200": _json(ref("Rule"), "The rule.")},
                params=[ORG, PROJECT, RULE],
                body=ref("RuleBody"),
                scopes=WRITE_RULES,
            ),
            "delete": _op(
                "delete_rule",
                "Delete an alert rule",
                "Alert rules",
                {"202": _empty("Deleted.")},
                params=[ORG, PROJECT, RULE],
                scopes=WRITE_RULES,
            ),
        },
        f"{PREFIX}issues/{{issue_id}}/alert-decisions/": decision_list("_legacy", decisions),
        f"{PREFIX}organizations/{{org_slug}}/issues/{{issue_id}}/alert-decisions/": decision_list(
            "", [ORG, *decisions]
        ),
    }


def _release_paths() -> dict[str, Any]:
    org_releases = f"{PREFIX}organizations/{{org_slug}}/releases/"
    project_releases = f"{PREFIX}projects/{{org_slug}}/{{project_slug}}/releases/"

    def release(name: str, where: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "get": _op(
                f"get_release{name}",
                "A release",
                "Releases",
                {"200": _json(ref("Release"), "The release.")},
                params=where,
                scopes=READ_RELEASES,
            ),
            "put": _op(
                f"update_release{name}",
                "Change a release: dates (finalize), url, ref, projects, commits, refs",
                "Releases",
                {"200": _json(ref("Release"), "The release.")},
                params=where,
                body=ref("ReleaseUpdate"),
                scopes=WRITE_RELEASES,
            ),
            "delete": _op(
                f"delete_release{name}",
                "Delete a release",
                "Releases",
                {"204": _empty("Deleted.")},
                params=where,
                scopes=DELETE_RELEASES,
            ),
        }

    def commits(name: str, where: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "get": _op(
                f"list_release_commits{name}",
                "A release's commits, newest first",
                "Releases",
                {"200": _json(array(ref("Commit")), "The commits.", paged=True)},
                params=[*where, *PAGED],
                scopes=READ_RELEASES,
            )
        }

    where = [ORG, VERSION]
    project_where = [ORG, PROJECT, VERSION]
    return {
        org_releases: {
            "get": _op(
                "list_releases",
                "An organization's releases, newest first",
                "Releases",
                {"200": _json(array(ref("Release")), "The releases.", paged=True)},
                params=[
                    ORG,
                    _query("query", {"type": "string"}, "Versions starting with this."),
                    ORG_PROJECTS,
                    *PAGED,
                ],
                scopes=READ_RELEASES,
            ),
            "post": _op(
                "create_release",
                "Make a release (201), or add to one that exists (208)",
                "Releases",
                {"201": _json(ref("Release"), "Made."), "208": _json(ref("Release"), "It existed; changed.")},
                params=[ORG],
                body=ref("ReleaseCreate"),
                scopes=WRITE_RELEASES,
            ),
        },
        org_releases + "{version}/": release("", where),
        org_releases + "{version}/previous-with-commits/": {
            "get": _op(
                "previous_release_with_commits",
                "The release before this one that has commits, or exactly {}",
                "Releases",
                {"200": _json({"anyOf": [ref("NoRelease"), ref("Release")]}, "The release, or {}.")},
                params=where,
                scopes=READ_RELEASES,
            )
        },
        org_releases + "{version}/commits/": commits("", where),
        org_releases + "{version}/deploys/": {
            "get": _op(
                "list_deploys",
                "A release's deploys, newest first",
                "Releases",
                {"200": _json(array(ref("Deploy")), "The deploys.", paged=True)},
                params=[*where, *PAGED],
                scopes=READ_RELEASES,
            ),
            "post": _op(
                "create_deploy",
                "Record a deploy of a release to an environment",
                "Releases",
                {"201": _json(ref("Deploy"), "The deploy.")},
                params=where,
                body=ref("DeployCreate"),
                scopes=WRITE_RELEASES,
            ),
        },
        project_releases: {
            "get": _op(
                "list_project_releases",
                "A project's releases, newest first",
                "Releases",
                {"200": _json(array(ref("Release")), "The releases.", paged=True)},
                params=[
                    ORG,
                    PROJECT,
                    _query("query", {"type": "string"}, "Versions starting with this."),
                    *PAGED,
                ],
                scopes=READ_RELEASES,
            )
        },
        project_releases + "{version}/": release("_of_project", project_where),
        project_releases + "{version}/commits/": commits("_of_project", project_where),
        **_upload_paths(),
        f"{PREFIX}organizations/{{org_slug}}/repos/": {
            "get": _op(
                "list_repositories",
                "An organization's registered repositories ([] unless some were registered)",
                "Releases",
                {"200": _json(array(ref("Repository")), "The repositories.", paged=True)},
                params=[ORG, *PAGED],
                scopes=READ_REPOS,
            ),
            "post": _op(
                "register_repository",
                "Register a repository (for set-commits --commit REPO@SHA)",
                "Releases",
                {"201": _json(ref("Repository"), "The repository.")},
                params=[ORG],
                body=ref("RepositoryCreate"),
                scopes=WRITE_REPOS,
            ),
        },
    }


def _stats_paths() -> dict[str, Any]:
    """`stats_v2` (shoal/api/stats.py, docs/stats.md)."""
    words = {"type": "string"}
    duration = {"type": "string", "pattern": "^[0-9]+[smhdw]?$"}  # Sentry's <number><unit>
    params = [
        ORG,
        {
            **_query(
                "field",
                array({"enum": list(stats.FIELDS)}),
                "What to sum (at least one): `sum(quantity)` (attachments in bytes) or "
                "`sum(times_seen)` (items; attachments left out).",
            ),
            "required": True,
        },
        _query("groupBy", array({"enum": sorted(stats.GROUP_BY)}), "Group by these (repeated)."),
        _query("category", array({"enum": sorted(stats.CATEGORIES)}), "Only these categories."),
        _query("outcome", array({"enum": list(stats.OUTCOMES)}), "Only these outcomes."),
        _query("reason", array(words), "Only these reasons."),
        _query("project", array({"type": "integer"}), "Only these projects (ids); -1 or none: all."),
        _query("key_id", array({"type": "integer"}), "Only these client keys (ids)."),
        _query("statsPeriod", duration, "The range, up to now (default 14d)."),
        _query("start", {"type": "string", "format": "date-time"}, "The range's start (with `end`)."),
        _query("end", {"type": "string", "format": "date-time"}, "The range's end, inclusive."),
        _query("interval", duration, "The buckets: 1h (default) to 1d."),
    ]
    return {
        f"{PREFIX}organizations/{{org_slug}}/stats_v2/": {
            "get": _op(
                "organization_stats_v2",
                "Outcome counts: accepted, filtered, rate limited, invalid, client-discarded",
                "Organizations",
                {"200": _json(ref("Stats"), "The counts, per group and interval.")},
                params=params,
                scopes=READ_ORGS,
            )
        }
    }


def _monitor_paths() -> dict[str, Any]:
    """Cron monitors and their check-ins (shoal/api/monitors.py, docs/crons.md)."""
    monitors = f"{PREFIX}organizations/{{org_slug}}/monitors/"
    slug = _path("monitor_slug", {"type": "string"}, "The monitor's slug.", "nightly-report")
    environments = _query("environment", array({"type": "string"}), "Only these environments.")

    def read(operation_id: str, summary: str, answer: dict[str, Any], params: list[Any]) -> dict[str, Any]:
        return {"get": _op(operation_id, summary, "Crons", answer, params=params, scopes=READ_PROJECTS)}

    return {
        monitors: read(
            "list_monitors",
            "The organization's cron monitors the token may see",
            {"200": _json(array(ref("Monitor")), "The monitors.", paged=True)},
            [ORG, ORG_PROJECTS, environments, *PAGED],
        ),
        monitors + "{monitor_slug}/": read(
            "get_monitor",
            "A cron monitor",
            {"200": _json(ref("Monitor"), "The monitor.")},
            [ORG, slug, ORG_PROJECTS],
        ),
        monitors + "{monitor_slug}/checkins/": read(
            "list_monitor_check_ins",
            "A monitor's check-ins, newest first",
            {"200": _json(array(ref("CheckIn")), "The check-ins.", paged=True)},
            [ORG, slug, ORG_PROJECTS, environments, *PAGED],
        ),
    }


def _feedback_paths() -> dict[str, Any]:
    """Sentry's deprecated user feedback endpoint (shoal/api/user_feedback.py, docs/feedback.md)."""
    submit = _op(
        "submit_user_feedback",
        "Submit a user's report on an event (deprecated in Sentry; also `Authorization: DSN <dsn>`)",
        "Feedback",
        {"200": _json(ref("UserReport"), "The report, queued to be stored with its event.")},
        params=[ORG, PROJECT],
        body=ref("UserReportSubmit"),
        scopes=_scopes(user_feedback.WRITE_FEEDBACK),
    )
    return {f"{PREFIX}projects/{{org_slug}}/{{project_slug}}/user-feedback/": {"post": submit}}


def _upload_paths() -> dict[str, Any]:
    """Where `sentry-cli sourcemaps upload` starts: not supported yet, and said so with a 501."""
    refused = {"501": _json(ref("Error"), "Shoal does not store source maps or debug files yet.")}

    def refusal(operation_id: str, summary: str) -> Operation:
        return _op(operation_id, summary, "Releases", refused, params=[ORG], scopes=READ_RELEASES)

    chunks = f"{PREFIX}organizations/{{org_slug}}/chunk-upload/"
    return {
        chunks: {
            "get": refusal("chunk_upload_options", "Chunk upload options (not supported yet: 501)"),
            "post": refusal("upload_chunks", "Upload chunks (not supported yet: 501)"),
        },
        f"{PREFIX}organizations/{{org_slug}}/artifactbundle/assemble/": {
            "post": refusal(
                "assemble_artifact_bundle", "Assemble an artifact bundle (not supported yet: 501)"
            )
        },
    }


def document(public_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shoal API",
            "version": "0",
            "description": (
                "The subset of Sentry's web API that Shoal answers, with Sentry's paths, JSON field "
                "names and types, status codes and Link pagination (docs/api.md)."
            ),
        },
        "servers": [{"url": public_url}],
        "security": [{"bearer": []}],
        "paths": {
            **_resource_paths(),
            **_issue_paths(),
            **_event_paths(),
            **_rule_paths(),
            **_release_paths(),
            **_stats_paths(),
            **_monitor_paths(),
            **_feedback_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `shoal token create` or the Account › API tokens page.",
                }
            },
            "schemas": SCHEMAS,
        },
    }


def schema(request: Request) -> Response:
    return json_response(document(request.app.state.config.public_url))


ROUTES = [Route(f"{PREFIX}schema/", schema)]
