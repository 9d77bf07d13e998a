"""An alert rule in words, for the rule list and the rule page: "When the issue is seen more than 100
times in 1 hour · if tag level equals critical · then email the assignee, or every member".

Rule fields can come from the API (anyone with a token); everything here is plain text for the
template to escape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shoal.alerts import model
from shoal.web.rule_form import INTERVAL_LABELS, PERCENT_INTERVAL_LABELS
from shoal.web.triage_view import minutes_words


@dataclass(frozen=True)
class RuleWords:
    triggers: str
    filters: str
    actions: list[str]
    interval: str


def describe(
    rule: model.RuleSpec, channel_names: Mapping[int, str], member_emails: Mapping[int, str]
) -> RuleWords:
    triggers = [trigger_words(c) for c in rule.conditions]
    filters = [filter_words(f, member_emails) for f in rule.filters]
    environment = f" in environment {rule.environment}" if rule.environment else ""
    return RuleWords(
        triggers=_joined("When", rule.action_match, triggers, "When any event is captured") + environment,
        filters=_joined("If", rule.filter_match, filters, ""),
        actions=[action_words(a, channel_names, member_emails) for a in rule.actions]
        or ["no action: decisions are only logged"],
        interval=f"at most once every {minutes_words(rule.frequency)} per issue",
    )


def _joined(head: str, match: str, parts: list[str], empty: str) -> str:
    if not parts:
        return empty
    if len(parts) == 1:
        return f"{head} {'not ' if match == 'none' else ''}{parts[0]}"
    lead = {"all": "all of", "any": "any of", "none": "none of"}.get(match, match)
    return f"{head} {lead}: " + "; ".join(parts)


def trigger_words(condition: dict[str, Any]) -> str:
    kind = condition.get("id")
    if kind in (model.EVENT_FREQUENCY, model.USER_FREQUENCY):
        interval = INTERVAL_LABELS.get(str(condition.get("interval")), str(condition.get("interval")))
        what = "times" if kind == model.EVENT_FREQUENCY else "users"
        by = "" if kind == model.EVENT_FREQUENCY else "by "
        return f"the issue is seen {by}more than {condition.get('value')} {what} in {interval}"
    if kind == model.SESSION_PERCENT:
        interval = PERCENT_INTERVAL_LABELS.get(str(condition.get("interval")), str(condition.get("interval")))
        return f"the issue affects more than {condition.get('value')} % of sessions in {interval}"
    return _TRIGGER_WORDS.get(str(kind), f"{kind}")


_TRIGGER_WORDS = {
    model.FIRST_SEEN: "a new issue is created",
    model.REGRESSION: "a resolved issue comes back",
    model.REAPPEARED: "an ignored issue escalates",
    model.EVERY_EVENT: "an event is captured",
}


def filter_words(rule_filter: dict[str, Any], member_emails: Mapping[int, str]) -> str:
    words = _FILTER_WORDS.get(str(rule_filter.get("id")))
    if words is None:
        return str(rule_filter.get("id"))
    return words(rule_filter, member_emails)


def _matching(label: str, rule_filter: dict[str, Any]) -> str:
    match = str(rule_filter.get("match"))
    words = f"{label} {model.TAG_MATCHES.get(match, match)}"
    return words if match in ("is", "ns") else f"{words} {rule_filter.get('value', '')}"


def _level(rule_filter: dict[str, Any], _members: Mapping[int, str]) -> str:
    number = model.level_number(rule_filter.get("level"))
    name = model.level_name(number) if number is not None else str(rule_filter.get("level"))
    match = str(rule_filter.get("match"))
    return f"the level {model.LEVEL_MATCHES.get(match, match)} {name}"


def _age(rule_filter: dict[str, Any], _members: Mapping[int, str]) -> str:
    older = "older" if rule_filter.get("comparison_type") == "older" else "newer"
    return f"the issue is {older} than {rule_filter.get('value')} {rule_filter.get('time')}(s)"


def _assigned(rule_filter: dict[str, Any], members: Mapping[int, str]) -> str:
    if rule_filter.get("targetType") == "Unassigned":
        return "the issue is unassigned"
    wanted = model.whole_number(rule_filter.get("targetIdentifier"), -1)
    return f"the issue is assigned to {members.get(wanted, f'user #{wanted}')}"


_FILTER_WORDS: dict[str, Callable[[dict[str, Any], Mapping[int, str]], str]] = {
    model.TAGGED_EVENT: lambda f, _m: _matching(f"tag {f.get('key')}", f),
    model.EVENT_ATTRIBUTE: lambda f, _m: _matching(f"the event's {f.get('attribute')}", f),
    model.LEVEL: _level,
    model.AGE_COMPARISON: _age,
    model.ISSUE_OCCURRENCES: lambda f, _m: f"the issue has happened at least {f.get('value')} times",
    model.LATEST_RELEASE: lambda _f, _m: "the event is from the latest release",
    model.ASSIGNED_TO: _assigned,
}


def action_words(action: dict[str, Any], channel_names: Mapping[int, str], members: Mapping[int, str]) -> str:
    kind = action.get("id")
    if kind == model.NOTIFY_CHANNEL:
        channel_id = model.whole_number(action.get("channel"), -1)
        return f"send to channel “{channel_names.get(channel_id, f'#{channel_id} (deleted)')}”"
    if kind == model.NOTIFY_SERVICE:
        service = action.get("service")
        return "email every member" if service == "mail" else f"send to channel “{service}”"
    if kind == model.NOTIFY_EMAIL:
        return _email_words(action, members)
    return str(kind)


def _email_words(action: dict[str, Any], members: Mapping[int, str]) -> str:
    target = action.get("targetType", "IssueOwners")
    if target == "Member":
        wanted = model.whole_number(action.get("targetIdentifier"), -1)
        return f"email {members.get(wanted, f'user #{wanted}')}"
    if target == "IssueOwners":
        if action.get("fallthroughType") == "NoOne":
            return "email the assignee (nobody when unassigned)"
        return "email the assignee, or every member when unassigned"
    return "email every member"
