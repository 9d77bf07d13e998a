"""Ready-made alert rules: the chapter's three (reference: seed-chapter.txt, "Alert Rules") as
one-click templates in the rule editor, and the rule every new project starts with.

Each template is the Sentry-shaped JSON that `rule_from_json` reads, so a template, a rule made
through the API and a rule saved in the editor are the same thing.
"""

from __future__ import annotations

from typing import Any

from shoal.alerts.model import (
    EVENT_FREQUENCY,
    FIRST_SEEN,
    NOTIFY_EMAIL,
    TAGGED_EVENT,
    RuleSpec,
    rule_from_json,
)

# Sentry's mail action aimed at the owners, falling through to every member: with no
# owners yet (Shoal's owner is the assignee), that is "email the project's members".
EMAIL_MEMBERS: dict[str, Any] = {
    "id": NOTIFY_EMAIL,
    "targetType": "IssueOwners",
    "fallthroughType": "AllMembers",
}

TEMPLATES: dict[str, dict[str, Any]] = {
    "new_issue": {
        "name": "New issue",
        "conditions": [{"id": FIRST_SEEN}],
        "actions": [EMAIL_MEMBERS],
        "frequency": 30,
    },
    "critical": {
        "name": "Critical error (tag level:critical)",
        "conditions": [],
        "filters": [{"id": TAGGED_EVENT, "key": "level", "match": "eq", "value": "critical"}],
        "actions": [EMAIL_MEMBERS],
        # "Immediate" in the chapter's words: the shortest interval Sentry allows.
        "frequency": 5,
    },
    "high_volume": {
        "name": "More than 100 events in 1 hour",
        "conditions": [{"id": EVENT_FREQUENCY, "interval": "1h", "value": 100, "comparisonType": "count"}],
        "actions": [EMAIL_MEMBERS],
        "frequency": 60,
    },
}

TEMPLATE_LABELS = {
    "new_issue": "A new issue is created",
    "critical": "An event is tagged level:critical",
    "high_volume": "An issue is seen more than 100 times in 1 hour",
}


def template_spec(name: str) -> RuleSpec:
    return rule_from_json(TEMPLATES[name])


def default_project_rule() -> RuleSpec:
    """What a new project starts with: "a new issue is created → email the project's members"."""
    return template_spec("new_issue")
