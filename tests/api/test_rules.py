"""Issue alert rules over `/api/0/projects/{org}/{project}/rules/`, in Sentry's shape, on a running
`shoal run` with a token from `shoal token create`."""

from __future__ import annotations

from typing import Any

from shoal.bootstrap import default_organization_id
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects
from shoal.store.db import write_transaction
from tests.api.client import RULES, Api, create_token, items, links, record, without_rules
from tests.support.server import RunningShoal

FIRST_SEEN = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
FREQUENCY = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
TAGGED = "sentry.rules.filters.tagged_event.TaggedEventFilter"
EMAIL = "sentry.mail.actions.NotifyEmailAction"


def busy_checkout_rule(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Checkout is busy",
        "actionMatch": "any",
        "filterMatch": "all",
        "conditions": [{"id": FIRST_SEEN}, {"id": FREQUENCY, "interval": "1h", "value": 100}],
        "filters": [{"id": TAGGED, "key": "route", "match": "eq", "value": "/checkout"}],
        "actions": [{"id": EMAIL, "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}],
        "frequency": 60,
        "environment": "production",
        **changes,
    }


def test_a_rule_is_created_read_listed_replaced_and_deleted_in_sentrys_shape(
    shoal_on_each_store: RunningShoal,
) -> None:
    api = without_rules(Api(shoal_on_each_store, create_token(shoal_on_each_store)))
    created = api.post(RULES, busy_checkout_rule())
    assert created.status == 201, created.body
    rule = record(created)
    assert rule["id"].isdigit()
    assert {k: rule[k] for k in ("name", "actionMatch", "filterMatch", "frequency", "environment")} == {
        "name": "Checkout is busy",
        "actionMatch": "any",
        "filterMatch": "all",
        "frequency": 60,
        "environment": "production",
    }
    assert rule["conditions"] == busy_checkout_rule()["conditions"]
    assert rule["filters"] == busy_checkout_rule()["filters"]
    assert rule["actions"] == busy_checkout_rule()["actions"]
    assert rule["status"] == "active"
    assert rule["projects"] == ["my-project"]
    assert rule["dateCreated"].endswith("Z")

    detail = f"{RULES}{rule['id']}/"
    assert api.get(detail).json() == rule
    listed = api.get(RULES)
    assert listed.status == 200
    assert listed.json() == [rule]

    replaced = api.put(detail, {"name": "Any new issue", "conditions": [{"id": FIRST_SEEN}]})
    assert replaced.status == 200, replaced.body
    after = record(replaced)
    # PUT replaces the whole rule: what was left out is back to its default.
    assert (after["id"], after["name"], after["filters"], after["environment"]) == (
        rule["id"],
        "Any new issue",
        [],
        None,
    )
    assert (after["actionMatch"], after["frequency"]) == ("all", 30)
    assert api.get(detail).json() == after

    deleted = api.delete(detail)
    assert (deleted.status, deleted.body) == (202, b"")
    assert api.get(detail).status == 404
    assert api.get(RULES).json() == []


def test_the_list_is_newest_first_and_paged_with_sentrys_link_header(shoal: RunningShoal) -> None:
    api = without_rules(Api(shoal, create_token(shoal)))
    ids = [record(api.post(RULES, busy_checkout_rule(name=f"rule {n}")))["id"] for n in range(3)]
    first = api.get(f"{RULES}?per_page=2")
    assert [r["id"] for r in items(first)] == ids[::-1][:2]
    pages = links(first)
    assert (pages["previous"]["results"], pages["next"]["results"]) == ("false", "true")
    second = api.get(pages["next"]["url"])
    assert [r["id"] for r in items(second)] == ids[:1]
    assert links(second)["next"]["results"] == "false"
    assert links(second)["previous"]["results"] == "true"


def test_a_rule_that_does_not_validate_is_refused_naming_each_field(shoal: RunningShoal) -> None:
    api = without_rules(Api(shoal, create_token(shoal)))
    refused = api.post(
        RULES,
        busy_checkout_rule(
            name="",
            conditions=[{"id": FREQUENCY, "interval": "2h", "value": 100}],
            filters=[{"id": TAGGED, "match": "eq", "value": "x"}],
            frequency=1,
        ),
    )
    assert refused.status == 400
    errors = record(refused)
    assert set(errors) == {"name", "conditions[0].interval", "filters[0].key", "frequency"}
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    assert "1h" in errors["conditions[0].interval"][0]
    assert api.get(RULES).json() == []


def test_a_body_that_is_not_a_json_object_is_a_400_in_drfs_words(shoal: RunningShoal) -> None:
    api = Api(shoal, create_token(shoal))
    not_json = api.request("POST", RULES, raw=b"{nope")
    assert not_json.status == 400
    assert str(record(not_json)["detail"]).startswith("JSON parse error")
    a_list = api.request("POST", RULES, raw=b"[]")
    assert a_list.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_a_rule_is_only_found_under_its_own_project(shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        projects.create_project(conn, default_organization_id(conn), "Billing", "python", DEFAULT_CONFIG_ID)
    api = Api(shoal, create_token(shoal))
    rule = record(api.post(RULES, busy_checkout_rule()))
    elsewhere = f"projects/default/billing/rules/{rule['id']}/"
    assert api.get(elsewhere).status == 404
    assert api.put(elsewhere, busy_checkout_rule()).status == 404
    assert api.delete(elsewhere).status == 404
    assert api.get(f"{RULES}{rule['id']}/").status == 200


def test_unknown_projects_paths_and_methods_answer_json(shoal: RunningShoal) -> None:
    api = Api(shoal, create_token(shoal))
    missing = api.get("projects/default/no-such-project/rules/")
    assert (missing.status, missing.json()) == (404, {"detail": "The requested resource does not exist"})
    assert api.get("projects/no-such-org/my-project/rules/").status == 404
    assert api.get("no/such/endpoint/").json() == {"detail": "The requested resource does not exist"}
    # Ids beyond 64 bits cannot name a row: not found, rather than a driver's overflow error.
    assert api.get(f"{RULES}{2**64}/").status == 404
    assert api.get(f"issues/{2**64}/alert-decisions/").status == 404
    assert api.get(f"projects/{2**64}/{2**64}/rules/").status == 404
    patched = api.request("PATCH", RULES, {})
    assert (patched.status, patched.json()) == (405, {"detail": 'Method "PATCH" not allowed.'})
