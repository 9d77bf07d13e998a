"""Notification channels in the UI: each kind's form validated by the kind's own check, "Send test
notification" against a real HTTP receiver, a channel disabled by a permanent delivery error shown
with its reason and re-enabled, secrets kept but never shown, delete after a confirmation that
names the rules using the channel, and every form refusing a post without the CSRF token."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shoal.store.schema import alert_rule, channel
from tests.support.browser_login import log_in
from tests.support.form_client import FormClient
from tests.support.server import RunningShoal, start_shoal, wait_until
from tests.support.ui_issues import new_issue

# What the receiver answers on each path.
ANSWERS = {"/ok": 200, "/down": 500, "/gone": 404}


@dataclass
class Receiver:
    """A real HTTP server on loopback that records each POST."""

    url: str
    posts: list[tuple[str, bytes]] = field(default_factory=list)

    def bodies(self, path: str) -> list[dict[str, object]]:
        return [orjson.loads(body) for where, body in list(self.posts) if where == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            found.posts.append((self.path, body))
            self.send_response(ANSWERS.get(self.path, 404))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    # Webhooks to private and loopback addresses are refused unless allowed (SSRF); the receiver
    # of these tests lives on loopback.
    server = start_shoal(
        tmp_path_factory.mktemp("channels-ui") / "data", extra_env={"SHOAL_OUTBOUND_ALLOW": "127.0.0.1"}
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


CHANNELS = "/organizations/1/channels"


def stored(shoal: RunningShoal, name: str) -> dict[str, object] | None:
    with shoal.engine.connect() as conn:
        row = conn.execute(select(channel).where(channel.c.name == name)).mappings().first()
        return dict(row) if row else None


def create(client: FormClient, kind: str, name: str, **config: str) -> int:
    answer = client.post(f"{CHANNELS}/new", {"kind": kind, "name": name, **config})
    assert answer.status == 200 and answer.url.endswith("?notice=saved"), answer.text()[:2000]
    listing = client.fetch(f"{CHANNELS}/").body
    match = re.search(rf'/channels/(\d+)/edit">{re.escape(name)}<', listing)
    assert match, f"{name} is not listed"
    return int(match[1])


# ------------------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_a_webhook_with_a_bad_url_is_refused_beside_the_field_and_saved_once_fixed(
    page: Page, shoal: RunningShoal, receiver: Receiver
) -> None:
    log_in(page, shoal)
    page.get_by_role("link", name="Channels").click()
    page.get_by_role("link", name="New channel").click()
    page.get_by_role("link", name="Webhook").click()
    page.get_by_label("Name").fill("ops hook")
    page.get_by_label("URL", exact=True).fill("ftp://hooks.example.com/shoal")
    page.get_by_role("button", name="Create channel").click()

    expect(page.locator("#url-error")).to_contain_text("https://")
    expect(page.get_by_label("URL", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("ops hook")
    assert stored(shoal, "ops hook") is None

    page.get_by_label("URL", exact=True).fill(f"{receiver.url}/ok")
    page.get_by_role("button", name="Create channel").click()
    expect(page.locator("p.notice")).to_have_text("Saved.")
    row = page.locator("table.channels tbody tr").filter(has_text="ops hook")
    expect(row).to_contain_text("Webhook")
    expect(row).to_contain_text("enabled")


@pytest.mark.browser
def test_a_test_notification_says_sent_or_shows_the_receivers_error(
    page: Page, shoal: RunningShoal, client: FormClient, receiver: Receiver
) -> None:
    create(client, "webhook", "answers ok", url=f"{receiver.url}/ok")
    create(client, "webhook", "answers 500", url=f"{receiver.url}/down")
    log_in(page, shoal)
    page.goto(f"{shoal.url}{CHANNELS}/")

    page.locator("table.channels tbody tr").filter(has_text="answers ok").get_by_role(
        "button", name="Send test notification"
    ).click()
    expect(page.locator("#test-result")).to_have_text("Test notification sent to “answers ok”.")
    assert any(body.get("kind") == "test" for body in receiver.bodies("/ok"))

    page.locator("table.channels tbody tr").filter(has_text="answers 500").get_by_role(
        "button", name="Send test notification"
    ).click()
    expect(page.locator("#test-result")).to_contain_text("The test notification to “answers 500” failed")
    expect(page.locator("#test-result")).to_contain_text("500")


@pytest.mark.browser
def test_a_channel_disabled_by_a_permanent_error_says_why_and_can_be_enabled_again(
    page: Page, shoal: RunningShoal, client: FormClient, receiver: Receiver
) -> None:
    channel_id = create(client, "webhook", "gone hook", url=f"{receiver.url}/gone")
    rule = {
        "name": "New issue to the gone hook",
        "action_match": "all",
        "filter_match": "all",
        "frequency": "5",
        "status": "active",
        "trigger-0-kind": "first_seen",
        "action-0-kind": "channel",
        "action-0-channel": str(channel_id),
        "op": "save",
    }
    assert client.post(f"/projects/{shoal.project_id}/alerts/new", rule).status == 200
    made = new_issue(shoal, "to a gone hook")
    wait_until(
        lambda: (stored(shoal, "gone hook") or {}).get("enabled") is False, 60, "the channel to be disabled"
    )

    log_in(page, shoal)
    page.goto(f"{shoal.url}{CHANNELS}/")
    expect(page.locator("#disabled-warning")).to_contain_text("“gone hook”")
    row = page.locator("table.channels tbody tr").filter(has_text="gone hook")
    expect(row.locator(".disabled-reason")).to_contain_text("404")

    page.goto(f"{shoal.url}/issues/{made.id}/#alerts")
    expect(page.locator("table.notifications")).to_contain_text("webhook channel “gone hook”")
    expect(page.locator("table.notifications")).to_contain_text("failed")

    page.goto(f"{shoal.url}{CHANNELS}/")
    row.get_by_role("button", name="Re-enable").click()
    expect(page.locator("p.notice")).to_have_text("Enabled again.")
    expect(row).to_contain_text("enabled")
    expect(page.locator("#disabled-warning")).to_have_count(0)
    assert (stored(shoal, "gone hook") or {}).get("enabled") is True


# ---------------------------------------------------------------------------------- plain HTTP


def test_channel_forms_refuse_a_post_without_the_csrf_token(
    shoal: RunningShoal, client: FormClient, receiver: Receiver
) -> None:
    channel_id = create(client, "webhook", "guarded hook", url=f"{receiver.url}/ok")
    posts = [
        (f"{CHANNELS}/new", {"kind": "webhook", "name": "forged hook", "url": f"{receiver.url}/ok"}),
        (f"{CHANNELS}/{channel_id}/edit", {"name": "renamed by a forgery", "url": f"{receiver.url}/ok"}),
        (f"{CHANNELS}/{channel_id}/enable", {}),
        (f"{CHANNELS}/{channel_id}/test", {}),
        (f"{CHANNELS}/{channel_id}/delete", {}),
    ]
    sent_before = len(receiver.posts)
    for path, fields in posts:
        assert client.post(path, fields, with_token=False).status in (400, 403), path
    assert stored(shoal, "forged hook") is None
    assert stored(shoal, "guarded hook") is not None
    assert len(receiver.posts) == sent_before  # the forged test sent nothing


@dataclass(frozen=True)
class BadChannel:
    fields: dict[str, str]
    field: str
    message: str


BAD_CHANNELS = {
    "no-name": BadChannel(
        {"kind": "slack", "name": "", "webhook_url": "https://hooks.slack.com/x"}, "name", "Give"
    ),
    "no-slack-url": BadChannel({"kind": "slack", "name": "slack", "webhook_url": ""}, "webhook_url", "Paste"),
    "bad-email": BadChannel(
        {"kind": "email", "name": "mail", "to": "ops@example.com, nobody"}, "to", "&#39;nobody&#39;"
    ),
    "bad-apprise": BadChannel(
        {"kind": "apprise", "name": "apprise", "url": "nonsense"}, "url", "Apprise does not"
    ),
    "bad-webhook": BadChannel(
        {"kind": "webhook", "name": "hook", "url": "hooks.example.com"}, "url", "Must start with https://"
    ),
}


@pytest.mark.parametrize("case", BAD_CHANNELS.values(), ids=BAD_CHANNELS.keys())
def test_a_channel_with_a_bad_value_is_shown_again_with_the_reason_beside_the_field(
    shoal: RunningShoal, client: FormClient, case: BadChannel
) -> None:
    answer = client.post(f"{CHANNELS}/new", case.fields)
    assert answer.status == 400
    assert re.search(rf'id="{case.field}-error"[^>]*>{re.escape(case.message)}', answer.body), answer.text()[
        :2000
    ]
    assert stored(shoal, case.fields["name"]) is None or case.fields["name"] == ""


def test_two_channels_cannot_share_a_name(shoal: RunningShoal, client: FormClient) -> None:
    create(client, "email", "the team", to="a@example.com")
    answer = client.post(f"{CHANNELS}/new", {"kind": "email", "name": "the team", "to": "b@example.com"})
    assert answer.status == 400
    assert "Another channel of this organization already has this name." in answer.text()


def test_a_webhook_secret_is_kept_when_left_empty_and_never_shown(
    shoal: RunningShoal, client: FormClient, receiver: Receiver
) -> None:
    channel_id = create(client, "webhook", "signed hook", url=f"{receiver.url}/ok", secret="s3cret-value")
    form = client.fetch(f"{CHANNELS}/{channel_id}/edit")
    assert "s3cret-value" not in form.body
    assert "A secret is set; leave this empty to keep it." in form.text()

    renamed = client.post(
        f"{CHANNELS}/{channel_id}/edit", {"name": "signed hook 2", "url": f"{receiver.url}/ok"}
    )
    assert renamed.status == 200
    assert orjson.loads(str((stored(shoal, "signed hook 2") or {})["config"]))["secret"] == "s3cret-value"

    cleared = {"name": "signed hook 2", "url": f"{receiver.url}/ok", "secret": "", "remove_secret": "1"}
    assert client.post(f"{CHANNELS}/{channel_id}/edit", cleared).status == 200
    assert "secret" not in orjson.loads(str((stored(shoal, "signed hook 2") or {})["config"]))


def test_deleting_a_channel_names_the_rules_using_it_and_takes_it_out_of_them(
    shoal: RunningShoal, client: FormClient, receiver: Receiver
) -> None:
    channel_id = create(client, "webhook", "doomed hook", url=f"{receiver.url}/ok")
    rule = {
        "name": "Uses the doomed hook",
        "frequency": "30",
        "trigger-0-kind": "first_seen",
        "action-0-kind": "channel",
        "action-0-channel": str(channel_id),
        "action-1-kind": "email",
        "action-1-targetType": "IssueOwners",
        "action-1-fallthroughType": "AllMembers",
        "op": "save",
    }
    assert client.post(f"/projects/{shoal.project_id}/alerts/new", rule).status == 200

    confirm = client.fetch(f"{CHANNELS}/{channel_id}/delete")
    assert "Delete the channel “doomed hook”?" in confirm.text()
    assert "my-project: Uses the doomed hook" in confirm.text()
    assert stored(shoal, "doomed hook") is not None

    deleted = client.post(f"{CHANNELS}/{channel_id}/delete", {})
    assert deleted.status == 200 and deleted.url.endswith("?notice=deleted")
    assert stored(shoal, "doomed hook") is None
    with shoal.engine.connect() as conn:
        actions = conn.execute(
            select(alert_rule.c.actions).where(alert_rule.c.name == "Uses the doomed hook")
        ).scalar_one()
    assert [action["id"].rsplit(".", 1)[1] for action in orjson.loads(actions)] == ["NotifyEmailAction"]
