"""API tokens in the UI (Account › API tokens): making a personal or an organization token with
the scopes ticked, seeing it once, using it, revoking it after a confirmation; what a plain member
is offered; and, in Chromium, the whole journey from the account page with the copy button."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects, tokens, users
from shoal.store.db import write_transaction
from tests.api.client import Api, items, record
from tests.support.browser_login import log_in, record_dialogs
from tests.support.form_client import Answer, FormClient, text_of
from tests.support.server import RunningShoal, start_shoal

PAGE = "/account/tokens/"
PASSWORD = "a long enough password"
NEW_TOKEN = re.compile(r'id="new-token-value">([^<]+)<')


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path_factory.mktemp("tokens-ui") / "data")
    with write_transaction(server.engine) as conn:
        other = projects.create_organization(conn, "other", "Other")
        projects.create_project(conn, other, "Theirs", "python", DEFAULT_CONFIG_ID)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(shoal: RunningShoal) -> FormClient:
    return FormClient(shoal)


def make_token(client: FormClient, label: str, scopes: list[str], organization: str = "") -> Answer:
    fields = [("label", label), ("organization", organization), *(("scope", s) for s in scopes)]
    return client.post(PAGE, fields)


def shown_token(answer: Answer) -> str:
    match = NEW_TOKEN.search(answer.body)
    assert match, text_of(answer.body)
    return html.unescape(match[1])


def row_of(body: str, label: str) -> str:
    """The text of the token list's row with this label."""
    rows = re.findall(r'<tr id="token-\d+">(.*?)</tr>', body, re.DOTALL)
    found = [text_of(row) for row in rows if label in text_of(row)]
    assert len(found) == 1, found
    return found[0]


def revoke_link(client: FormClient, label: str) -> re.Match[str] | None:
    """The id in the list's Revoke link of the token with this label."""
    pattern = rf'href="/account/tokens/(\d+)/revoke" aria-label="Revoke the token {re.escape(label)}"'
    return re.search(pattern, client.fetch(PAGE).body)


def _logged_in(shoal: RunningShoal, email: str) -> FormClient:
    """A FormClient logged in as `email` instead of the admin."""

    class As(FormClient):
        def log_in(self, email_: str = email, password: str = PASSWORD) -> None:
            super().log_in(email_, password)

    return As(shoal)


def test_the_account_page_links_to_the_tokens_page(client: FormClient) -> None:
    assert 'href="/account/tokens/"' in client.fetch("/account/").body


def test_the_form_offers_every_known_scope_with_the_default_ones_ticked(client: FormClient) -> None:
    form = client.fetch(PAGE).body
    offered = re.findall(r'name="scope" value="([^"]+)"', form)
    ticked = re.findall(r'name="scope" value="([^"]+)" checked', form)
    assert sorted(offered) == sorted(tokens.KNOWN_SCOPES)
    assert sorted(ticked) == sorted(tokens.DEFAULT_SCOPES)


def test_a_new_personal_token_is_shown_once_and_acts_as_its_maker(
    shoal: RunningShoal, client: FormClient
) -> None:
    made = make_token(client, "ci releases", list(tokens.DEFAULT_SCOPES))
    assert (made.status, made.url) == (200, f"{shoal.url}{PAGE}")
    token = shown_token(made)
    assert re.fullmatch(r"sntryu_[0-9a-f]{64}", token)
    assert "will not show it again" in made.text()
    assert "never" in row_of(made.body, "ci releases")

    me = record(Api(shoal, token).get(""))
    assert me["user"]["email"] == "admin@example.com"
    assert sorted(me["auth"]["scopes"]) == sorted(tokens.DEFAULT_SCOPES)

    again = client.fetch(PAGE)
    assert token not in again.body and NEW_TOKEN.search(again.body) is None
    row = row_of(again.body, "ci releases")
    assert "Personal" in row and "event:write" in row and "just now" in row


def test_an_organization_token_acts_only_in_its_organization(shoal: RunningShoal, client: FormClient) -> None:
    token = shown_token(make_token(client, "org bot", ["org:read", "project:read"], organization="1"))
    assert token.startswith("sntrys_")
    assert "Organization default" in row_of(client.fetch(PAGE).body, "org bot")
    api = Api(shoal, token)
    assert [org["slug"] for org in items(api.get("organizations/"))] == ["default"]
    assert api.get("organizations/other/projects/").status == 404


def test_a_token_holds_only_the_ticked_scopes(shoal: RunningShoal, client: FormClient) -> None:
    api = Api(shoal, shown_token(make_token(client, "reader", ["event:read"])))
    assert api.get("projects/default/my-project/issues/").status == 200
    assert api.get("projects/default/my-project/keys/").status == 403


def test_a_form_without_scopes_or_with_a_long_label_is_shown_again_with_the_reasons(
    client: FormClient,
) -> None:
    answer = make_token(client, "x" * 201, [])
    assert answer.status == 400
    text = answer.text()
    assert "No token was made" in text
    assert "A label has at most 200 characters (201 now)." in text
    assert "Tick at least one scope" in text
    assert 'value="' + "x" * 201 + '"' in answer.body
    unknown = make_token(client, "odd", ["event:read", "root:all"])
    assert unknown.status == 400 and "Tick scopes from the list only." in unknown.text()
    assert NEW_TOKEN.search(unknown.body) is None


def test_revoking_asks_first_and_then_the_token_is_refused(shoal: RunningShoal, client: FormClient) -> None:
    token = shown_token(make_token(client, "to revoke", ["event:read"]))
    api = Api(shoal, token)
    assert api.get("organizations/default/issues/").status == 200
    token_id = revoke_link(client, "to revoke")
    assert token_id
    confirm = client.fetch(f"/account/tokens/{token_id[1]}/revoke")
    assert confirm.status == 200 and "Revoke the token to revoke?" in confirm.text()
    assert api.get("organizations/default/issues/").status == 200  # asking revoked nothing

    done = client.post("/account/tokens/revoke", {"token_id": token_id[1]})
    assert done.url.endswith("?notice=revoked") and "was revoked" in done.text()
    assert "to revoke" not in done.text().split("Your tokens", 1)[1].split("Make a token", 1)[0]
    assert api.get("organizations/default/issues/").status == 401
    assert client.post("/account/tokens/revoke", {"token_id": token_id[1]}).status == 404


def test_nobody_sees_or_revokes_someone_elses_token(shoal: RunningShoal, client: FormClient) -> None:
    token = shown_token(make_token(client, "admin only", ["event:read"]))
    token_id = revoke_link(client, "admin only")
    assert token_id
    member = _logged_in(shoal, _new_member(shoal, "member"))
    assert "admin only" not in member.fetch(PAGE).body
    assert member.fetch(f"/account/tokens/{token_id[1]}/revoke").status == 404
    assert member.post("/account/tokens/revoke", {"token_id": token_id[1]}).status == 404
    assert Api(shoal, token).get("organizations/default/issues/").status == 200


def test_a_plain_member_makes_personal_tokens_only(shoal: RunningShoal) -> None:
    member = _logged_in(shoal, _new_member(shoal, "member"))
    form = member.fetch(PAGE).body
    assert re.findall(r'<option value="(\d+)"', form) == []
    refused = make_token(member, "sneaky", ["event:read"], organization="1")
    assert refused.status == 400
    assert "Choose an organization you own or administer" in refused.text()
    assert NEW_TOKEN.search(refused.body) is None

    admin = _logged_in(shoal, _new_member(shoal, "admin"))
    assert re.findall(r'<option value="(\d+)"', admin.fetch(PAGE).body) == ["1"]


def _new_member(shoal: RunningShoal, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    with write_transaction(shoal.engine) as conn:
        made = users.create_user(conn, email, PASSWORD)
        users.add_membership(conn, 1, made.id, role)
    return email


@pytest.mark.browser
def test_from_the_account_page_a_token_is_made_copied_and_revoked(page: Page, shoal: RunningShoal) -> None:
    dialogs = record_dialogs(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=shoal.url)
    log_in(page, shoal)
    page.goto(f"{shoal.url}/account/")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()

    page.get_by_label("Label").fill("browser <b>token</b>")
    page.get_by_label("alerts:write").uncheck()
    page.get_by_label("event:admin").check()
    page.get_by_role("button", name="Make token").click()

    shown = page.locator("#new-token-value")
    expect(shown).to_have_text(re.compile(r"^sntryu_[0-9a-f]{64}$"))
    token = shown.inner_text()
    copy = page.get_by_role("button", name="Copy the new token")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    row = page.locator("#token-list tr", has_text="browser <b>token</b>")
    expect(row).to_contain_text("event:admin")
    expect(row).not_to_contain_text("alerts:write")

    page.reload()
    expect(page.locator("#new-token-value")).to_have_count(0)
    row.get_by_role("link", name="Revoke the token browser <b>token</b>").click()
    page.get_by_role("button", name="Revoke token").click()
    expect(page.locator("#notice")).to_contain_text("was revoked")
    assert Api(shoal, token).get("").status == 401
    assert dialogs == []
