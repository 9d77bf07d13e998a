"""The alert rule editor's form, both ways: a rule's Sentry JSON as rows of fields for the page, and
the posted fields back into that JSON, which `shoal.alerts.model.rule_from_json` then checks.

Every trigger, filter and action is a row of a fixed kind with that kind's fields, so the editor
needs no script: "add" and "remove" are buttons that post the form and get it back with the row
added or gone. An entry the editor has no fields for (Sentry's legacy "notify event service"
action, say) is kept as a row holding its JSON, and saved unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.datastructures import FormData

from shoal.alerts import model

# The action intervals of Sentry's classic rule form (reference §2.6), in minutes.
FREQUENCIES = (5, 10, 30, 60, 180, 720, 1440, 10080, 43200)
INTERVAL_LABELS = {
    "1m": "1 minute",
    "5m": "5 minutes",
    "15m": "15 minutes",
    "1h": "1 hour",
    "1d": "1 day",
    "1w": "1 week",
    "30d": "30 days",
}
# Sentry's percent-of-sessions intervals (model.PERCENT_INTERVALS).
PERCENT_INTERVAL_LABELS = {
    "1m": "1 minute",
    "5m": "5 minutes",
    "10m": "10 minutes",
    "30m": "30 minutes",
    "1h": "1 hour",
}
SECTIONS = ("trigger", "filter", "action")
_ROW_LIMIT = 50  # rows per section: far more than a rule needs, few enough that a post stays small


@dataclass(frozen=True)
class Kind:
    """One kind of row: Sentry's id, what the editor calls it, and its fields with defaults."""

    id: str
    label: str
    fields: dict[str, str] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()  # fields saved as whole numbers
    optional: tuple[str, ...] = ()  # fields left out of the JSON when empty
    fixed: dict[str, Any] = field(default_factory=dict)  # constant keys of the JSON


_INTERVAL_FIELDS = {"value": "100", "interval": "1h"}

TRIGGERS = {
    "first_seen": Kind(model.FIRST_SEEN, "A new issue is created"),
    "regression": Kind(model.REGRESSION, "A resolved issue comes back (regression)"),
    "reappeared": Kind(model.REAPPEARED, "An ignored issue escalates"),
    "every_event": Kind(model.EVERY_EVENT, "An event is captured (every event)"),
    "event_frequency": Kind(
        model.EVENT_FREQUENCY,
        "The issue is seen more than N times in an interval",
        dict(_INTERVAL_FIELDS),
        numbers=("value",),
        fixed={"comparisonType": "count"},
    ),
    "user_frequency": Kind(
        model.USER_FREQUENCY,
        "The issue is seen by more than N users in an interval",
        dict(_INTERVAL_FIELDS),
        numbers=("value",),
        fixed={"comparisonType": "count"},
    ),
    "session_percent": Kind(
        model.SESSION_PERCENT,
        "The issue affects more than X % of sessions in an interval",
        {"value": "10", "interval": "1h"},
        numbers=("value",),
        fixed={"comparisonType": "count"},
    ),
}

FILTERS = {
    "tagged": Kind(model.TAGGED_EVENT, "The event's tag matches", {"key": "", "match": "eq", "value": ""}),
    "level": Kind(model.LEVEL, "The event's level", {"match": "gte", "level": "40"}),
    "attribute": Kind(
        model.EVENT_ATTRIBUTE,
        "An attribute of the event matches",
        {"attribute": "exception.type", "match": "eq", "value": ""},
    ),
    "age": Kind(
        model.AGE_COMPARISON,
        "The issue is older or newer than",
        {"comparison_type": "older", "value": "1", "time": "day"},
        numbers=("value",),
    ),
    "occurrences": Kind(
        model.ISSUE_OCCURRENCES,
        "The issue has happened at least N times",
        {"value": "10"},
        numbers=("value",),
    ),
    "latest_release": Kind(model.LATEST_RELEASE, "The event is from the latest release"),
    "assigned": Kind(
        model.ASSIGNED_TO,
        "The issue is assigned to",
        {"targetType": "Unassigned", "targetIdentifier": ""},
        numbers=("targetIdentifier",),
        optional=("targetIdentifier",),
    ),
}

ACTIONS = {
    "email": Kind(
        model.NOTIFY_EMAIL,
        "Send an email",
        {"targetType": "IssueOwners", "targetIdentifier": "", "fallthroughType": "AllMembers"},
        numbers=("targetIdentifier",),
        optional=("targetIdentifier",),
    ),
    "channel": Kind(
        model.NOTIFY_CHANNEL, "Send to a notification channel", {"channel": ""}, numbers=("channel",)
    ),
}

KINDS = {"trigger": TRIGGERS, "filter": FILTERS, "action": ACTIONS}
_JSON_KEY = {"trigger": "conditions", "filter": "filters", "action": "actions"}


@dataclass
class Row:
    kind: str  # a key of TRIGGERS, FILTERS or ACTIONS, or "raw"
    fields: dict[str, str]
    raw: str = ""  # kind "raw": the entry's JSON, kept as it came


@dataclass
class RuleForm:
    name: str = ""
    environment: str = ""
    action_match: str = "all"
    filter_match: str = "all"
    frequency: str = str(model.DEFAULT_FREQUENCY)
    status: str = "active"
    trigger: list[Row] = field(default_factory=list)
    filter: list[Row] = field(default_factory=list)
    action: list[Row] = field(default_factory=list)

    def rows(self, section: str) -> list[Row]:
        rows: list[Row] = getattr(self, section)
        return rows

    # ------------------------------------------------------------------------ from Sentry's JSON

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuleForm:
        conditions = _list(data.get("conditions"))
        # Sentry's older API mixed filters into "conditions"; the editor shows them as filters.
        filters = _list(data.get("filters")) + [c for c in conditions if c.get("id") in model.FILTER_IDS]
        conditions = [c for c in conditions if c.get("id") not in model.FILTER_IDS]
        return cls(
            name=str(data.get("name") or ""),
            environment=str(data.get("environment") or ""),
            action_match=str(data.get("actionMatch") or "all"),
            filter_match=str(data.get("filterMatch") or "all"),
            frequency=str(data.get("frequency") or model.DEFAULT_FREQUENCY),
            status=str(data.get("status") or "active"),
            trigger=[_row_of(entry, TRIGGERS) for entry in conditions],
            filter=[_row_of(entry, FILTERS) for entry in filters],
            action=[_row_of(entry, ACTIONS) for entry in _list(data.get("actions"))],
        )

    @classmethod
    def from_rule(cls, rule: model.RuleSpec) -> RuleForm:
        return cls.from_json(
            {
                "name": rule.name,
                "environment": rule.environment,
                "actionMatch": rule.action_match,
                "filterMatch": rule.filter_match,
                "frequency": rule.frequency,
                "status": rule.status,
                "conditions": list(rule.conditions),
                "filters": list(rule.filters),
                "actions": list(rule.actions),
            }
        )

    # ---------------------------------------------------------------------------- to Sentry's JSON

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "environment": self.environment or None,
            "actionMatch": self.action_match,
            "filterMatch": self.filter_match,
            "frequency": _number(self.frequency),
            "status": self.status,
            **{
                _JSON_KEY[section]: [_entry_of(row, KINDS[section]) for row in self.rows(section)]
                for section in SECTIONS
            },
        }

    def json_text(self) -> str:
        return orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2).decode()

    # ---------------------------------------------------------------------------- from the post

    @classmethod
    def from_post(cls, form: FormData) -> RuleForm:
        def text(name: str, default: str = "") -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else default

        editor = cls(
            name=text("name"),
            environment=text("environment"),
            action_match=text("action_match", "all"),
            filter_match=text("filter_match", "all"),
            frequency=text("frequency", str(model.DEFAULT_FREQUENCY)),
            status=text("status", "active"),
        )
        for section in SECTIONS:
            editor.rows(section).extend(_posted_rows(form, section))
        return editor

    def add(self, section: str, kind: str) -> None:
        kinds = KINDS.get(section)
        if kinds is not None and kind in kinds and len(self.rows(section)) < _ROW_LIMIT:
            self.rows(section).append(Row(kind, dict(kinds[kind].fields)))

    def remove(self, section: str, index: int) -> None:
        rows = self.rows(section) if section in SECTIONS else []
        if 0 <= index < len(rows):
            del rows[index]


def _list(value: object) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _row_of(entry: dict[str, Any], kinds: dict[str, Kind]) -> Row:
    name = next((name for name, kind in kinds.items() if kind.id == entry.get("id")), None)
    if name is None:
        return Row("raw", {}, orjson.dumps(entry).decode())
    fields = {key: _text(entry.get(key, default)) for key, default in kinds[name].fields.items()}
    if name == "level":
        # Sentry stores the level as its number ("40"); a name works too, and the select shows numbers.
        number = model.level_number(entry.get("level"))
        fields["level"] = str(number) if number is not None else fields["level"]
    return Row(name, fields)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _entry_of(row: Row, kinds: dict[str, Kind]) -> dict[str, Any]:
    if row.kind == "raw" or row.kind not in kinds:
        return _raw_entry(row.raw)
    kind = kinds[row.kind]
    entry: dict[str, Any] = {"id": kind.id, **kind.fixed}
    for key in kind.fields:
        value = row.fields.get(key, "")
        if key in kind.optional and not value:
            continue
        if key == "targetIdentifier" and row.fields.get("targetType") != "Member":
            continue  # the member select keeps its value when another target is chosen
        entry[key] = _number(value) if key in kind.numbers else value
    return entry


def _raw_entry(text: str) -> dict[str, Any]:
    try:
        entry = orjson.loads(text)
    except orjson.JSONDecodeError:
        entry = None
    # {"id": ""} makes the rule check say "unknown id" at this row instead of losing it silently.
    return dict(entry) if isinstance(entry, dict) else {"id": ""}


def _number(value: str) -> int | str:
    """A whole number as a number; anything else as typed, for the rule check to report."""
    text = value.strip()
    return int(text) if text.isdigit() else text


def _posted_rows(form: FormData, section: str) -> list[Row]:
    prefix = f"{section}-"
    indexes = sorted(
        {
            int(key[len(prefix) : -len("-kind")])
            for key in form
            if key.startswith(prefix) and key.endswith("-kind") and key[len(prefix) : -len("-kind")].isdigit()
        }
    )[:_ROW_LIMIT]
    kinds = KINDS[section]
    rows = []
    for index in indexes:
        kind = str(form.get(f"{prefix}{index}-kind"))
        if kind == "raw":
            rows.append(Row("raw", {}, str(form.get(f"{prefix}{index}-raw") or "")))
        elif kind in kinds:
            fields = {
                key: str(form.get(f"{prefix}{index}-{key}") or "").strip() for key in kinds[kind].fields
            }
            rows.append(Row(kind, fields))
    return rows


def form_of_json(text: str) -> tuple[RuleForm | None, str | None]:
    """The advanced view's JSON as a form, or why it cannot be read."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return None, f"This is not valid JSON: {exc}"
    if not isinstance(data, dict):
        return None, "The rule's JSON must be an object, {…}."
    return RuleForm.from_json(data), None


def error_label(key: str) -> str:
    """`conditions[0].value` → "Trigger 1, value": where a problem `rule_from_json` found is."""
    names = {"conditions": "Trigger", "filters": "Filter", "actions": "Action"}
    head, _, rest = key.partition("[")
    if head in names and "]" in rest:
        index, _, tail = rest.partition("]")
        where = f"{names[head]} {int(index) + 1}" if index.isdigit() else names[head]
        return f"{where}, {tail.lstrip('.')}" if tail.strip(".") else where
    return {"actionMatch": "Triggers", "filterMatch": "Filters", "frequency": "Action interval"}.get(
        key, key.capitalize()
    )


def target_errors(editor: RuleForm, channel_ids: set[int], member_ids: set[int]) -> dict[str, str]:
    """What `rule_from_json` cannot know: that a channel or a member the rule names exists here."""
    errors: dict[str, str] = {}
    for index, row in enumerate(editor.action):
        where = f"actions[{index}]"
        if row.kind == "channel" and _number(row.fields.get("channel", "")) not in channel_ids:
            errors[f"{where}.channel"] = "choose one of the organization's notification channels"
        if row.kind == "email":
            errors.update(_member_errors(row, where, ("IssueOwners", "Member"), member_ids))
    for index, row in enumerate(editor.filter):
        if row.kind == "assigned":
            errors.update(_member_errors(row, f"filters[{index}]", ("Unassigned", "Member"), member_ids))
    return errors


def _member_errors(
    row: Row, where: str, target_types: tuple[str, ...], member_ids: set[int]
) -> dict[str, str]:
    target = row.fields.get("targetType", "")
    if target not in target_types:
        return {f"{where}.targetType": f"must be one of {', '.join(target_types)}"}
    if target == "Member" and _number(row.fields.get("targetIdentifier", "")) not in member_ids:
        return {f"{where}.targetIdentifier": "choose a member of the organization"}
    return {}
