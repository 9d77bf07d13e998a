"""Relay's fix-up of a stack frame's two paths, before anything reads them.

Relay (`process_non_raw_frame`, relay's stacktrace normalization; the same in every version read,
2019 to 2025) moves a frame's `filename` to `abs_path` when the frame has no `abs_path`, and then
gives a frame without a `filename` the one of its `abs_path`: for a URL, the URL's path.

It matters for the browser: @sentry/browser 11.12.0 sends only `filename`, the full URL of the
script (observed). After the fix-up the frame has Sentry's shape, `abs_path` the URL and `filename`
"/static/app.min.js", so grouping ignores the URL's filename as Sentry does (grouping.md §5: a
filename does not count when abs_path is a URL), and rules and the issue page see what Sentry's do.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# Relay's own list here (no "blob:", unlike grouping's list of URLs).
_URL_PREFIXES = ("file:", "http:", "https:", "applewebdata:")


def with_relay_paths(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame with Relay's `abs_path` and `filename`; the frame itself when nothing changes."""
    abs_path, filename = frame.get("abs_path"), frame.get("filename")
    if abs_path is None or abs_path == "":
        abs_path, filename = filename, None
    if (filename is None or filename == "") and isinstance(abs_path, str) and abs_path:
        filename = _url_path(abs_path) or abs_path
    if abs_path is frame.get("abs_path") and filename is frame.get("filename"):
        return frame
    fixed = {key: value for key, value in frame.items() if key not in ("abs_path", "filename")}
    fixed.update({key: value for key, value in (("abs_path", abs_path), ("filename", filename)) if value})
    return fixed


def _url_path(path: str) -> str | None:
    if not path.startswith(_URL_PREFIXES):
        return None
    try:
        url_path = urlsplit(path).path
    except ValueError:  # Relay keeps the whole string when the URL does not parse
        return None
    return url_path if url_path not in ("", "/") else None
