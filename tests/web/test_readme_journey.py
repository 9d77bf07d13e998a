"""A new user follows the README in a real browser: logs in, creates a project, copies its DSN, a
real sentry-sdk process raises with it, and the issue is in the stream; its page shows the stack
trace with the right source line and local variables; resolved, it is found with is:resolved."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.server import ADMIN_EMAIL, ADMIN_PASSWORD, RunningShoal

pytestmark = pytest.mark.browser

APP = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], release="shop@1.0.0")

    def apply_coupon(cart, code):
        discount_percent = cart["coupons"][code]
        return discount_percent

    try:
        apply_coupon({"coupons": {}}, "WELCOME10")
    except KeyError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    """
)


def test_the_readme_journey_from_login_to_is_resolved(
    page: Page, shoal: RunningShoal, tmp_path: Path
) -> None:
    page.goto(shoal.url)
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{shoal.url}/projects/new")
    page.get_by_label("Name").fill("checkout")
    page.get_by_label("Python").check()
    page.get_by_role("button", name="Create project").click()
    dsn = page.locator("code#dsn").inner_text().strip()
    assert dsn.startswith("http://") and dsn.endswith(f"/{dsn.rsplit('/', 1)[1]}")

    script = tmp_path / "app.py"
    script.write_text(APP)
    sent = subprocess.run(
        [sys.executable, str(script), dsn], capture_output=True, text=True, timeout=60, check=False
    )
    assert sent.returncode == 0, sent.stderr

    stream = f"{shoal.url}/projects/{dsn.rsplit('/', 1)[1]}/issues/"
    title = page.locator("a.issue-title").filter(has_text="KeyError: 'WELCOME10'")
    deadline = time.monotonic() + 30
    while title.count() == 0 and time.monotonic() < deadline:
        page.goto(stream)  # the digest stores the event within moments; reload until it has
    title.click()

    function = page.locator("code.function").get_by_text("apply_coupon", exact=True)
    frame = page.locator("li.frame").filter(has=function)
    expect(frame.locator("li.current code")).to_have_text('discount_percent = cart["coupons"][code]')
    variables = frame.locator("table.vars")
    expect(variables.locator("tr").filter(has_text="code")).to_contain_text("WELCOME10")
    expect(variables.locator("tr").filter(has_text="cart")).to_contain_text("coupons")

    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#status-badge")).to_have_text("Resolved")

    page.goto(stream)
    expect(title).to_have_count(0)  # the stream opens on is:unresolved
    page.get_by_role("searchbox").fill("is:resolved")
    page.get_by_role("searchbox").press("Enter")
    expect(title).to_have_count(1)
