"""An event as the issue page shows it: exceptions newest first, frames newest first with their
numbered source lines, breadcrumbs, request, user, tags and contexts.

This only reshapes the normalized event; every string stays untrusted text for the template to
escape. Values of the wrong type (a hostile SDK can send anything) are shown as text or skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shoal.eventdata import as_dict, as_list, values_of


@dataclass(frozen=True)
class SourceLine:
    number: int | None
    text: str
    current: bool


@dataclass(frozen=True)
class FrameView:
    location: str  # module or filename
    function: str
    lineno: Any
    in_app: bool
    lines: list[SourceLine]
    vars: dict[str, Any]


@dataclass(frozen=True)
class ExceptionView:
    type: str
    value: str
    module: str
    mechanism: str
    handled: bool | None
    frames: list[FrameView]


class EventView:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def exceptions(self) -> list[ExceptionView]:
        values = values_of(self.data.get("exception"))
        # Listed cause first in the payload; the raised exception reads best on top, as in Sentry.
        return [_exception_view(value) for value in reversed(values)]

    @property
    def message(self) -> str:
        logentry = self.data.get("logentry")
        if isinstance(logentry, dict):
            return str(logentry.get("formatted") or logentry.get("message") or "")
        return ""

    @property
    def breadcrumbs(self) -> list[dict[str, Any]]:
        return values_of(self.data.get("breadcrumbs"))

    @property
    def tags(self) -> list[tuple[str, str]]:
        tags = self.data.get("tags")
        return [
            (str(pair[0]), str(pair[1]))
            for pair in tags or ()
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]

    def section(self, name: str) -> dict[str, Any]:
        """A data bag such as request, user, contexts or sdk; {} when absent or malformed."""
        return as_dict(self.data.get(name))


def _exception_view(value: dict[str, Any]) -> ExceptionView:
    mechanism = as_dict(value.get("mechanism"))
    frames = as_list(as_dict(value.get("stacktrace")).get("frames"))
    handled = mechanism.get("handled")
    return ExceptionView(
        type=str(value.get("type") or ""),
        value=str(value.get("value") or ""),
        module=str(value.get("module") or ""),
        mechanism=str(mechanism.get("type") or ""),
        handled=handled if isinstance(handled, bool) else None,
        frames=[_frame_view(frame) for frame in reversed(frames) if isinstance(frame, dict)],
    )


def _frame_view(frame: dict[str, Any]) -> FrameView:
    variables = frame.get("vars")
    return FrameView(
        location=str(frame.get("module") or frame.get("filename") or frame.get("abs_path") or "?"),
        function=str(frame.get("function") or "?"),
        lineno=frame.get("lineno"),
        in_app=frame.get("in_app") is True,
        lines=_source_lines(frame),
        vars=variables if isinstance(variables, dict) else {},
    )


def _source_lines(frame: dict[str, Any]) -> list[SourceLine]:
    context_line = frame.get("context_line")
    if not isinstance(context_line, str):
        return []
    before = [line for line in frame.get("pre_context") or [] if isinstance(line, str)]
    after = [line for line in frame.get("post_context") or [] if isinstance(line, str)]
    lineno = frame.get("lineno")
    first = lineno - len(before) if isinstance(lineno, int) else None
    lines = [*before, context_line, *after]
    return [
        SourceLine(
            number=first + offset if first is not None else None, text=text, current=offset == len(before)
        )
        for offset, text in enumerate(lines)
    ]
