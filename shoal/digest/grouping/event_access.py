"""What grouping rules look at in an event: its exceptions, frames, messages, tags, platform
family and SDK, each as the list of items a matcher is tried on (grouping.md §10.2, §11.2)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shoal.eventdata import as_dict, as_list, text, values_of

_NATIVE_PLATFORMS = frozenset({"c", "cocoa", "native", "objc", "swift"})


def family_of(platform: str | None) -> str:
    """Sentry's platform families: javascript (browser and Node), native, or other."""
    if platform in ("javascript", "node"):
        return "javascript"
    if platform in _NATIVE_PLATFORMS:
        return "native"
    return "other"


def stacktraces(event: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every stack trace of the event, with the exception that owns it (None for the others)."""
    for exception in values_of(event.get("exception")):
        stacktrace = exception.get("stacktrace")
        if isinstance(stacktrace, dict):
            yield stacktrace, exception
    if isinstance(event.get("stacktrace"), dict):
        yield event["stacktrace"], None
    for thread in values_of(event.get("threads")):
        if isinstance(thread.get("stacktrace"), dict):
            yield thread["stacktrace"], None


def frames_of(stacktrace: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [frame for frame in as_list(stacktrace.get("frames")) if isinstance(frame, dict)]


def all_frames(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [frame for stacktrace, _ in stacktraces(event) for frame in frames_of(stacktrace)]


def messages(event: Mapping[str, Any]) -> list[str]:
    """The log message and every exception value, stripped."""
    found = []
    formatted = text(as_dict(event.get("logentry")).get("formatted")) or text(event.get("message"))
    if formatted:
        found.append(formatted.strip())
    found.extend((text(e.get("value")) or "").strip() for e in values_of(event.get("exception")))
    return found


def tag_value(event: Mapping[str, Any], key: str) -> str | None:
    tags = event.get("tags")
    pairs = (
        tags.items() if isinstance(tags, dict) else (p for p in as_list(tags) if isinstance(p, list | tuple))
    )
    for pair in pairs:
        if len(pair) == 2 and pair[0] == key and isinstance(pair[1], str):
            return pair[1].strip()
    return None


def crash_frame(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The frame fingerprint variables read (grouping.md §9): in the last exception's stack, else
    the event's stack, else the only thread's, the last in-app frame, else the last frame."""
    frames = _crash_stack(event)
    if not frames:
        return None
    return next((frame for frame in reversed(frames) if frame.get("in_app") is True), frames[-1])


def _crash_stack(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    exceptions = values_of(event.get("exception"))
    if exceptions and isinstance(exceptions[-1].get("stacktrace"), dict):
        return frames_of(exceptions[-1]["stacktrace"])
    if isinstance(event.get("stacktrace"), dict):
        return frames_of(event["stacktrace"])
    threads = values_of(event.get("threads"))
    if len(threads) == 1 and isinstance(threads[0].get("stacktrace"), dict):
        return frames_of(threads[0]["stacktrace"])
    return []
