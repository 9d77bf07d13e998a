"""The filters of browser JavaScript: errors of browser extensions, and legacy browsers."""

from __future__ import annotations

from typing import Any

import pytest

from shoal import outcomes
from shoal.digest.filters import browser_extensions, legacy_browsers
from shoal.digest.filters.inbound import Inbound
from shoal.store.inbound_filters import FilterSettings

WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
OLD_ANDROID = "Mozilla/5.0 (Linux; U; Android 2.3.6; en-us) AppleWebKit/533.1 (KHTML, like Gecko)"
WEBVIEW = "Mozilla/5.0 (Linux; Android 13; wv) AppleWebKit/537.36 (KHTML, like Gecko)"
IE_11 = "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko"
CHROME_109 = WIN + " Chrome/109.0.0.0 Safari/537.36"
CHROME_131 = WIN + " Chrome/131.0.0.0 Safari/537.36"
EDGE_131 = CHROME_131 + " Edg/131.0.0.0"
EDGE_100 = CHROME_109 + " Edg/100.0.1185.29"
SAFARI_15 = MAC + " Version/15.6 Safari/605.1.15"
SAFARI_17 = SAFARI_15.replace("Version/15.6", "Version/17.2")
FIREFOX_102 = "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0"
OPERA_95 = CHROME_109 + " OPR/95.0.0.0"
ANDROID_2 = OLD_ANDROID + " Version/4.0 Mobile Safari/533.1"
ANDROID_WEBVIEW = WEBVIEW + " Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36"


def js_error(
    value: str = "x is undefined", abs_path: str = "https://shop.example.com/app.js", agent: str = CHROME_131
) -> dict[str, Any]:
    frames = [
        {"abs_path": "https://shop.example.com/app.js", "function": "main"},
        {"abs_path": abs_path, "function": "f"},
    ]
    return {
        "platform": "javascript",
        "exception": {"values": [{"type": "TypeError", "value": value, "stacktrace": {"frames": frames}}]},
        "request": {"url": "https://shop.example.com/", "headers": {"User-Agent": agent}},
    }


@pytest.mark.parametrize(
    "event",
    [
        js_error(abs_path="chrome-extension://abcdefghijklmnop/content.js"),
        js_error(abs_path="moz-extension://1234/inject.js"),
        js_error(abs_path="safari-web-extension://1234/script.js"),
        js_error(value="Extension context invalidated."),
        js_error(value="can't access dead object"),
        js_error(value="undefined is not an object (evaluating 'top.GLOBALS')"),
    ],
)
def test_errors_of_extensions_are_dropped(event: dict[str, Any]) -> None:
    assert browser_extensions.check(Inbound(event), FilterSettings()) == outcomes.FILTER_BROWSER_EXTENSIONS


def test_the_sites_own_errors_are_kept_and_native_frames_are_looked_through() -> None:
    assert browser_extensions.check(Inbound(js_error()), FilterSettings()) is None
    native = js_error(abs_path="[native code]")
    native["exception"]["values"][0]["stacktrace"]["frames"].insert(
        0, {"abs_path": "chrome-extension://x/a.js"}
    )
    assert browser_extensions.check(Inbound(native), FilterSettings()) is None


@pytest.mark.parametrize("agent", [IE_11, CHROME_109, EDGE_100, SAFARI_15, FIREFOX_102, OPERA_95, ANDROID_2])
def test_legacy_browsers_are_dropped(agent: str) -> None:
    assert (
        legacy_browsers.check(Inbound(js_error(agent=agent)), FilterSettings())
        == outcomes.FILTER_LEGACY_BROWSERS
    )


@pytest.mark.parametrize("agent", [CHROME_131, EDGE_131, SAFARI_17, ANDROID_WEBVIEW, "curl/8.5.0"])
def test_current_browsers_and_unknown_agents_are_kept(agent: str) -> None:
    assert legacy_browsers.check(Inbound(js_error(agent=agent)), FilterSettings()) is None


def test_a_servers_events_are_never_judged_by_their_visitors_browser() -> None:
    event = {**js_error(agent=IE_11), "platform": "python"}
    assert legacy_browsers.check(Inbound(event), FilterSettings()) is None
