"""Alert rules in Sentry's JSON shape: what is accepted, what is refused and how the refusal reads."""

from __future__ import annotations

from typing import Any

import pytest

from shoal.alerts import model
from shoal.alerts.model import RuleInvalid, rule_from_json
from shoal.alerts.templates import TEMPLATES, default_project_rule, template_spec


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RuleInvalid) as caught:
        rule_from_json(data)
    return caught.value.errors


def test_the_three_templates_are_valid_rules() -> None:
    for name in TEMPLATES:
        assert template_spec(name).name == TEMPLATES[name]["name"]
    assert default_project_rule().conditions == ({"id": model.FIRST_SEEN},)


def test_sentry_defaults_fill_what_is_left_out() -> None:
    spec = rule_from_json({"name": "r", "conditions": [{"id": model.FIRST_SEEN}]})
    assert (spec.action_match, spec.filter_match, spec.frequency, spec.environment) == (
        "all",
        "all",
        30,
        None,
    )


def test_filters_mixed_into_conditions_are_sorted_out_as_sentry_does() -> None:
    tag = {"id": model.TAGGED_EVENT, "key": "level", "match": "eq", "value": "critical"}
    spec = rule_from_json({"name": "r", "conditions": [{"id": model.FIRST_SEEN}, tag]})
    assert spec.conditions == ({"id": model.FIRST_SEEN},)
    assert spec.filters == (tag,)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"conditions": []}, "name", "a rule needs a name"),
        ({"name": "r", "conditions": [{"id": "nope"}]}, "conditions[0].id", "unknown id 'nope'"),
        ({"name": "r", "conditions": "x"}, "conditions", "must be a list"),
        ({"name": "r", "frequency": 1}, "frequency", "from 5 to 43200"),
        ({"name": "r", "frequency": 50000}, "frequency", "from 5 to 43200"),
        ({"name": "r", "actionMatch": "some"}, "actionMatch", "must be one of all, any, none"),
        (
            {"name": "r", "conditions": [{"id": model.EVENT_FREQUENCY, "interval": "2h", "value": 1}]},
            "conditions[0].interval",
            "must be one of 1m, 5m",
        ),
        (
            {"name": "r", "conditions": [{"id": model.EVENT_FREQUENCY, "interval": "1h", "value": "many"}]},
            "conditions[0].value",
            "whole number",
        ),
        ({"name": "r", "filters": [{"id": model.TAGGED_EVENT, "match": "eq"}]}, "filters[0].key", "tag key"),
        (
            {"name": "r", "filters": [{"id": model.LEVEL, "match": "gt", "level": "40"}]},
            "filters[0].match",
            "eq",
        ),
        (
            {"name": "r", "filters": [{"id": model.LEVEL, "match": "eq", "level": "loud"}]},
            "filters[0].level",
            "level",
        ),
        (
            {"name": "r", "filters": [{"id": model.EVENT_ATTRIBUTE, "attribute": "x", "match": "eq"}]},
            "filters[0].attribute",
            "exception.type",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(data: dict[str, Any], field: str, message: str) -> None:
    errors = errors_of(data)
    assert field in errors
    assert message in errors[field]


def test_levels_may_be_names_or_sentry_numbers() -> None:
    assert model.level_number("40") == model.level_number("error") == 40
    assert model.level_number("41") is None


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"id": model.NOTIFY_CHANNEL, "channel": "slack"}, "actions[0].channel"),
        ({"id": model.NOTIFY_EMAIL, "targetType": "Team"}, "actions[0].targetType"),
        ({"id": model.NOTIFY_EMAIL, "targetType": "Member"}, "actions[0].targetIdentifier"),
    ],
)
def test_a_bad_action_is_refused_naming_the_field(action: dict[str, Any], field: str) -> None:
    assert field in errors_of({"name": "r", "actions": [action]})


def test_a_rule_with_a_nul_character_anywhere_is_refused() -> None:
    assert errors_of({"name": "new\x00issue"}) == {"rule": "must not contain NUL characters"}
    tag = {"id": model.TAGGED_EVENT, "key": "level", "match": "eq", "value": "crit\x00ical"}
    assert "rule" in errors_of({"name": "r", "filters": [tag]})
