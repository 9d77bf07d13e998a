"""An organization's notification channels in the UI: the list, with a disabled channel's reason in
plain sight; a channel of each kind made or changed through a form that the kind's own
`check_config` validates; re-enable (saving does it too); delete after a confirmation that names
the rules sending to it; and "Send test notification", which delivers one now and says how it went.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from shoal.alerts.model import NOTIFY_CHANNEL, NOTIFY_SERVICE, Rule
from shoal.clock import SYSTEM_CLOCK
from shoal.notify.base import ConfigInvalid, NotifySettings
from shoal.notify.registry import CHANNELS
from shoal.notify.worker import send_test
from shoal.store import alert_rules, channels, projects
from shoal.store.channels import ChannelRow
from shoal.store.db import write_transaction
from shoal.web.auth import Viewer, current_viewer, engine_of, require_manager
from shoal.web.form_posts import field, form_post, see_other
from shoal.web.pages import render

MAX_NAME = 200  # channel.name is a String(200)
MAX_SHOWN_ERROR = 500  # a test's error travels in the redirect's query string


@dataclass(frozen=True)
class ConfigField:
    """One field of a channel kind's configuration form."""

    name: str
    label: str
    help: str
    widget: str = "text"  # text | url | textarea | secret


FIELDS: dict[str, tuple[ConfigField, ...]] = {
    "email": (
        ConfigField("to", "Recipients", "Email addresses, separated by commas or new lines.", "textarea"),
    ),
    "slack": (
        ConfigField(
            "webhook_url",
            "Webhook URL",
            "The incoming-webhook URL Slack gives you: https://hooks.slack.com/services/…",
            "url",
        ),
    ),
    "webhook": (
        ConfigField("url", "URL", "Shoal POSTs a JSON body to this URL for each alert.", "url"),
        ConfigField(
            "secret",
            "Secret (optional)",
            "Signs each body with HMAC-SHA256 so the receiver can check it came from Shoal.",
            "secret",
        ),
    ),
    "apprise": (
        ConfigField(
            "url", "Apprise URL", "Any URL apprise understands: ntfy://…, discord://…, mattermost://…"
        ),
    ),
}


def kinds() -> dict[str, str]:
    """The kinds this page can make: the registry's, where the page knows the form."""
    return {kind: factory.label for kind, factory in CHANNELS.items() if kind in FIELDS}


# ------------------------------------------------------------------------------------- access


def _organization_id(request: Request, conn: Connection, viewer: Viewer) -> int:
    organization_id = int(request.path_params["organization_id"])
    if not projects.organization_exists(conn, organization_id) or not viewer.can_see(organization_id):
        raise HTTPException(404, "No such organization.")
    return organization_id


def _channel(request: Request, conn: Connection, organization_id: int) -> ChannelRow:
    found = channels.get_channel(conn, int(request.path_params["channel_id"]))
    if found is None or found.organization_id != organization_id:
        raise HTTPException(404, "No such channel in this organization.")
    return found


def _list_url(organization_id: int) -> str:
    return f"/organizations/{organization_id}/channels/"


def my_channels(request: Request) -> Response:
    """/channels/: the channels of the viewer's organization (the first, if there are several)."""
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        candidates = viewer.organization_ids or projects.organization_ids(conn)
    visible = [org for org in sorted(candidates) if viewer.can_see(org)]
    if not visible:
        raise HTTPException(404, "You are not a member of any organization.")
    return see_other(_list_url(visible[0]))


# --------------------------------------------------------------------------------------- list


def channel_list(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        organization_id = _organization_id(request, conn, viewer)
        rows = channels.organization_channels(conn, organization_id)
    context = {
        "organization_id": organization_id,
        "channels": rows,
        "kinds": kinds(),
        "summaries": {row.id: summary(row) for row in rows},
        "test": _test_outcome(request, rows),
        "notice": {"saved": "Saved.", "enabled": "Enabled again.", "deleted": "The channel was deleted."}.get(
            request.query_params.get("notice", "")
        ),
    }
    return render(request, viewer, "channels.html", context)


def summary(row: ChannelRow) -> str:
    """Where the channel sends, in a few words; a webhook's secret is never shown."""
    config = row.config
    if row.kind == "email":
        return ", ".join(str(address) for address in config.get("to") or [])
    if row.kind == "webhook":
        return str(config.get("url", "")) + (" (signed)" if config.get("secret") else "")
    return str(config.get("webhook_url") or config.get("url") or "")


@dataclass(frozen=True)
class TestOutcome:
    channel_name: str
    error: str | None


def _test_outcome(request: Request, rows: list[ChannelRow]) -> TestOutcome | None:
    tested = request.query_params.get("tested", "")
    found = next((row for row in rows if str(row.id) == tested), None)
    if found is None:
        return None
    error = request.query_params.get("error")
    return TestOutcome(found.name, error[:MAX_SHOWN_ERROR] if error is not None else None)


# ------------------------------------------------------------------------------- create, edit


def new_channel(request: Request) -> Response:
    viewer = current_viewer(request)
    kind = request.query_params.get("kind", "")
    with engine_of(request).connect() as conn:
        organization_id = _organization_id(request, conn, viewer)
    if kind not in kinds():
        return render(
            request, viewer, "channel_kinds.html", {"organization_id": organization_id, "kinds": kinds()}
        )
    return _form(
        request, viewer, organization_id=organization_id, kind=kind, channel=None, values={"name": ""}
    )


def edit_channel(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        organization_id = _organization_id(request, conn, viewer)
        found = _channel(request, conn, organization_id)
    return _form(
        request,
        viewer,
        organization_id=organization_id,
        kind=found.kind,
        channel=found,
        values=_values_of(found),
    )


def _values_of(row: ChannelRow) -> dict[str, str]:
    values = {"name": row.name}
    for config_field in FIELDS.get(row.kind, ()):
        value = row.config.get(config_field.name)
        if config_field.widget == "secret":
            continue  # never sent back to the browser; empty on save keeps it
        values[config_field.name] = ", ".join(value) if isinstance(value, list) else str(value or "")
    return values


@form_post
def post_new_channel(request: Request, viewer: Viewer, form: FormData) -> Response:
    kind = field(form, "kind")
    if kind not in kinds():
        raise HTTPException(400, "Unknown channel kind.")
    with engine_of(request).connect() as conn:
        organization_id = _organization_id(request, conn, viewer)
        require_manager(viewer, organization_id)
    return _save(request, viewer, form, organization_id=organization_id, kind=kind, channel=None)


@form_post
def post_edit_channel(request: Request, viewer: Viewer, form: FormData) -> Response:
    with engine_of(request).connect() as conn:
        organization_id = _organization_id(request, conn, viewer)
        require_manager(viewer, organization_id)
        found = _channel(request, conn, organization_id)
    return _save(request, viewer, form, organization_id=organization_id, kind=found.kind, channel=found)


def _save(
    request: Request,
    viewer: Viewer,
    form: FormData,
    *,
    organization_id: int,
    kind: str,
    channel: ChannelRow | None,
) -> Response:
    values = {name: field(form, name) for name in ("name", *(f.name for f in FIELDS[kind]))}
    errors, config = _checked(
        request, values, organization_id=organization_id, kind=kind, channel=channel, form=form
    )
    if errors or config is None:
        return _form(
            request,
            viewer,
            organization_id=organization_id,
            kind=kind,
            channel=channel,
            values=values,
            errors=errors,
            status=400,
        )
    with write_transaction(engine_of(request)) as conn:
        if channel is None:
            channels.insert_channel(
                conn, organization_id, values["name"], kind, config=config, now=SYSTEM_CLOCK.now()
            )
        else:
            channels.update_channel(conn, channel.id, values["name"], config)
    return see_other(f"{_list_url(organization_id)}?notice=saved")


def _checked(
    request: Request,
    values: dict[str, str],
    *,
    organization_id: int,
    kind: str,
    channel: ChannelRow | None,
    form: FormData,
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """The problems with the form (by field), or none and the configuration the kind cleaned."""
    errors = _name_errors(request, values["name"], organization_id, channel)
    raw: dict[str, Any] = {f.name: values[f.name] for f in FIELDS[kind]}
    if channel is not None and "secret" in raw and not raw["secret"] and not form.get("remove_secret"):
        raw["secret"] = channel.config.get("secret") or ""  # empty means "keep the current secret"
    try:
        config = CHANNELS[kind].check_config(raw)
    except ConfigInvalid as exc:
        errors[_field_of(str(exc), kind)] = _message_of(str(exc), kind)
        return errors, None
    return errors, config


def _name_errors(
    request: Request, name: str, organization_id: int, channel: ChannelRow | None
) -> dict[str, str]:
    if not name:
        return {"name": "Give the channel a name, e.g. “ops on Slack”."}
    if len(name) > MAX_NAME:
        return {"name": f"A name has at most {MAX_NAME} characters."}
    with engine_of(request).connect() as conn:
        same = channels.channel_by_name(conn, organization_id, name)
    if same is not None and (channel is None or same.id != channel.id):
        return {"name": "Another channel of this organization already has this name."}
    return {}


def _field_of(message: str, kind: str) -> str:
    """check_config says "url: …"; the error goes next to that field (or the first one)."""
    head = message.partition(":")[0].strip()
    names = [f.name for f in FIELDS[kind]]
    return head if head in names else names[0]


def _message_of(message: str, kind: str) -> str:
    head, separator, rest = message.partition(":")
    text = rest.strip() if separator and head.strip() in {f.name for f in FIELDS[kind]} else message
    return text[:1].upper() + text[1:]


def _form(
    request: Request,
    viewer: Viewer,
    *,
    organization_id: int,
    kind: str,
    channel: ChannelRow | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "organization_id": organization_id,
        "kind": kind,
        "kind_label": kinds().get(kind, kind),
        "fields": FIELDS[kind],
        "channel": channel,
        "has_secret": bool(channel and channel.config.get("secret")),
        "values": values,
        "errors": errors or {},
    }
    return render(request, viewer, "channel_edit.html", context, status=status)


# ----------------------------------------------------------------- enable, test, delete


@form_post
def enable(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Enable a channel a permanent error disabled, as it is (saving the form does the same)."""
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization_id(request, conn, viewer)
        require_manager(viewer, organization_id)
        found = _channel(request, conn, organization_id)
        channels.update_channel(conn, found.id, found.name, found.config)
    return see_other(f"{_list_url(organization_id)}?notice=enabled")


@form_post
def send_test_notification(request: Request, viewer: Viewer, form: FormData) -> Response:
    with engine_of(request).connect() as conn:
        organization_id = _organization_id(request, conn, viewer)
        require_manager(viewer, organization_id)
        found = _channel(request, conn, organization_id)
    # The send happens outside any transaction: a slow receiver must not hold the store's lock.
    error = send_test(found, NotifySettings.from_config(request.app.state.config))
    query = {"tested": found.id} if error is None else {"tested": found.id, "error": error[:MAX_SHOWN_ERROR]}
    return see_other(f"{_list_url(organization_id)}?{urlencode(query)}")


def confirm_delete(request: Request) -> Response:
    viewer = current_viewer(request)
    with engine_of(request).connect() as conn:
        organization_id = _organization_id(request, conn, viewer)
        found = _channel(request, conn, organization_id)
        users_of = rules_using(conn, found)
    context = {
        "title": f"Delete the channel “{found.name}”?",
        "message": (
            "Its undelivered notifications go with it."
            + (" These alert rules send to it; that action is removed from them:" if users_of else "")
        ),
        "listed": users_of,
        "action": f"/organizations/{organization_id}/channels/{found.id}/delete",
        "cancel": _list_url(organization_id),
        "button": "Delete channel",
    }
    return render(request, viewer, "confirm_delete.html", context)


def rules_using(conn: Connection, channel: ChannelRow) -> list[str]:
    """ "project: rule" for every rule of the organization with an action that sends to the channel."""
    return [f"{project.name}: {rule.name}" for project, rule in _rules_sending_to(conn, channel)]


def _rules_sending_to(conn: Connection, channel: ChannelRow) -> list[tuple[projects.ProjectInfo, Rule]]:
    return [
        (project, rule)
        for project in projects.list_projects(conn)
        if project.organization_id == channel.organization_id
        for rule in alert_rules.project_rules(conn, project.id)
        if any(_sends_to(action, channel) for action in rule.actions)
    ]


def _sends_to(action: dict[str, Any], channel: ChannelRow) -> bool:
    if action.get("id") == NOTIFY_CHANNEL:
        return str(action.get("channel")) == str(channel.id)
    return action.get("id") == NOTIFY_SERVICE and action.get("service") == channel.name


@form_post
def delete(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Delete the channel and, in the same transaction, the rule actions that send to it: an
    action naming a channel that is gone would make every later firing of the rule fail."""
    now = SYSTEM_CLOCK.now()
    with write_transaction(engine_of(request)) as conn:
        organization_id = _organization_id(request, conn, viewer)
        require_manager(viewer, organization_id)
        found = _channel(request, conn, organization_id)
        for _project, rule in _rules_sending_to(conn, found):
            kept = tuple(action for action in rule.actions if not _sends_to(action, found))
            alert_rules.update_rule(conn, rule.id, replace(rule, actions=kept), now)
        channels.delete_channel(conn, found.id)
    return see_other(f"{_list_url(organization_id)}?notice=deleted")
