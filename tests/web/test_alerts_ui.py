"""Alert rules in the UI: a one-click template saved as a rule, rules edited without writing JSON,
"Test this rule" replaying the unsaved rule over stored events, enable / disable, delete after a
confirmation, the decision log, hostile names shown as text, and every form refusing a post without
the CSRF token or with a value the rule check rejects."""

from __future__ import annotations

import re
from collections.abc import Iterator

import orjson
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from shoal.store.schema import alert_rule
from tests.support.browser_login import log_in, record_dialogs
from tests.support.form_client import FormClient, text_of
from tests.support.server import RunningShoal, start_shoal
from tests.support.ui_issues import new_issue

HOSTILE = "<script>alert(1)</script>"

# The editor's fields for "more than 100 events in 1 hour → email the members", as the page posts them.
HIGH_VOLUME = {
    "name": "More than 100 events in 1 hour",
    "environment": "",
    "action_match": "all",
    "filter_match": "all",
    "frequency": "60",
    "status": "active",
    "trigger-0-kind": "event_frequency",
    "trigger-0-value": "100",
    "trigger-0-interval": "1h",
    "action-0-kind": "email",
    "action-0-targetType": "IssueOwners",
    "action-0-targetIdentifier": "",
    "action-0-fallthroughType": "AllMembers",
}


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("alerts-ui") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


def rules_named(shoal: RunningShoal, name: str) -> list[dict[str, object]]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(select(alert_rule).where(alert_rule.c.name == name)).mappings().all()
        return [dict(row) for row in rows]


def rule_count(shoal: RunningShoal) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(alert_rule)).scalar_one())


def new_rule_url(shoal: RunningShoal) -> str:
    return f"/projects/{shoal.project_id}/alerts/new"


def saved_rule(shoal: RunningShoal, client: FormClient, name: str) -> int:
    answer = client.post(new_rule_url(shoal), {**HIGH_VOLUME, "name": name, "op": "save"})
    assert answer.status == 200, answer.text()[:2000]
    match = re.search(r"/alerts/(\d+)/\?notice=saved$", answer.url)
    assert match, answer.url
    return int(match[1])


# ------------------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_the_more_than_100_in_1_hour_template_is_saved_as_a_rule(page: Page, shoal: RunningShoal) -> None:
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/alerts/")
    page.get_by_role("link", name="New rule").click()
    page.get_by_role("link", name="An issue is seen more than 100 times in 1 hour").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("More than 100 events in 1 hour")
    trigger = page.locator("#triggers .rule-row").first
    expect(trigger.get_by_label("Number of events")).to_have_value("100")
    expect(trigger.get_by_label("Interval")).to_have_value("1h")
    expect(page.get_by_label("Act at most once per issue every")).to_have_value("60")

    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("p.notice")).to_contain_text("Saved")
    expect(page.locator("h1")).to_have_text("More than 100 events in 1 hour")
    summary = page.locator(".rule-summary")
    expect(summary).to_contain_text("When the issue is seen more than 100 times in 1 hour")
    expect(summary).to_contain_text("email the assignee, or every member when unassigned")
    expect(summary).to_contain_text("at most once every 1 hour per issue")

    page.get_by_role("link", name="Alert rules").click()
    row = page.locator("table.rules tbody tr").filter(has_text="More than 100 events in 1 hour")
    expect(row).to_contain_text("1 hour")
    expect(row).to_contain_text("enabled")
    expect(row).to_contain_text("never")
    [stored] = rules_named(shoal, "More than 100 events in 1 hour")
    assert orjson.loads(str(stored["conditions"])) == [
        {
            "id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
            "comparisonType": "count",
            "value": 100,
            "interval": "1h",
        }
    ]


@pytest.mark.browser
def test_testing_a_rule_shows_when_it_would_have_fired(page: Page, shoal: RunningShoal) -> None:
    first, second = new_issue(shoal, "replay first"), new_issue(shoal, "replay second")
    before = rule_count(shoal)
    log_in(page, shoal)
    page.goto(f"{shoal.url}{new_rule_url(shoal)}?template=new_issue")
    page.get_by_role("button", name="Test this rule").click()

    expect(page.locator("#replay-summary")).to_contain_text("Replayed")
    firings = page.locator("table.replay-firings tbody tr")
    for made in (first, second):
        row = firings.filter(has_text=made.title)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("a new issue was created")
    events = int(page.locator("#replay-summary strong").first.inner_text().replace(",", ""))
    assert events >= 2
    assert rule_count(shoal) == before  # a test saves nothing


@pytest.mark.browser
def test_a_hostile_rule_name_renders_as_text_and_runs_nothing(page: Page, shoal: RunningShoal) -> None:
    dialogs = record_dialogs(page)
    log_in(page, shoal)
    page.goto(f"{shoal.url}{new_rule_url(shoal)}?template=critical")
    page.get_by_label("Name", exact=True).fill(HOSTILE)
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("h1")).to_have_text(HOSTILE)
    page.get_by_role("link", name="Alert rules").click()
    expect(page.locator("a.rule-name").filter(has_text=HOSTILE)).to_have_count(1)
    page.wait_for_load_state("load")
    assert dialogs == []
    assert page.locator("main script").count() == 0


@pytest.mark.browser
def test_triggers_and_filters_are_edited_without_writing_json(page: Page, shoal: RunningShoal) -> None:
    log_in(page, shoal)
    page.goto(f"{shoal.url}{new_rule_url(shoal)}")
    page.get_by_label("Name", exact=True).fill("Many users, critical")
    page.get_by_label("Add a trigger").select_option(
        label="The issue is seen by more than N users in an interval"
    )
    page.get_by_role("button", name="Add trigger").click()
    users = page.locator("#triggers .rule-row").nth(1)
    users.get_by_label("Number of users").fill("5")
    users.get_by_label("Interval").select_option("1d")
    page.get_by_label("Fire when").select_option("any")

    page.get_by_label("Add a filter").select_option(label="The event's tag matches")
    page.get_by_role("button", name="Add filter").click()
    tag = page.locator("#filters .rule-row").nth(0)
    tag.get_by_label("Tag key").fill("severity")
    tag.get_by_label("Match").select_option(label="equals")
    tag.get_by_label("Tag value").fill("critical")
    page.get_by_label("Add a filter").select_option(label="The event's level")
    page.get_by_role("button", name="Add filter").click()
    page.locator("#filters .rule-row").nth(1).get_by_label("Level").select_option(label="error")
    page.get_by_role("button", name="Save rule").click()

    summary = page.locator(".rule-summary")
    expect(summary).to_contain_text(
        "When any of: a new issue is created; the issue is seen by more than 5 users in 1 day"
    )
    expect(summary).to_contain_text("If all of: tag severity equals critical; the level ≥ error")
    [stored] = rules_named(shoal, "Many users, critical")
    assert stored["action_match"] == "any"
    assert [f["id"].rsplit(".", 1)[1] for f in orjson.loads(str(stored["filters"]))] == [
        "TaggedEventFilter",
        "LevelFilter",
    ]


@pytest.mark.browser
def test_a_rule_is_disabled_and_then_deleted_after_a_confirmation(page: Page, shoal: RunningShoal) -> None:
    log_in(page, shoal)
    page.goto(f"{shoal.url}{new_rule_url(shoal)}?template=new_issue")
    page.get_by_label("Name", exact=True).fill("Short-lived rule")
    page.get_by_role("button", name="Save rule").click()
    page.get_by_role("button", name="Disable").click()
    expect(page.locator("#rule-status")).to_have_text("disabled")
    assert rules_named(shoal, "Short-lived rule")[0]["status"] == "disabled"

    page.get_by_role("link", name="Delete…").click()
    expect(page.locator("h1")).to_have_text("Delete the rule “Short-lived rule”?")
    assert rules_named(shoal, "Short-lived rule")  # asking is not deleting
    page.get_by_role("button", name="Delete rule").click()
    expect(page.locator("p.notice")).to_have_text("The rule was deleted.")
    assert rules_named(shoal, "Short-lived rule") == []


# ---------------------------------------------------------------------------------- plain HTTP


def test_rule_forms_refuse_a_post_without_the_csrf_token(shoal: RunningShoal, client: FormClient) -> None:
    rule_id = saved_rule(shoal, client, "Guarded rule")
    base = f"/projects/{shoal.project_id}/alerts"
    posts = [
        (f"{base}/new", {**HIGH_VOLUME, "name": "Forged rule", "op": "save"}),
        (f"{base}/new", {**HIGH_VOLUME, "op": "test"}),
        (f"{base}/{rule_id}/edit", {**HIGH_VOLUME, "name": "Renamed by a forgery", "op": "save"}),
        (f"{base}/{rule_id}/status", {"status": "disabled"}),
        (f"{base}/{rule_id}/delete", {}),
    ]
    for path, fields in posts:
        assert client.post(path, fields, with_token=False).status in (400, 403), path
    assert rules_named(shoal, "Forged rule") == []
    [guarded] = rules_named(shoal, "Guarded rule")
    assert guarded["status"] == "active"


def test_a_rule_with_bad_values_is_shown_again_with_each_message_by_its_field(
    shoal: RunningShoal, client: FormClient
) -> None:
    before = rule_count(shoal)
    fields = {**HIGH_VOLUME, "name": "", "trigger-0-value": "lots", "op": "save"}
    answer = client.post(new_rule_url(shoal), fields)
    assert answer.status == 400
    assert re.search(r'id="name-error"[^>]*>a rule needs a name<', answer.body)
    assert re.search(r'id="conditions-0-value-error"[^>]*>must be a whole number ≥ 0<', answer.body)
    assert 'name="trigger-0-value" value="lots"' in answer.body  # what was typed stays
    assert "Trigger 1, value: must be a whole number" in answer.text()  # and the summary says where
    assert rule_count(shoal) == before


def test_an_action_to_a_channel_that_does_not_exist_is_refused(
    shoal: RunningShoal, client: FormClient
) -> None:
    fields = {**HIGH_VOLUME, "name": "To nowhere", "action-0-kind": "channel", "action-0-channel": "424242"}
    answer = client.post(new_rule_url(shoal), {**fields, "op": "save"})
    assert answer.status == 400
    assert re.search(r'id="actions-0-channel-error"[^>]*>choose one of the organization', answer.body)
    assert rules_named(shoal, "To nowhere") == []


def test_a_test_with_bad_values_replays_nothing_and_says_why(shoal: RunningShoal, client: FormClient) -> None:
    answer = client.post(new_rule_url(shoal), {**HIGH_VOLUME, "trigger-0-interval": "2h", "op": "test"})
    assert answer.status == 400
    assert 'id="replay"' not in answer.body
    assert re.search(r'id="conditions-0-interval-error"[^>]*>must be one of 1m', answer.body)


def test_the_advanced_json_loads_into_the_form_and_bad_json_is_explained(
    shoal: RunningShoal, client: FormClient
) -> None:
    rule = {
        "name": "From JSON",
        "conditions": [{"id": "sentry.rules.conditions.every_event.EveryEventCondition"}],
        "filters": [{"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "50"}],
        "actions": [
            {"id": "sentry.rules.actions.notify_event_service.NotifyEventServiceAction", "service": "mail"}
        ],
        "frequency": 15,
    }
    loaded = client.post(
        new_rule_url(shoal), {**HIGH_VOLUME, "op": "json", "json": orjson.dumps(rule).decode()}
    )
    assert loaded.status == 200
    assert 'name="filter-0-kind" value="level"' in loaded.body
    assert re.search(r'<option value="50" selected>fatal</option>', loaded.body)
    assert re.search(
        r'<option value="15" selected>15 minutes</option>', loaded.body
    )  # an API interval is kept
    assert 'name="action-0-kind" value="raw"' in loaded.body  # kept as it is, not dropped

    broken = client.post(new_rule_url(shoal), {**HIGH_VOLUME, "op": "json", "json": "{name: oops"})
    assert broken.status == 400
    assert re.search(r'id="json-error"[^>]*>This is not valid JSON', broken.body)


def test_the_rule_page_shows_its_decision_log(shoal: RunningShoal, client: FormClient) -> None:
    """The project's starting rule ("a new issue is created → email the members") decides on every
    new issue; its page lists the decision with the issue and the reason."""
    made = new_issue(shoal, "logged decision")
    [starting] = rules_named(shoal, "New issue")
    page = client.fetch(f"/projects/{shoal.project_id}/alerts/{starting['id']}/")
    assert page.status == 200
    row = next(r for r in page.body.split("<tr") if made.title in r)
    assert "fired" in text_of(row)
    assert "a new issue was created" in text_of(row)


def test_the_rule_list_says_what_each_rule_does(shoal: RunningShoal, client: FormClient) -> None:
    saved_rule(shoal, client, "Listed rule")
    listing = client.fetch(f"/projects/{shoal.project_id}/alerts/").text()
    assert "Listed rule When the issue is seen more than 100 times in 1 hour" in listing
