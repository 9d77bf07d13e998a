"""Issue alert rules of a project, as Sentry's API serves them:
`GET|POST /api/0/projects/{org}/{project}/rules/` and
`GET|PUT|DELETE /api/0/projects/{org}/{project}/rules/{rule_id}/`.

Bodies and answers are Sentry's JSON (shoal/alerts/model.py). POST answers 201 with the rule, as
Sentry's API documentation gives it; PUT replaces the whole rule, as Sentry's does; DELETE answers
202 Accepted with no body, as Sentry does. Reads need a scope among READ_RULES, changes one among
WRITE_RULES.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.alerts.model import Rule, RuleInvalid, RuleSpec, rule_from_json, rule_to_json
from shoal.api import auth, pagination
from shoal.api.errors import invalid, not_found
from shoal.api.json_io import json_object, json_response
from shoal.api.paths import PROJECT
from shoal.store import alert_rules
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo
from shoal.store.tokens import TokenOwner


async def rule_list(request: Request) -> Response:
    if request.method == "GET":
        return await run_in_threadpool(_list, request)
    body = await json_object(request)
    return await run_in_threadpool(_create, request, body)


async def rule_detail(request: Request) -> Response:
    if request.method == "PUT":
        body = await json_object(request)
        return await run_in_threadpool(_replace, request, body)
    if request.method == "DELETE":
        return await run_in_threadpool(_delete, request)
    return await run_in_threadpool(_get, request)


def _list(request: Request) -> Response:
    owner = auth.token_owner(request)
    cursor, per_page = pagination.cursor_of(request), pagination.per_page_of(request)
    with auth.engine_of(request).connect() as conn:
        project = _project(conn, owner, request, auth.READ_RULES)
        # Newest first, as Sentry lists them. A project has a handful of rules: page in memory.
        rules = alert_rules.project_rules(conn, project.id)[::-1]
    start, page = pagination.offset_page(cursor, per_page, len(rules))
    body = [rule_to_json(rule, project.slug) for rule in rules[start : start + per_page]]
    return json_response(body, headers={"Link": pagination.link_header(request, page)})


def _create(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    with write_transaction(auth.engine_of(request)) as conn:
        project = _project(conn, owner, request, auth.WRITE_RULES)
        spec = _spec(body)
        rule_id = alert_rules.insert_rule(conn, project.id, spec, auth.clock_of(request).now())
        rule = alert_rules.get_rule(conn, rule_id)
    assert rule is not None
    return json_response(rule_to_json(rule, project.slug), 201)


def _get(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        project = _project(conn, owner, request, auth.READ_RULES)
        rule = _rule(conn, request, project)
    return json_response(rule_to_json(rule, project.slug))


def _replace(request: Request, body: dict[str, Any]) -> Response:
    owner = auth.token_owner(request)
    with write_transaction(auth.engine_of(request)) as conn:
        project = _project(conn, owner, request, auth.WRITE_RULES)
        rule = _rule(conn, request, project)
        spec = _spec(body)
        alert_rules.update_rule(conn, rule.id, spec, auth.clock_of(request).now())
        updated = alert_rules.get_rule(conn, rule.id)
    assert updated is not None
    return json_response(rule_to_json(updated, project.slug))


def _delete(request: Request) -> Response:
    owner = auth.token_owner(request)
    with write_transaction(auth.engine_of(request)) as conn:
        project = _project(conn, owner, request, auth.WRITE_RULES)
        rule = _rule(conn, request, project)
        alert_rules.delete_rule(conn, rule.id)
    return Response(status_code=202)


def _project(conn: Connection, owner: TokenOwner, request: Request, scopes: frozenset[str]) -> ProjectInfo:
    """The URL's project (404 when out of reach), then the scope check (403): Sentry's order, and
    only then is the body checked (400)."""
    params = request.path_params
    project = auth.visible_project(conn, owner, params["org_slug"], params["project_slug"])
    auth.require_scope(owner, scopes)
    return project


def _rule(conn: Connection, request: Request, project: ProjectInfo) -> Rule:
    rule = alert_rules.get_rule(conn, auth.path_id(request, "rule_id"))
    if rule is None or rule.project_id != project.id:
        raise not_found()
    return rule


def _spec(body: dict[str, Any]) -> RuleSpec:
    try:
        return rule_from_json(body)
    except RuleInvalid as exc:
        raise invalid(exc.errors) from exc


ROUTES = [
    Route(f"{PROJECT}/rules/", rule_list, methods=["GET", "POST"]),
    Route(f"{PROJECT}/rules/{{rule_id:int}}/", rule_detail, methods=["GET", "PUT", "DELETE"]),
]
