"""What an issue shows as its headline: type, title, culprit and metadata, from its latest event.

Follows Sentry's event types: an event with an exception is an "error" titled "Type: first line of
the value"; anything else is a "default" event titled by its message. The culprit is what the SDK
sent, else the transaction, else "module in function" of the most relevant frame (Sentry's
`get_culprit`; protocol.md §8 shows "__main__ in inner").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Sentry's caps: titles show the first line of the value trimmed to 100 characters, message titles
# 256, culprits 200 (Relay's MaxChars for culprit, protocol.md §4), metadata values 1024.
_VALUE_TITLE_CHARS = 100
_MESSAGE_TITLE_CHARS = 256
_CULPRIT_CHARS = 200
_METADATA_VALUE_CHARS = 1024
_JS_PLATFORMS = frozenset({"javascript", "node"})


@dataclass(frozen=True, slots=True)
class IssueSummary:
    type: str  # "error" or "default"
    title: str
    culprit: str
    metadata: dict[str, str]


def summarize(event: dict[str, Any]) -> IssueSummary:
    summary = _summary(event)
    # A fingerprint rule's `title="…"` names the issue instead (grouping.md §10.1).
    rule_title = ((event.get("_fingerprint_info") or {}).get("matched_rule") or {}).get("title")
    if isinstance(rule_title, str) and rule_title:
        title = _truncate(rule_title, _MESSAGE_TITLE_CHARS)
        return IssueSummary(summary.type, title, summary.culprit, {**summary.metadata, "title": title})
    return summary


def _summary(event: dict[str, Any]) -> IssueSummary:
    exception = _main_exception(event)
    culprit = _culprit(event)
    if exception is not None and (exception.get("type") or not _message(event)):
        metadata = _error_metadata(exception)
        return IssueSummary("error", _error_title(metadata), culprit, metadata)
    message = _message(event)
    title = (
        _truncate(message.splitlines()[0], _MESSAGE_TITLE_CHARS) if message.strip() else "<unlabeled event>"
    )
    return IssueSummary("default", title, culprit, {"title": title})


def _main_exception(event: dict[str, Any]) -> dict[str, Any] | None:
    values = (event.get("exception") or {}).get("values") or []
    # Exceptions are listed cause first; the last one is the one that was raised.
    return values[-1] if values else None


def _message(event: dict[str, Any]) -> str:
    logentry = event.get("logentry") or {}
    return str(logentry.get("formatted") or logentry.get("message") or "").strip()


def _error_metadata(exception: dict[str, Any]) -> dict[str, str]:
    metadata = {"value": _truncate(str(exception.get("value") or ""), _METADATA_VALUE_CHARS)}
    if exception.get("type"):
        metadata["type"] = str(exception["type"])
    frame = _relevant_frame(_frames(exception))
    if frame is not None:
        metadata["filename"] = str(frame.get("filename") or frame.get("abs_path") or "")
        metadata["function"] = str(frame.get("function") or "")
    return metadata


def _error_title(metadata: dict[str, str]) -> str:
    exc_type = metadata.get("type")
    if not exc_type:
        return metadata.get("function") or "<unknown>"
    value = metadata.get("value", "").strip()
    if not value:
        return exc_type
    return f"{exc_type}: {_truncate(value.splitlines()[0], _VALUE_TITLE_CHARS)}"


def _culprit(event: dict[str, Any]) -> str:
    culprit = event.get("culprit") or event.get("transaction") or _culprit_from_frames(event)
    return _truncate(str(culprit or ""), _CULPRIT_CHARS)


def _culprit_from_frames(event: dict[str, Any]) -> str:
    values = (event.get("exception") or {}).get("values") or []
    for exception in reversed(values):
        frame = _relevant_frame(_frames(exception))
        if frame is not None:
            return _frame_culprit(frame, str(frame.get("platform") or event.get("platform") or ""))
    return ""


def _frames(exception: dict[str, Any]) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = (exception.get("stacktrace") or {}).get("frames") or []
    return frames


def _relevant_frame(frames: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest in-app frame, else the newest frame."""
    for candidate in frames[::-1]:
        if candidate.get("in_app"):
            return candidate
    return frames[-1] if frames else None


def _frame_culprit(frame: dict[str, Any], platform: str) -> str:
    location = frame.get("module") or frame.get("filename")
    if not location:
        return ""
    function = frame.get("function") or "?"
    if platform in _JS_PLATFORMS:
        return f"{function}({location})"
    return f"{location} in {function}"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
