"""An issue alert rule in Sentry's JSON shape, checked: triggers ("conditions"), filters, actions,
`actionMatch`, `filterMatch`, `frequency` and `environment` (reference: alerts-filters-quotas-
releases.md §2). The same shape is stored, served by the API and edited in the UI, and Sentry's
condition ids are kept so that existing automation works unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shoal.alerts.attributes import ATTRIBUTE_NAMES
from shoal.clock import iso_utc

# Triggers ("When …").
FIRST_SEEN = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
REGRESSION = "sentry.rules.conditions.regression_event.RegressionEventCondition"
REAPPEARED = "sentry.rules.conditions.reappeared_event.ReappearedEventCondition"
EVENT_FREQUENCY = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
USER_FREQUENCY = "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition"
# "The issue affects more than X percent of sessions in INTERVAL" (release health, §2.3).
SESSION_PERCENT = "sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition"
EVERY_EVENT = "sentry.rules.conditions.every_event.EveryEventCondition"
TRIGGER_IDS = (
    FIRST_SEEN,
    REGRESSION,
    REAPPEARED,
    EVENT_FREQUENCY,
    USER_FREQUENCY,
    SESSION_PERCENT,
    EVERY_EVENT,
)

# Filters ("If …").
TAGGED_EVENT = "sentry.rules.filters.tagged_event.TaggedEventFilter"
LEVEL = "sentry.rules.filters.level.LevelFilter"
EVENT_ATTRIBUTE = "sentry.rules.filters.event_attribute.EventAttributeFilter"
AGE_COMPARISON = "sentry.rules.filters.age_comparison.AgeComparisonFilter"
ISSUE_OCCURRENCES = "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter"
LATEST_RELEASE = "sentry.rules.filters.latest_release.LatestReleaseFilter"
ASSIGNED_TO = "sentry.rules.filters.assigned_to.AssignedToFilter"
FILTER_IDS = (
    TAGGED_EVENT,
    LEVEL,
    EVENT_ATTRIBUTE,
    AGE_COMPARISON,
    ISSUE_OCCURRENCES,
    LATEST_RELEASE,
    ASSIGNED_TO,
)

# Actions ("Then …"): email to the project's members (Sentry's mail action), or a configured
# channel, by id (Shoal's) or by name (Sentry's legacy "notify event service" action).
NOTIFY_EMAIL = "sentry.mail.actions.NotifyEmailAction"
NOTIFY_SERVICE = "sentry.rules.actions.notify_event_service.NotifyEventServiceAction"
NOTIFY_CHANNEL = "shoal.actions.NotifyChannelAction"
ACTION_IDS = (NOTIFY_EMAIL, NOTIFY_SERVICE, NOTIFY_CHANNEL)

INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400, "1w": 604800, "30d": 2592000}
# Sentry's percent-of-sessions intervals; 1m only for old rules (reference §2.3).
PERCENT_INTERVALS = {"1m": 60, "5m": 300, "10m": 600, "30m": 1800, "1h": 3600}
MATCHES = ("all", "any", "none")
FREQUENCY_MINUTES = (5, 43200)  # Sentry's API accepts 5 minutes to 30 days
DEFAULT_FREQUENCY = 30

LEVELS = {"fatal": 50, "error": 40, "warning": 30, "info": 20, "debug": 10, "sample": 0}
TAG_MATCHES = {
    "eq": "equals",
    "ne": "does not equal",
    "sw": "starts with",
    "nsw": "does not start with",
    "ew": "ends with",
    "new": "does not end with",
    "co": "contains",
    "nc": "does not contain",
    "is": "is set",
    "ns": "is not set",
    "in": "is in",
    "nin": "is not in",
}
LEVEL_MATCHES = {"eq": "=", "gte": "≥", "lte": "≤"}

AGE_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}


class RuleInvalid(ValueError):
    """The rule cannot be used; `errors` maps a field (`conditions[0].value`) to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class RuleSpec:
    """A rule as its owner wrote it, checked. Conditions, filters and actions stay Sentry's dicts."""

    name: str
    conditions: tuple[dict[str, Any], ...]
    filters: tuple[dict[str, Any], ...] = ()
    actions: tuple[dict[str, Any], ...] = ()
    action_match: str = "all"
    filter_match: str = "all"
    frequency: int = DEFAULT_FREQUENCY
    environment: str | None = None
    status: str = "active"


@dataclass(frozen=True)
class Rule(RuleSpec):
    id: int = 0
    project_id: int = 0
    created_at: float = 0.0


def rule_from_json(data: dict[str, Any]) -> RuleSpec:
    """A RuleSpec from the API's or the UI's JSON; raises RuleInvalid listing every problem."""
    errors: dict[str, str] = {}
    if _holds_nul(data):
        # PostgreSQL's text columns refuse NUL, and no rule needs one.
        raise RuleInvalid({"rule": "must not contain NUL characters"})
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "a rule needs a name"
    conditions = _entries(data.get("conditions"), "conditions", TRIGGER_IDS, errors)
    filters = _entries(data.get("filters"), "filters", FILTER_IDS, errors)
    actions = _entries(data.get("actions"), "actions", ACTION_IDS, errors)
    # Sentry's older API mixed filters into `conditions`; sort them out as it does.
    filters += tuple(c for c in conditions if c["id"] in FILTER_IDS)
    conditions = tuple(c for c in conditions if c["id"] not in FILTER_IDS)
    action_match = _choice(data.get("actionMatch", "all"), MATCHES, "actionMatch", errors)
    filter_match = _choice(data.get("filterMatch", "all"), MATCHES, "filterMatch", errors)
    frequency = _frequency(data.get("frequency", DEFAULT_FREQUENCY), errors)
    environment = str(data.get("environment") or "").strip() or None
    status = _choice(data.get("status", "active"), ("active", "disabled"), "status", errors)
    for index, condition in enumerate(conditions):
        _check_trigger(condition, f"conditions[{index}]", errors)
    for index, rule_filter in enumerate(filters):
        _check_filter(rule_filter, f"filters[{index}]", errors)
    for index, action in enumerate(actions):
        for key, message in _action_problems(action).items():
            errors[f"actions[{index}].{key}"] = message
    if errors:
        raise RuleInvalid(errors)
    return RuleSpec(
        name, conditions, filters, actions, action_match, filter_match, frequency, environment, status
    )


def rule_to_json(rule: Rule, project_slug: str) -> dict[str, Any]:
    """The Sentry API's representation of a rule."""
    return {
        "id": str(rule.id),
        "name": rule.name,
        "conditions": list(rule.conditions),
        "filters": list(rule.filters),
        "actions": list(rule.actions),
        "actionMatch": rule.action_match,
        "filterMatch": rule.filter_match,
        "frequency": rule.frequency,
        "environment": rule.environment,
        "status": rule.status,
        "projects": [project_slug],
        "dateCreated": iso_utc(rule.created_at),
        "owner": None,
        "snooze": False,
    }


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _entries(
    value: object, label: str, known: tuple[str, ...], errors: dict[str, str]
) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors[label] = "must be a list"
        return ()
    entries = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            errors[f"{label}[{index}]"] = 'must be an object with an "id"'
        elif entry["id"] not in known and entry["id"] not in FILTER_IDS:
            errors[f"{label}[{index}].id"] = f"unknown id {entry['id']!r}"
        else:
            entries.append(dict(entry))
    return tuple(entries)


def _choice(value: object, choices: tuple[str, ...], label: str, errors: dict[str, str]) -> str:
    if value not in choices:
        errors[label] = f"must be one of {', '.join(choices)}"
        return choices[0]
    return str(value)


def _frequency(value: object, errors: dict[str, str]) -> int:
    low, high = FREQUENCY_MINUTES
    number = _int(value)
    if number is None or not low <= number <= high:
        errors["frequency"] = f"must be a whole number of minutes from {low} to {high}"
        return DEFAULT_FREQUENCY
    return number


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _check_trigger(condition: dict[str, Any], label: str, errors: dict[str, str]) -> None:
    if condition["id"] == SESSION_PERCENT:
        _check_percent(condition, label, errors)
        return
    if condition["id"] not in (EVENT_FREQUENCY, USER_FREQUENCY):
        return
    if condition.get("interval") not in INTERVALS:
        errors[f"{label}.interval"] = f"must be one of {', '.join(INTERVALS)}"
    value = _int(condition.get("value"))
    if value is None or value < 0:
        errors[f"{label}.value"] = "must be a whole number ≥ 0"
    if condition.get("comparisonType", "count") != "count":
        errors[f"{label}.comparisonType"] = "only count is supported"


def _check_percent(condition: dict[str, Any], label: str, errors: dict[str, str]) -> None:
    if condition.get("interval") not in PERCENT_INTERVALS:
        errors[f"{label}.interval"] = f"must be one of {', '.join(PERCENT_INTERVALS)}"
    value = percent_value(condition.get("value"))
    if value is None or not 0 <= value <= 100:
        errors[f"{label}.value"] = "must be a percentage from 0 to 100"
    if condition.get("comparisonType", "count") != "count":
        errors[f"{label}.comparisonType"] = "only count is supported"


def percent_value(value: object) -> float | None:
    """A percent condition's value as stored: a number or a numeric string (Sentry takes decimals)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _check_filter(rule_filter: dict[str, Any], label: str, errors: dict[str, str]) -> None:
    check = _FILTER_CHECKS.get(rule_filter["id"])
    if check is not None:
        for key, message in check(rule_filter).items():
            errors[f"{label}.{key}"] = message


def _tag_problems(rule_filter: dict[str, Any]) -> dict[str, str]:
    problems = _match_problems(rule_filter)
    if not str(rule_filter.get("key") or "").strip():
        problems["key"] = "a tag key is needed"
    return problems


def _attribute_problems(rule_filter: dict[str, Any]) -> dict[str, str]:
    problems = _match_problems(rule_filter)
    if rule_filter.get("attribute") not in ATTRIBUTE_NAMES:
        problems["attribute"] = f"must be one of {', '.join(ATTRIBUTE_NAMES)}"
    return problems


def _match_problems(rule_filter: dict[str, Any]) -> dict[str, str]:
    if rule_filter.get("match") not in TAG_MATCHES:
        return {"match": f"must be one of {', '.join(TAG_MATCHES)}"}
    return {}


def _level_problems(rule_filter: dict[str, Any]) -> dict[str, str]:
    problems = {}
    if rule_filter.get("match") not in LEVEL_MATCHES:
        problems["match"] = "must be one of eq, gte, lte"
    if level_number(rule_filter.get("level")) is None:
        problems["level"] = "must be a level name or number (fatal=50 … debug=10)"
    return problems


def _age_problems(rule_filter: dict[str, Any]) -> dict[str, str]:
    problems = _number_problems(rule_filter)
    if rule_filter.get("comparison_type") not in ("older", "newer"):
        problems["comparison_type"] = "must be older or newer"
    if rule_filter.get("time") not in AGE_UNITS:
        problems["time"] = f"must be one of {', '.join(AGE_UNITS)}"
    return problems


def _number_problems(rule_filter: dict[str, Any]) -> dict[str, str]:
    return {} if _int(rule_filter.get("value")) is not None else {"value": "must be a whole number"}


_FILTER_CHECKS = {
    TAGGED_EVENT: _tag_problems,
    EVENT_ATTRIBUTE: _attribute_problems,
    LEVEL: _level_problems,
    AGE_COMPARISON: _age_problems,
    ISSUE_OCCURRENCES: _number_problems,
}


def _action_problems(action: dict[str, Any]) -> dict[str, str]:
    if action["id"] == NOTIFY_CHANNEL and _int(action.get("channel")) is None:
        return {"channel": "must be the id of a channel"}
    if action["id"] != NOTIFY_EMAIL:
        return {}
    target = action.get("targetType", "IssueOwners")
    if target not in ("IssueOwners", "Member"):
        return {"targetType": "must be IssueOwners or Member"}
    if target == "Member" and _int(action.get("targetIdentifier")) is None:
        return {"targetIdentifier": "must be the id of a member"}
    if action.get("fallthroughType", "AllMembers") not in ("AllMembers", "ActiveMembers", "NoOne"):
        return {"fallthroughType": "must be AllMembers, ActiveMembers or NoOne"}
    return {}


def level_number(value: object) -> int | None:
    """Sentry stores a level filter's level as its number ("40"); names are accepted too."""
    if isinstance(value, str) and value.lower() in LEVELS:
        return LEVELS[value.lower()]
    number = _int(value)
    return number if number in LEVELS.values() else None


def level_name(number: int) -> str:
    return next((name for name, value in LEVELS.items() if value == number), str(number))


def whole_number(value: object, default: int = 0) -> int:
    """A condition's numeric field as stored (an int or a numeric string)."""
    number = _int(value)
    return default if number is None else number
