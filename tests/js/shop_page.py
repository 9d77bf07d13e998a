"""The browser tests' shop page (tests/js/browser/page.html): open it with @sentry/browser set up
for a DSN, and optionally a tunnel, then make its minified code throw."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import Page

from tests.js.site import JS_DIR, Site

SHOP_SCRIPT = JS_DIR / "browser" / "shop.min.js"
SHOP_SCRIPT_PATH = "/browser/shop.min.js"


def open_shop(page: Page, site: Site, dsn: str, tunnel: str | None = None) -> None:
    """Load the page from `site` and wait until the SDK's init has run."""
    query = {"dsn": dsn, **({"tunnel": tunnel} if tunnel else {})}
    page.goto(f"{site.url}/browser/page.html?{urlencode(query)}")
    page.wait_for_function("window.sentryReady === true")


def shop_column(marker: str) -> int:
    """The 1-based column of `marker` in the one-line minified script, as Chromium reports it."""
    return SHOP_SCRIPT.read_text().index(marker) + 1
