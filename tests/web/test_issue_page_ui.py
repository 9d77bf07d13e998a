"""The issue page in Chromium: the event histogram, the in-app / all frames toggle, the raw JSON
download, walking between events, keyboard shortcuts, dark mode, a phone's width, local times,
the empty state, hostile event strings rendered as text, and the screenshots the README shows."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete, select

from shoal.store import events as event_store
from shoal.store.schema import event, issue
from tests.support.browser_login import log_in, record_dialogs
from tests.support.events import python_error, send_and_wait
from tests.support.server import RunningShoal, start_shoal, wait_until
from tests.support.ui_issues import issue_of_event, issue_state, new_issue

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
STATIC = REPO / "shoal" / "web" / "static"

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
JS_URL = "javascript:alert(1)"


@pytest.fixture(scope="module")
def shoal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    """One server for the module: every test makes issues of its own."""
    server = start_shoal(tmp_path_factory.mktemp("issue-page-ui") / "data")
    yield server
    server.stop()


# ------------------------------------------------------------------------- a real SDK's issue

SDK_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], release="shop@1.4.2", environment="production")
    sentry_sdk.set_tag("customer_tier", "gold")
    sentry_sdk.set_user({"id": "42", "email": "ada@example.com"})
    logging.getLogger("shop").warning("cart loaded for %s", "ada")

    def parse_order_TAG(payload):
        order_id = 1234
        return json.loads(payload)

    def checkout(raw):
        try:
            return parse_order_TAG(raw)
        except ValueError as error:
            raise RuntimeError("order TAG could not be read") from error

    try:
        checkout("{not json")
    except RuntimeError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=20)
    """
)


@pytest.fixture(scope="module")
def sdk_issue(shoal: RunningShoal, tmp_path_factory: pytest.TempPathFactory) -> int:
    """An issue from the real sentry-sdk: a RuntimeError raised from a JSONDecodeError, with the
    script's own frames in-app and the json module's frames not, local variables, a breadcrumb,
    tags, a user and the SDK's integrations."""
    tag = uuid.uuid4().hex[:8]
    folder = tmp_path_factory.mktemp("sdk-app")
    script = folder / "shop_app.py"
    script.write_text(SDK_SCRIPT.replace("TAG", tag))
    # Run from the script's folder: the SDK marks frames under the working directory in-app.
    result = subprocess.run(
        [sys.executable, str(script), shoal.dsn],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    title = f"RuntimeError: order {tag} could not be read"
    wait_until(lambda: issue_titled(shoal, title) is not None, 60, "the SDK's issue")
    found = issue_titled(shoal, title)
    assert found is not None
    return found


def issue_titled(shoal: RunningShoal, title: str) -> int | None:
    with shoal.engine.connect() as conn:
        found = conn.execute(select(issue.c.id).where(issue.c.title == title)).scalar()
        return int(found) if found is not None else None


def stored_event(shoal: RunningShoal, event_id: str) -> dict[str, Any]:
    with shoal.engine.connect() as conn:
        issue_id = conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one()
        found = event_store.get_event(conn, event_store.PayloadCodec(), issue_id, event_id)
    assert found is not None
    return found.data


def send_events_at(shoal: RunningShoal, name: str, timestamps: list[float]) -> list[str]:
    """Events of one new issue at these times (each sent and stored before the next)."""
    ids = []
    for timestamp in timestamps:
        data = python_error(f"{name.title()}Error", name, name)
        data["timestamp"] = timestamp
        ids.append(send_and_wait(shoal, data))
    return ids


def open_issue(page: Page, shoal: RunningShoal, issue_id: int, query: str = "") -> None:
    log_in(page, shoal)
    page.goto(f"{shoal.url}/issues/{issue_id}/{query}")


def shown_event_id(page: Page) -> str:
    return page.locator(".event-nav .event-id code").inner_text()


# ---------------------------------------------------------------------------------- histogram


def test_the_histogram_has_a_titled_bar_for_each_hour_and_day_with_events(
    page: Page, shoal: RunningShoal
) -> None:
    now = time.time()
    # The pair must share an hour whatever the clock says, so it sits mid-hour (a CI run at
    # 21:00:13 once put "5 h ago" and "5 h 1 min ago" in different hours).
    mid_hour_five_hours_ago = (now // 3600 - 5) * 3600 + 1800
    pair = [mid_hour_five_hours_ago, mid_hour_five_hours_ago + 60]
    times = [now, *pair, now - 9 * 3600, now - 12 * 86400]
    ids = send_events_at(shoal, f"histogram_{uuid.uuid4().hex[:8]}", times)
    open_issue(page, shoal, issue_of_event(shoal, ids[0]))

    chart = page.locator("svg.histogram")
    expect(chart).to_have_attribute("data-period", "24h")
    expect(chart.locator("g.bucket")).to_have_count(24)
    hours = sorted({int(t // 3600) for t in times[:4]})
    expect(chart.locator("rect.bar")).to_have_count(len(hours))
    five_hours_ago = datetime.fromtimestamp(times[1], UTC)
    title = f"2 events, {five_hours_ago:%H}:00–{(five_hours_ago.hour + 1) % 24:02d}:00 UTC"
    expect(chart.locator("g.bucket[data-events='2'] > title")).to_have_text(title)
    expect(chart.locator(".ticks text").first).to_have_text(re.compile(r"^\d\d:00$"))
    expect(page.locator("#histogram-total")).to_have_text("4 in the last 24 hours")

    page.get_by_role("link", name="30 days").click()
    expect(chart).to_have_attribute("data-period", "30d")
    expect(chart.locator("g.bucket")).to_have_count(30)
    days = {datetime.fromtimestamp(t, UTC).date() for t in times}
    expect(chart.locator("rect.bar")).to_have_count(len(days))
    old = datetime.fromtimestamp(times[-1], UTC)
    old_title = f"1 event, {old:%b} {old.day}, {old.year} UTC"
    expect(chart.locator("g.bucket", has=page.locator(f"title:text-is('{old_title}')"))).to_have_count(1)
    expect(page.locator("#histogram-total")).to_have_text("5 in the last 30 days")


# ------------------------------------------------------------------------------- frames toggle


def test_only_in_app_frames_show_until_all_frames_are_asked_for_without_a_reload(
    page: Page, shoal: RunningShoal, sdk_issue: int
) -> None:
    open_issue(page, shoal, sdk_issue)
    app_frames = page.locator("li.frame.in-app")
    system_frames = page.locator("li.frame.system")
    assert app_frames.count() >= 3 and system_frames.count() >= 1
    expect(page.locator(".frame-toggle a[aria-current=true]")).to_have_text("In-app frames")
    expect(system_frames.first).to_be_hidden()
    expect(app_frames.first).to_be_visible()
    expect(page.locator(".hidden-frames").first).to_contain_text("outside your app hidden")

    page.evaluate("window.__same_page = true")
    page.locator(".frame-toggle").get_by_role("link", name="All frames").click()
    for index in range(system_frames.count()):
        expect(system_frames.nth(index)).to_be_visible()
    assert page.evaluate("window.__same_page") is True
    assert "frames=all" in page.url
    for period_link in page.locator(".histogram-panel .segmented a").all():
        assert "frames=all" in (period_link.get_attribute("href") or "")

    page.keyboard.press("a")
    expect(system_frames.first).to_be_hidden()
    assert "frames=app" in page.url


def test_the_frames_toggle_works_without_javascript(
    browser: Browser, shoal: RunningShoal, sdk_issue: int
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        open_issue(page, shoal, sdk_issue)
        expect(page.locator("li.frame.system").first).to_be_hidden()
        page.locator(".frame-toggle").get_by_role("link", name="All frames").click()
        page.wait_for_url(re.compile(r"frames=all"))
        expect(page.locator("li.frame.system").first).to_be_visible()
        page.locator(".frame-toggle").get_by_role("link", name="In-app frames").click()
        page.wait_for_url(re.compile(r"frames=app"))
        expect(page.locator("li.frame.system").first).to_be_hidden()
    finally:
        context.close()


def test_the_event_shows_its_source_variables_breadcrumb_user_and_sdk(
    page: Page, shoal: RunningShoal, sdk_issue: int
) -> None:
    open_issue(page, shoal, sdk_issue)
    data = stored_event(shoal, shown_event_id(page))
    newest_app_frame = page.locator("li.frame.in-app").first
    expect(newest_app_frame.locator("ol.source li.current")).to_contain_text("raise RuntimeError")
    parse = page.locator("li.frame.in-app").filter(has=page.locator("code.function", has_text="parse_order"))
    expect(parse.locator("table.vars")).to_be_visible()
    expect(parse.locator("table.vars")).to_contain_text("order_id")
    expect(page.locator("p.chain")).to_have_count(1)
    expect(page.locator("table.breadcrumbs")).to_contain_text("cart loaded for ada")
    expect(page.locator("main")).to_contain_text("ada@example.com")
    expect(page.locator("#sdk-name")).to_have_text(data["sdk"]["name"])
    expect(page.locator("#sdk-version")).to_have_text(data["sdk"]["version"])
    expect(page.locator(".sdk-integrations")).to_contain_text("logging")
    first_seen = page.locator("#first-seen")
    expect(first_seen).to_contain_text("shop@1.4.2")
    expect(page.locator("#last-seen")).to_contain_text("shop@1.4.2")


def test_the_tag_breakdown_gives_each_value_its_share(page: Page, shoal: RunningShoal) -> None:
    name = f"tagged_{uuid.uuid4().hex[:8]}"
    for browser_name in ["Chrome", "Chrome", "Chrome", "Firefox"]:
        data = python_error(f"{name.title()}Error", name, name)
        data["tags"] = {"browser.name": browser_name}
        last = send_and_wait(shoal, data)
    open_issue(page, shoal, issue_of_event(shoal, last))
    tag = page.locator(".tag-breakdown section.tag[data-tag-key='browser.name']")
    expect(tag.locator("h3")).to_contain_text("2 values · 4 events")
    expect(tag.locator("li").nth(0)).to_contain_text("Chrome")
    expect(tag.locator("li").nth(0).locator(".pct")).to_have_text("75%")
    expect(tag.locator("li").nth(1).locator(".pct")).to_have_text("25%")
    expect(page.locator(".event-tags")).to_contain_text("browser.name")


# ---------------------------------------------------------------------------------- raw JSON


def test_the_raw_json_download_is_the_stored_event_as_an_attachment(
    page: Page, shoal: RunningShoal, sdk_issue: int
) -> None:
    open_issue(page, shoal, sdk_issue)
    event_id = shown_event_id(page)
    link = page.get_by_role("link", name="Raw JSON")
    expect(link).to_have_attribute("href", f"/issues/{sdk_issue}/events/{event_id}/json")

    answer = page.request.get(f"{shoal.url}/issues/{sdk_issue}/events/{event_id}/json")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == f'attachment; filename="event-{event_id}.json"'
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert orjson.loads(answer.body()) == stored_event(shoal, event_id)

    other = new_issue(shoal, "json elsewhere")
    elsewhere = page.request.get(f"{shoal.url}/issues/{other.id}/events/{event_id}/json")
    assert elsewhere.status == 404


def test_the_raw_json_needs_a_login(browser: Browser, shoal: RunningShoal, sdk_issue: int) -> None:
    context = browser.new_context()
    try:
        with shoal.engine.connect() as conn:
            event_id = conn.execute(
                select(event.c.event_id).where(event.c.issue_id == sdk_issue)
            ).scalar_one()
        answer = context.request.get(
            f"{shoal.url}/issues/{sdk_issue}/events/{event_id}/json", max_redirects=0
        )
        assert answer.status == 303
        assert answer.headers["location"].startswith("/login")
    finally:
        context.close()


# --------------------------------------------------------------------------- event navigation


def test_oldest_previous_next_and_latest_land_on_the_right_events(page: Page, shoal: RunningShoal) -> None:
    now = time.time()
    ids = send_events_at(shoal, f"walk_{uuid.uuid4().hex[:8]}", [now - 400, now - 300, now - 200, now - 100])
    issue_id = issue_of_event(shoal, ids[0])
    open_issue(page, shoal, issue_id)
    nav = page.locator(".event-nav")
    assert shown_event_id(page) == ids[3]
    expect(nav.locator("[aria-disabled=true]")).to_have_text(["Next", "Latest"])

    nav.get_by_role("link", name="Oldest").click()
    expect(nav.locator(".event-id code")).to_have_text(ids[0])
    expect(nav.locator("[aria-disabled=true]")).to_have_text(["Oldest", "Previous"])
    nav.get_by_role("link", name="Next").click()
    expect(nav.locator(".event-id code")).to_have_text(ids[1])
    nav.get_by_role("link", name="Next").click()
    expect(nav.locator(".event-id code")).to_have_text(ids[2])
    nav.get_by_role("link", name="Previous").click()
    expect(nav.locator(".event-id code")).to_have_text(ids[1])
    expect(nav.locator("[aria-disabled=true]")).to_have_count(0)
    nav.get_by_role("link", name="Latest").click()
    expect(nav.locator(".event-id code")).to_have_text(ids[3])
    nav.get_by_role("link", name="All events").click()
    expect(page.locator("table.events tbody tr")).to_have_count(4)
    expect(page.locator("table.events tbody tr").first).to_contain_text(ids[3][:12])


# ---------------------------------------------------------------------------------- keyboard


def test_r_resolves_but_not_while_typing_a_comment(page: Page, shoal: RunningShoal) -> None:
    made = new_issue(shoal, "keyboard resolve")
    open_issue(page, shoal, made.id)
    page.get_by_label("Comment").focus()
    page.keyboard.type("rain")
    expect(page.get_by_label("Comment")).to_have_value("rain")
    assert issue_state(shoal, made.id)[0] == "unresolved"

    page.locator("h1").click()  # focus leaves the field
    page.keyboard.press("r")
    expect(page.locator("#status-badge")).to_have_text("Resolved")
    assert issue_state(shoal, made.id)[0] == "resolved"


def test_i_opens_the_ignore_menu_and_question_mark_lists_the_shortcuts(
    page: Page, shoal: RunningShoal
) -> None:
    made = new_issue(shoal, "keyboard ignore")
    open_issue(page, shoal, made.id)
    page.keyboard.press("i")
    expect(page.locator("#ignore-menu")).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(page.locator("#ignore-menu")).not_to_have_attribute("open", "")

    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Resolve")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(help_dialog).to_be_visible()


def test_j_k_and_enter_walk_the_issue_list_and_go_on_from_an_opened_issue(
    page: Page, shoal: RunningShoal
) -> None:
    new_issue(shoal, "keyboard first")
    new_issue(shoal, "keyboard second")
    log_in(page, shoal)
    page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
    links = page.locator("table.issues tbody tr a.issue-title")
    hrefs = [links.nth(i).get_attribute("href") for i in range(min(links.count(), 3))]
    assert len(hrefs) >= 2

    page.keyboard.press("j")
    expect(page.locator("table.issues tbody tr.is-selected a.issue-title")).to_have_attribute(
        "href", hrefs[0]
    )
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("table.issues tbody tr.is-selected a.issue-title")).to_have_attribute(
        "href", hrefs[1]
    )
    page.keyboard.press("Enter")
    page.wait_for_url(f"{shoal.url}{hrefs[1]}")

    page.keyboard.press("k")
    page.wait_for_url(f"{shoal.url}{hrefs[0]}")
    page.keyboard.press("j")
    page.wait_for_url(f"{shoal.url}{hrefs[1]}")


# ----------------------------------------------------------------------------- look and feel


def luminance(css_colour: str) -> float:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_follows_the_systems_colour_scheme(
    browser: Browser, shoal: RunningShoal, sdk_issue: int, scheme: str
) -> None:
    context = browser.new_context(color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        open_issue(page, shoal, sdk_issue)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        text = page.evaluate("getComputedStyle(document.body).color")
        frame = page.evaluate("getComputedStyle(document.querySelector('ol.frames')).backgroundColor")
        if scheme == "dark":
            assert luminance(background) < 0.15 and luminance(frame) < 0.2 and luminance(text) > 0.8
        else:
            assert luminance(background) > 0.9 and luminance(text) < 0.2
    finally:
        context.close()


COLOUR_LITERAL = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(")


def test_stylesheets_take_every_colour_from_the_custom_properties() -> None:
    """Dark mode redefines the properties; a literal colour in a rule would stay light."""
    for sheet in STATIC.glob("*.css"):
        css = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
        for rule in re.findall(r"[^{}]+\{[^{}]*\}", css):
            selector, body = rule.split("{", 1)
            if selector.strip() == ":root":
                continue  # where the properties are defined
            assert not COLOUR_LITERAL.search(body), f"{sheet.name}: {rule.strip()}"


def test_at_a_phones_width_only_code_scrolls_sideways(
    browser: Browser, shoal: RunningShoal, sdk_issue: int
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        log_in(page, shoal)
        for path in (
            f"/issues/{sdk_issue}/",
            f"/issues/{sdk_issue}/?frames=all&period=30d",
            f"/issues/{sdk_issue}/events/",
            f"/projects/{shoal.project_id}/issues/",
        ):
            page.goto(f"{shoal.url}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        page.goto(f"{shoal.url}/issues/{sdk_issue}/")
        nav = page.locator("header.top nav").bounding_box()
        assert nav is not None and nav["x"] + nav["width"] <= 375  # the menu wraps instead
    finally:
        context.close()


def test_times_show_in_the_readers_zone_with_utc_on_hover(browser: Browser, shoal: RunningShoal) -> None:
    made = new_issue(shoal, "local time")
    context = browser.new_context(timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        open_issue(page, shoal, made.id)
        shown = page.locator(".event-nav time")
        iso = shown.get_attribute("datetime")
        assert iso is not None and iso.endswith("Z")
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        expect(shown).to_have_attribute("title", f"{moment:%Y-%m-%d %H:%M:%S} UTC")
        tokyo = moment.astimezone(ZoneInfo("Asia/Tokyo"))
        expect(shown).to_have_text(f"{tokyo:%Y-%m-%d %H:%M:%S} GMT+9")
        # Relative times stay relative, with the UTC time on hover too.
        first_seen = page.locator("#first-seen time")
        expect(first_seen).to_have_text(re.compile(r"ago|just now"))
        expect(first_seen).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    finally:
        context.close()


def test_an_issue_whose_events_are_gone_says_why_and_keeps_its_history(
    page: Page, shoal: RunningShoal
) -> None:
    ids = send_events_at(shoal, f"expired_{uuid.uuid4().hex[:8]}", [time.time(), time.time()])
    issue_id = issue_of_event(shoal, ids[0])
    # What retention does: the event rows go, the issue and its counts stay.
    with shoal.engine.begin() as conn:
        conn.execute(delete(event).where(event.c.issue_id == issue_id))
    open_issue(page, shoal, issue_id)
    expect(page.locator("#no-events")).to_contain_text("No event of this issue is stored")
    expect(page.locator("#no-events")).to_contain_text("retention")
    expect(page.locator("#times-seen")).to_have_text("2")
    expect(page.locator("svg.histogram rect.bar")).to_have_count(1)
    page.goto(f"{shoal.url}/issues/{issue_id}/events/")
    expect(page.locator(".empty")).to_contain_text("No event of this issue is stored")


# ---------------------------------------------------------------------------------- security


def test_hostile_event_strings_render_as_text_and_no_javascript_url_is_a_link(
    page: Page, shoal: RunningShoal
) -> None:
    name = f"hostile_{uuid.uuid4().hex[:8]}"
    data = python_error(f"{name.title()}Error", name, HOSTILE)
    frame = data["exception"]["values"][0]["stacktrace"]["frames"][0]
    frame.update(
        {
            "lineno": 3,
            "context_line": HOSTILE,
            "pre_context": [HOSTILE],
            "vars": {HOSTILE: HOSTILE, "link": JS_URL},
        }
    )
    data.update(
        {
            "logentry": {"formatted": HOSTILE},
            "tags": {"hostile": HOSTILE[:200]},
            "breadcrumbs": {
                "values": [
                    {"message": HOSTILE, "category": HOSTILE, "data": {"url": JS_URL, HOSTILE: HOSTILE}},
                    {"type": "navigation", "message": JS_URL, "data": {"to": JS_URL}},
                ]
            },
            "request": {"url": JS_URL, "method": HOSTILE, "headers": {HOSTILE: HOSTILE, "Referer": JS_URL}},
            "user": {"email": HOSTILE, "id": HOSTILE},
            "contexts": {HOSTILE: {"type": HOSTILE, HOSTILE: HOSTILE}},
            "extra": {HOSTILE: HOSTILE},
            "sdk": {"name": HOSTILE, "version": HOSTILE, "integrations": [HOSTILE]},
        }
    )
    event_id = send_and_wait(shoal, data)
    issue_id = issue_of_event(shoal, event_id)
    dialogs = record_dialogs(page)
    open_issue(page, shoal, issue_id)
    page.wait_for_load_state("load")

    expect(page.locator("pre.message")).to_have_text(HOSTILE)
    expect(page.locator(".exc-value")).to_have_text(HOSTILE)
    expect(page.locator("table.vars")).to_contain_text(HOSTILE)
    expect(page.locator("table.breadcrumbs")).to_contain_text(HOSTILE)
    expect(page.locator(".tag-breakdown")).to_contain_text(HOSTILE[:40])
    expect(page.locator(".request-url")).to_have_text(JS_URL)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("main script, main img, main iframe, main object").count() == 0
    assert page.locator("a[href^='javascript:' i], [onerror], [onclick]").count() == 0
    assert page.locator("a.request-url").count() == 0
    # Clicking what looks like the URL does nothing.
    page.locator(".request-url").click()
    assert dialogs == []

    answer = page.request.get(f"{shoal.url}/issues/{issue_id}/events/{event_id}/json")
    assert answer.headers["content-type"] == "application/json"
    assert b"<script>window.__pwned = 1</script>" in answer.body()  # JSON, not HTML: nothing escaped


def test_an_http_request_url_is_a_link_that_sends_no_referrer(page: Page, shoal: RunningShoal) -> None:
    name = f"linked_{uuid.uuid4().hex[:8]}"
    data = python_error(f"{name.title()}Error", name, name)
    data["request"] = {"url": "https://shop.example/cart?id=1", "method": "POST"}
    issue_id = issue_of_event(shoal, send_and_wait(shoal, data))
    open_issue(page, shoal, issue_id)
    link = page.locator("a.request-url")
    expect(link).to_have_attribute("href", "https://shop.example/cart?id=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")


# ------------------------------------------------------------------------------- screenshots


def test_screenshots_of_the_stream_and_the_issue_page(
    browser: Browser, shoal: RunningShoal, sdk_issue: int
) -> None:
    """Saved under tests/artifacts/ for CI to keep; docs/images/issue-page.png is one of them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 1400})
        try:
            page = context.new_page()
            log_in(page, shoal)
            page.goto(f"{shoal.url}/projects/{shoal.project_id}/issues/")
            page.screenshot(path=ARTIFACTS / f"issue-stream-{scheme}.png", full_page=True)
            page.goto(f"{shoal.url}/issues/{sdk_issue}/")
            page.screenshot(path=ARTIFACTS / f"issue-page-{scheme}.png")
            page.screenshot(path=ARTIFACTS / f"issue-page-{scheme}-full.png", full_page=True)
        finally:
            context.close()
    for name in ("issue-stream-light", "issue-stream-dark", "issue-page-light", "issue-page-dark"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
