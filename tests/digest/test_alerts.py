"""Alert rules as the digest applies them, on SQLite and PostgreSQL: which events fire which rule,
how often, and what the decision log says when a rule does not fire."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from shoal.alerts import model
from shoal.alerts.templates import TEMPLATES
from shoal.store import users
from shoal.store.db import write_transaction
from tests.support.alerting import MEMBER, DigestHarness, error_event

CHANNEL_ACTION = {"id": model.NOTIFY_EMAIL, "targetType": "IssueOwners", "fallthroughType": "AllMembers"}


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> DigestHarness:
    return DigestHarness(engine, tmp_path)


def test_a_new_project_alerts_once_per_new_issue_by_default(harness: DigestHarness) -> None:
    first = error_event()
    harness.send(first)
    harness.send(*(error_event() for _ in range(50)))
    sent = harness.sent()
    assert [(s.kind, s.rule_name) for s in sent] == [("new_issue", "New issue")]
    assert sent[0].target == {"kind": "email", "config": {"to": [MEMBER]}}
    issue_id = harness.issue_of(first["event_id"])
    # Inside the action interval the rule is skipped before it is evaluated (Sentry's order) …
    assert harness.decisions(issue_id)[0].reason == "throttled: last sent 0 min ago, interval 30 min"
    harness.clock.advance(31 * 60)
    harness.send(error_event())
    # … after it, the event is evaluated and is simply not the issue's first.
    assert (harness.decisions(issue_id)[0].fired, harness.decisions(issue_id)[0].reason) == (
        False,
        "not a new issue",
    )
    assert len(harness.sent()) == 1


def test_two_new_issues_in_one_batch_alert_once_each(harness: DigestHarness) -> None:
    harness.send(error_event("KeyError"), error_event("KeyError"), error_event("TypeError"))
    assert sorted(s.kind for s in harness.sent()) == ["new_issue", "new_issue"]


def test_more_than_100_in_an_hour_fires_on_the_101st_event_and_not_before(harness: DigestHarness) -> None:
    harness.only_rule(TEMPLATES["high_volume"])
    first = error_event()
    harness.send(first)
    for _ in range(99):
        harness.clock.advance(30)  # 100 events over 50 minutes
        harness.send(error_event())
    issue_id = harness.issue_of(first["event_id"])
    assert harness.sent() == []
    assert harness.decisions(issue_id)[0].reason == "frequency 100 ≤ 100 in 1h"
    harness.clock.advance(30)
    harness.send(error_event())
    assert [s.rule_name for s in harness.sent()] == ["More than 100 events in 1 hour"]
    assert harness.decisions(issue_id)[0].reason == "frequency 101 > 100 in 1h"
    harness.clock.advance(30)
    harness.send(error_event())
    assert len(harness.sent()) == 1
    assert harness.decisions(issue_id)[0].reason.startswith("throttled: last sent 0 min ago, interval 1 h")


def test_events_older_than_the_window_do_not_count(harness: DigestHarness) -> None:
    harness.only_rule({**TEMPLATES["high_volume"], "conditions": [_frequency("1m", 2)]})
    first = error_event()
    harness.send(first, error_event())
    harness.clock.advance(180)
    harness.send(error_event(), error_event())
    assert harness.sent() == []
    harness.send(error_event())
    assert len(harness.sent()) == 1


def test_the_first_event_of_a_new_issue_never_passes_a_frequency_above_one(harness: DigestHarness) -> None:
    harness.only_rule({"name": "burst", "conditions": [_frequency("1h", 2)], "actions": [CHANNEL_ACTION]})
    harness.send(error_event(), error_event(), error_event())
    # Three events in one batch: the first is "new" and cannot pass, the third makes it 3 > 2.
    assert len(harness.sent()) == 1
    harness.only_rule({"name": "any event", "conditions": [_frequency("1h", 0)], "actions": [CHANNEL_ACTION]})
    harness.send(error_event("KeyError"))
    assert harness.sent()[-1].rule_name == "any event"


def test_a_level_critical_tag_alerts_once_within_the_action_interval(harness: DigestHarness) -> None:
    harness.only_rule(TEMPLATES["critical"])
    harness.send(error_event(tags={"domain": "payments"}))
    assert harness.sent() == []
    critical = error_event(tags={"level": "critical", "domain": "payments"})
    harness.send(critical)
    harness.clock.advance(60)
    harness.send(error_event(tags={"level": "critical"}))
    assert [s.kind for s in harness.sent()] == ["alert"]
    issue_id = harness.issue_of(critical["event_id"])
    assert harness.decisions(issue_id)[0].reason == "throttled: last sent 1 min ago, interval 5 min"
    harness.clock.advance(5 * 60)
    harness.send(error_event(tags={"level": "critical"}))
    assert len(harness.sent()) == 2


def test_a_failed_filter_says_which_and_what_it_saw(harness: DigestHarness) -> None:
    level_filter = {"id": model.LEVEL, "match": "gte", "level": "40"}
    harness.only_rule(
        {"name": "errors", "conditions": [], "filters": [level_filter], "actions": [CHANNEL_ACTION]}
    )
    warning = error_event(level="warning")
    harness.send(warning)
    assert (
        harness.decisions(harness.issue_of(warning["event_id"]))[0].reason == "level ≥ error failed: warning"
    )


def test_any_and_none_combine_triggers(harness: DigestHarness) -> None:
    harness.only_rule(
        {
            "name": "new or busy",
            "actionMatch": "any",
            "conditions": [{"id": model.FIRST_SEEN}, _frequency("1h", 3)],
            "actions": [CHANNEL_ACTION],
            "frequency": 5,
        }
    )
    harness.send(error_event())
    harness.clock.advance(600)
    harness.send(error_event(), error_event(), error_event())
    assert [s.kind for s in harness.sent()] == ["new_issue", "alert"]


def test_a_rule_scoped_to_an_environment_ignores_the_others(harness: DigestHarness) -> None:
    harness.only_rule({**TEMPLATES["new_issue"], "environment": "production"})
    staging = error_event("KeyError", environment="staging")
    harness.send(staging)
    harness.send(error_event("TypeError", environment="production"))
    assert len(harness.sent()) == 1
    reason = harness.decisions(harness.issue_of(staging["event_id"]))[0].reason
    assert reason == "environment staging is not production"


def test_a_disabled_rule_is_not_evaluated(harness: DigestHarness) -> None:
    harness.only_rule({**TEMPLATES["new_issue"], "status": "disabled"})
    harness.send(error_event())
    assert harness.sent() == []


def _frequency(interval: str, value: int) -> dict[str, object]:
    return {"id": model.EVENT_FREQUENCY, "interval": interval, "value": value, "comparisonType": "count"}


def test_a_rule_sending_to_a_deleted_channel_still_digests_and_says_nobody_was_notified(
    harness: DigestHarness,
) -> None:
    harness.only_rule({**TEMPLATES["new_issue"], "actions": [{"id": model.NOTIFY_CHANNEL, "channel": 999}]})
    first = error_event()
    harness.send(first)
    assert harness.sent() == []
    reason = harness.decisions(harness.issue_of(first["event_id"]))[0].reason
    assert reason == "a new issue was created; but no action had anyone to notify"


def test_an_event_attribute_filter_compares_every_exception_of_the_event(harness: DigestHarness) -> None:
    attribute = {
        "id": model.EVENT_ATTRIBUTE,
        "attribute": "exception.type",
        "match": "eq",
        "value": "keyerror",
    }
    harness.only_rule(
        {"name": "key errors", "conditions": [], "filters": [attribute], "actions": [CHANNEL_ACTION]}
    )
    harness.send(error_event("TypeError"))
    key_error = error_event("KeyError")
    harness.send(key_error)
    assert [s.rule_name for s in harness.sent()] == ["key errors"]
    type_error_issue = harness.decisions(harness.issue_of(key_error["event_id"]) - 1)[0]
    assert type_error_issue.reason == "exception.type equals keyerror failed: TypeError"


def test_an_organization_of_more_than_fifty_members_gets_the_alert_in_several_emails(
    harness: DigestHarness,
) -> None:
    with write_transaction(harness.engine) as conn:
        for n in range(60):
            member = users.create_user(conn, f"member{n}@example.com", "a long enough password")
            users.add_membership(conn, 1, member.id, "member")
    harness.send(error_event())
    recipients = [s.target["config"]["to"] for s in harness.sent()]
    assert [len(batch) for batch in recipients] == [50, 11]  # 60 new members and the first one
    assert len({email for batch in recipients for email in batch}) == 61
