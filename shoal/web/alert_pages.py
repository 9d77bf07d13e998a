"""A project's alert rules in the UI: the list, a new rule from one of the three one-click templates
or from scratch, the editor, enable / disable, delete after a confirmation, the rule page with its
decision log, and "Test this rule": the form's rule, unsaved, replayed over the last 7 days.

The editor posts to itself: "add" / "remove" a row, "use this JSON", "test" and "save" are buttons
of one form (see `shoal.web.rule_form`). Only "save" writes, and then redirects to the rule page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from shoal.alerts.attributes import ATTRIBUTE_NAMES
from shoal.alerts.model import (
    AGE_UNITS,
    LEVEL_MATCHES,
    LEVELS,
    TAG_MATCHES,
    Rule,
    RuleInvalid,
    RuleSpec,
    rule_from_json,
)
from shoal.alerts.replay import ReplayResult, replay_rule
from shoal.alerts.templates import TEMPLATE_LABELS, TEMPLATES
from shoal.clock import SYSTEM_CLOCK
from shoal.store import alert_rules, alert_state, channels, issues, users
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo
from shoal.web import rule_form
from shoal.web.auth import Viewer, current_viewer, engine_of, require_manager
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render, visible_project
from shoal.web.rule_form import RuleForm, error_label, form_of_json, target_errors
from shoal.web.rule_words import describe
from shoal.web.triage_view import minutes_words

REPLAY_DAYS = 7
UNSAVED_NAME = "(unsaved rule)"
NOTICES = {
    "saved": "Saved. The rule applies to events digested from now on.",
    "enabled": "Enabled: the rule is checked again on new events.",
    "disabled": "Disabled: the rule is not checked until it is enabled again.",
    "deleted": "The rule was deleted.",
}


@dataclass(frozen=True)
class Choices:
    """What the editor's selects offer: the organization's channels and members, and the model's
    fixed lists."""

    channels: list[channels.ChannelRow]
    members: list[users.Member]
    intervals: dict[str, str]
    percent_intervals: dict[str, str]
    frequencies: tuple[int, ...]
    tag_matches: dict[str, str]
    level_matches: dict[str, str]
    levels: dict[str, int]
    attributes: tuple[str, ...]
    age_units: tuple[str, ...]


def _choices(conn: Connection, project: ProjectInfo) -> Choices:
    return Choices(
        channels=channels.organization_channels(conn, project.organization_id),
        members=users.project_members(conn, project.organization_id, project.id),
        intervals=rule_form.INTERVAL_LABELS,
        percent_intervals=rule_form.PERCENT_INTERVAL_LABELS,
        frequencies=rule_form.FREQUENCIES,
        tag_matches=TAG_MATCHES,
        level_matches=LEVEL_MATCHES,
        levels={name: number for name, number in LEVELS.items() if name != "sample"},
        attributes=ATTRIBUTE_NAMES,
        age_units=tuple(AGE_UNITS),
    )


def _project(request: Request, conn: Connection, viewer: Viewer) -> ProjectInfo:
    return visible_project(conn, viewer, int(request.path_params["project_id"]))


def _rule(request: Request, conn: Connection, project: ProjectInfo) -> Rule:
    rule = alert_rules.get_rule(conn, int(request.path_params["rule_id"]))
    if rule is None or rule.project_id != project.id:
        raise HTTPException(404, "No such alert rule in this project.")
    return rule


def _names(choices: Choices) -> tuple[dict[int, str], dict[int, str]]:
    return {c.id: c.name for c in choices.channels}, {m.id: m.email for m in choices.members}


# ----------------------------------------------------------------------------------- the list


def rule_list(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = _project(request, conn, viewer)
        rules = alert_rules.project_rules(conn, project.id)
        fired = alert_state.last_fired_per_rule(conn, [rule.id for rule in rules])
        channel_names, member_emails = _names(_choices(conn, project))
    rows = [
        {
            "rule": r,
            "words": describe(r, channel_names, member_emails),
            "interval": minutes_words(r.frequency),
            "last_fired": fired.get(r.id),
        }
        for r in rules
    ]
    context = {
        "project": project,
        "rows": rows,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return render(request, viewer, "alert_rules.html", context)


# ------------------------------------------------------------------------------------ the page


def rule_detail(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = _project(request, conn, viewer)
        rule = _rule(request, conn, project)
        channel_names, member_emails = _names(_choices(conn, project))
        decisions = alert_state.rule_decisions(conn, rule.id)
        facts = issues.alert_facts(conn, {d.issue_id for d in decisions})
        fired = alert_state.last_fired_per_rule(conn, [rule.id]).get(rule.id)
    context = {
        "project": project,
        "rule": rule,
        "words": describe(rule, channel_names, member_emails),
        "decisions": decisions,
        "issues": facts,
        "last_fired": fired,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return render(request, viewer, "alert_rule.html", context)


@form_post
def set_status(request: Request, viewer: Viewer, form: FormData) -> Response:
    status = field(form, "status")
    if status not in ("active", "disabled"):
        raise HTTPException(400, "A rule is either active or disabled.")
    with write_transaction(engine_of(request)) as conn:
        project = _project(request, conn, viewer)
        require_manager(viewer, project.organization_id)
        rule = _rule(request, conn, project)
        alert_rules.update_rule(conn, rule.id, replace(rule, status=status), SYSTEM_CLOCK.now())
    notice = "enabled" if status == "active" else "disabled"
    return see_other(f"/projects/{project.id}/alerts/{rule.id}/?notice={notice}")


def confirm_delete(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        project = _project(request, conn, viewer)
        rule = _rule(request, conn, project)
    base = f"/projects/{project.id}/alerts/{rule.id}"
    context = {
        "project": project,
        "title": f"Delete the rule “{rule.name}”?",
        "message": "Its decision log goes with it. Notifications already queued are still sent.",
        "action": f"{base}/delete",
        "cancel": f"{base}/",
        "button": "Delete rule",
        "listed": [],
    }
    return render(request, viewer, "confirm_delete.html", context)


@form_post
def delete(request: Request, viewer: Viewer, form: FormData) -> Response:
    with write_transaction(engine_of(request)) as conn:
        project = _project(request, conn, viewer)
        require_manager(viewer, project.organization_id)
        alert_rules.delete_rule(conn, _rule(request, conn, project).id)
    return see_other(f"/projects/{project.id}/alerts/?notice=deleted")


# ---------------------------------------------------------------------------------- the editor


def new_rule(request: Request) -> Response:
    viewer = current_viewer(request)
    template = request.query_params.get("template", "")
    editor = RuleForm.from_json(TEMPLATES[template]) if template in TEMPLATES else _blank()
    return _editor(request, viewer, editor, rule=None, template=template)


def _blank() -> RuleForm:
    editor = RuleForm()
    editor.add("trigger", "first_seen")
    editor.add("action", "email")
    return editor


def edit_rule(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        rule = _rule(request, conn, _project(request, conn, viewer))
    return _editor(request, viewer, RuleForm.from_rule(rule), rule=rule)


@form_post
def post_new_rule(request: Request, viewer: Viewer, form: FormData) -> Response:
    return _post_editor(request, viewer, form, editing=False)


@form_post
def post_edit_rule(request: Request, viewer: Viewer, form: FormData) -> Response:
    return _post_editor(request, viewer, form, editing=True)


def _post_editor(request: Request, viewer: Viewer, form: FormData, *, editing: bool) -> Response:
    with engine_of(request).connect() as conn:
        project = _project(request, conn, viewer)
        require_manager(viewer, project.organization_id)
        rule = _rule(request, conn, project) if editing else None
    editor = RuleForm.from_post(form)
    op = field(form, "op") or "save"
    section, _, rest = op.partition(":")
    if section in ("add", "remove"):
        _change_rows(editor, section, rest, form)
        return _editor(request, viewer, editor, rule=rule)
    if op == "json":
        loaded, problem = form_of_json(str(form.get("json") or ""))
        if loaded is None:
            return _editor(request, viewer, editor, rule=rule, errors={"json": problem or ""}, status=400)
        return _editor(request, viewer, loaded, rule=rule)
    if op == "test":
        return _test(request, viewer, editor, project, rule)
    return _save(request, viewer, editor, project, rule)


def _change_rows(editor: RuleForm, op: str, rest: str, form: FormData) -> None:
    """ "add:trigger" adds a row of the kind chosen next to the button; "remove:filter:2" removes."""
    section, _, index = rest.partition(":")
    if op == "add":
        editor.add(section, field(form, f"new-{section}"))
    elif index.isdigit():
        editor.remove(section, int(index))


def _checked(
    request: Request, editor: RuleForm, project: ProjectInfo
) -> tuple[RuleSpec | None, dict[str, str]]:
    """The editor's rule as a RuleSpec, or the problems with it keyed like `rule_from_json`'s."""
    with engine_of(request).connect() as conn:
        choices = _choices(conn, project)
    errors = target_errors(editor, {c.id for c in choices.channels}, {m.id for m in choices.members})
    try:
        spec = rule_from_json(editor.to_json())
    except RuleInvalid as exc:
        return None, {**exc.errors, **errors}
    return (None if errors else spec), errors


def _test(
    request: Request, viewer: Viewer, editor: RuleForm, project: ProjectInfo, rule: Rule | None
) -> Response:
    # An unsaved rule may not have a name yet; a test does not need one.
    candidate = replace(editor, name=editor.name or UNSAVED_NAME)
    spec, errors = _checked(request, candidate, project)
    if spec is None:
        return _editor(request, viewer, editor, rule=rule, errors=errors, status=400)
    with engine_of(request).connect() as conn:
        replay = replay_rule(conn, project.id, spec, SYSTEM_CLOCK.now(), days=REPLAY_DAYS)
    return _editor(request, viewer, editor, rule=rule, replay=replay)


def _save(
    request: Request, viewer: Viewer, editor: RuleForm, project: ProjectInfo, rule: Rule | None
) -> Response:
    spec, errors = _checked(request, editor, project)
    if spec is None:
        return _editor(request, viewer, editor, rule=rule, errors=errors, status=400)
    now = SYSTEM_CLOCK.now()
    with write_transaction(engine_of(request)) as conn:
        if rule is None:
            rule_id = alert_rules.insert_rule(conn, project.id, spec, now)
        else:
            rule_id = rule.id
            alert_rules.update_rule(conn, rule_id, spec, now)
    return see_other(f"/projects/{project.id}/alerts/{rule_id}/?notice=saved")


def _editor(
    request: Request,
    viewer: Viewer,
    editor: RuleForm,
    *,
    rule: Rule | None,
    template: str = "",
    errors: dict[str, str] | None = None,
    replay: ReplayResult | None = None,
    status: int = 200,
) -> Response:
    with engine_of(request).connect() as conn:
        project = _project(request, conn, viewer)
        choices = _choices(conn, project)
    frequencies = choices.frequencies
    if editor.frequency.isdigit() and int(editor.frequency) not in frequencies:
        # A rule made through the API may use any interval from 5 minutes to 30 days; keep it.
        frequencies = tuple(sorted({*frequencies, int(editor.frequency)}))
    context = {
        "project": project,
        "rule": rule,
        "editor": editor,
        "choices": choices,
        "frequency_options": [(minutes, minutes_words(minutes)) for minutes in frequencies],
        "kinds": rule_form.KINDS,
        "templates": TEMPLATE_LABELS,
        "template": template,
        "errors": errors or {},
        "error_list": [(error_label(key), message) for key, message in (errors or {}).items()],
        "replay": replay,
        "replay_days": REPLAY_DAYS,
        "action": f"/projects/{project.id}/alerts/{rule.id}/edit"
        if rule
        else f"/projects/{project.id}/alerts/new",
    }
    return render(request, viewer, "alert_rule_edit.html", context, status=status)
