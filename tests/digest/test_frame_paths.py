"""Relay's frame path fix-up (shoal/digest/frame_paths.py), and what it does to the grouping of the
frames @sentry/browser really sends: only `filename`, the script's full URL."""

from __future__ import annotations

import hashlib
from typing import Any

from shoal.digest.frame_paths import with_relay_paths
from shoal.digest.grouping import calculate_grouping
from shoal.digest.normalize import NormalizeContext, normalize_event


def browser_frame(url: str, function: str, colno: int) -> dict[str, Any]:
    """A frame as @sentry/browser 11.12.0 sends it for a minified script (observed)."""
    return {"filename": url, "function": function, "in_app": True, "lineno": 1, "colno": colno}


def browser_event(script: str) -> dict[str, Any]:
    frames = [
        browser_frame(script, "HTMLButtonElement.t", 188),
        browser_frame(script, "p", 95),
        browser_frame(script, "n", 41),
    ]
    exception = {"type": "Error", "value": "card declined", "stacktrace": {"frames": frames}}
    return {"platform": "javascript", "exception": {"values": [exception]}}


def normalized(event: dict[str, Any]) -> dict[str, Any]:
    return normalize_event(event, NormalizeContext(1_800_000_000.0, None, None, None))


def test_a_url_filename_becomes_the_abs_path_and_the_filename_its_path() -> None:
    frame = with_relay_paths({"filename": "https://shop.example/static/app.min.js?v=3", "lineno": 1})
    assert frame == {
        "abs_path": "https://shop.example/static/app.min.js?v=3",
        "filename": "/static/app.min.js",
        "lineno": 1,
    }


def test_a_file_path_alone_is_both_abs_path_and_filename() -> None:
    frame = with_relay_paths({"filename": "/srv/shop/node_app.js", "module": "node_app"})
    assert frame == {
        "abs_path": "/srv/shop/node_app.js",
        "filename": "/srv/shop/node_app.js",
        "module": "node_app",
    }


def test_a_url_without_a_path_stays_the_filename() -> None:
    frame = with_relay_paths({"abs_path": "https://shop.example/"})
    assert frame == {"abs_path": "https://shop.example/", "filename": "https://shop.example/"}


def test_a_frame_with_both_paths_is_left_as_it_is() -> None:
    frame = {"abs_path": "https://shop.example/app.js", "filename": "app.js", "function": "f"}
    assert with_relay_paths(frame) is frame


def test_normalize_fixes_every_stack_frame() -> None:
    event = normalized(browser_event("https://shop.example/static/app.3f9a1c.js"))
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert {(f["abs_path"], f["filename"]) for f in frames} == {
        ("https://shop.example/static/app.3f9a1c.js", "/static/app.3f9a1c.js")
    }


def test_minified_browser_frames_group_by_function_so_a_new_bundle_name_keeps_the_issue() -> None:
    """In Sentry a URL's filename never counts (grouping.md §5); before the fix-up Shoal counted
    "app.3f9a1c.js" and split every browser issue on each deploy's new bundle name."""
    before = calculate_grouping(normalized(browser_event("https://shop.example/static/app.3f9a1c.js")))
    after = calculate_grouping(normalized(browser_event("https://shop.example/static/app.8d02ee.js")))
    assert before.hashes == after.hashes
    # Type, then each frame's function by its last dotted part, oldest frame first.
    assert before.hashes[0] == hashlib.md5(b"Errortpn").hexdigest()
