"""An event as the issue page shows it: the exception chain newest first, frames newest first with
their numbered source lines and variables, breadcrumbs, request, user, contexts, SDK and tags.

This only reshapes the normalized event; every string stays untrusted text for the template to
escape. Values of the wrong type (a hostile SDK can send anything) are shown as text or skipped.
The one place a string becomes a link target is `RequestView.link`, and only for http(s) URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from shoal.digest.tags import event_tags
from shoal.digest.timestamps import parse_timestamp
from shoal.eventdata import as_dict, as_list, text, values_of
from shoal.web import scrubbed_view

# Python's traceback wording for a chain, turned round to read newest first, by the
# `mechanism.source` an SDK may write on the older exception of a pair ("__cause__" for
# `raise … from`, "__context__" for one raised while another was handled). sentry-python 2.75 writes
# no source for plain chains, so most events get the neutral wording.
_CHAIN_WORDS = {
    "__cause__": "The exception above was directly caused by this one:",
    "__context__": "The exception above was raised while handling this one:",
}
_CHAINED = "The exception above followed this one:"
_TRACE_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class SourceLine:
    number: int | None
    text: str
    current: bool


@dataclass(frozen=True)
class FrameView:
    location: str  # module or filename
    filename: str  # the file, when it says more than the module
    function: str
    lineno: Any
    colno: Any
    in_app: bool
    lines: list[SourceLine]
    vars: dict[str, Any]
    vars_meta: dict[str, Any] = field(default_factory=dict)  # what scrubbing removed from them


@dataclass(frozen=True)
class ExceptionView:
    type: str
    value: str
    module: str
    mechanism: str
    handled: bool | None
    frames: list[FrameView]
    chain: str  # how it relates to the exception shown above it; "" for the first
    value_meta: dict[str, Any] = field(default_factory=dict)  # what scrubbing removed from `value`

    @property
    def has_app_frames(self) -> bool:
        return any(frame.in_app for frame in self.frames)

    @property
    def has_system_frames(self) -> bool:
        return any(not frame.in_app for frame in self.frames)


@dataclass(frozen=True)
class Crumb:
    timestamp: float | None
    category: str
    level: str
    message: str
    data: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)  # what scrubbing removed from the crumb


@dataclass(frozen=True)
class RequestView:
    method: str
    url: str
    link: str | None  # the URL, if it is safe to make it clickable
    sections: list[tuple[str, Any]]  # query string, headers, data, cookies, env, as sent
    meta: dict[str, Any] = field(default_factory=dict)  # what scrubbing removed from the request


@dataclass(frozen=True)
class SdkView:
    name: str
    version: str
    integrations: list[str]
    packages: list[str]  # "name version"


class EventView:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.meta = as_dict(data.get("_meta"))

    def show(self, value: Any, meta: object = None) -> Markup:
        """A value as the page shows data, with what scrubbing removed muted and explained."""
        return scrubbed_view.show(value, meta)

    def meta_of(self, *path: str | int) -> dict[str, Any]:
        """What `_meta` says about the value at `path` ({} when nothing)."""
        return scrubbed_view.meta_at(self.meta, *path)

    @property
    def exceptions(self) -> list[ExceptionView]:
        values = values_of(self.data.get("exception"))
        metas = [self.meta_of("exception", "values", index) for index in range(len(values))]
        # Listed cause first in the payload; the raised exception reads best on top, as in Sentry.
        shown = list(reversed(list(zip(values, metas, strict=True))))
        return [
            _exception_view(value, chained=index > 0, meta=meta) for index, (value, meta) in enumerate(shown)
        ]

    @property
    def thread_stacks(self) -> list[ExceptionView]:
        """Without an exception, the stack trace an event may still carry: its own (a message with
        attach_stacktrace) or the crashed, else current, else first thread's."""
        if self.data.get("exception"):
            return []
        own = as_dict(self.data.get("stacktrace"))
        if own.get("frames"):
            return [_stack_view("Stack trace", own, self.meta_of("stacktrace"))]
        thread = _shown_thread(self.data.get("threads"))
        if thread is None:
            return []
        name = text(thread.get("name")) or text(thread.get("id")) or ""
        index = next(i for i, t in enumerate(values_of(self.data.get("threads"))) if t is thread)
        meta = self.meta_of("threads", "values", index, "stacktrace")
        return [_stack_view(f"Thread {name}".strip(), as_dict(thread.get("stacktrace")), meta)]

    @property
    def stacks(self) -> list[ExceptionView]:
        return self.exceptions or self.thread_stacks

    @property
    def frame_toggle(self) -> bool:
        """Whether "in-app only" would hide anything: some stack mixes in-app and other frames."""
        return any(s.has_app_frames and s.has_system_frames for s in self.stacks)

    @property
    def message(self) -> str:
        logentry = self.data.get("logentry")
        if isinstance(logentry, dict):
            return str(logentry.get("formatted") or logentry.get("message") or "")
        return ""

    @property
    def breadcrumbs(self) -> list[Crumb]:
        return [
            Crumb(
                timestamp=parse_timestamp(crumb.get("timestamp")),
                category=text(crumb.get("category")) or text(crumb.get("type")) or "",
                level=text(crumb.get("level")) or "",
                message=text(crumb.get("message")) or "",
                data=as_dict(crumb.get("data")),
                meta=self.meta_of("breadcrumbs", "values", index),
            )
            for index, crumb in enumerate(values_of(self.data.get("breadcrumbs")))
        ]

    @property
    def tags(self) -> list[tuple[str, str]]:
        """The tags the event is counted under (the SDK's and the derived ones such as release and
        user), so the event's tags and the issue's tag breakdown use the same keys."""
        return sorted(event_tags(self.data))

    @property
    def request(self) -> RequestView | None:
        request = as_dict(self.data.get("request"))
        if not request:
            return None
        url = text(request.get("url")) or ""
        return RequestView(
            method=text(request.get("method")) or "",
            url=url,
            link=url if _is_web_url(url) else None,
            sections=[
                (name, request[name])
                for name in ("query_string", "headers", "data", "cookies", "env")
                if request.get(name)
            ],
            meta=self.meta_of("request"),
        )

    @property
    def trace_id(self) -> str | None:
        """`contexts.trace.trace_id` when it is one (32 hex digits), for the link to the trace's
        transactions (shoal/web/performance_pages.py)."""
        found = (text(as_dict(as_dict(self.data.get("contexts")).get("trace")).get("trace_id")) or "").lower()
        return found if _TRACE_ID.fullmatch(found) else None

    @property
    def sdk(self) -> SdkView | None:
        sdk = as_dict(self.data.get("sdk"))
        if not sdk:
            return None
        packages = [as_dict(p) for p in as_list(sdk.get("packages"))]
        return SdkView(
            name=text(sdk.get("name")) or "",
            version=text(sdk.get("version")) or "",
            integrations=[str(i) for i in as_list(sdk.get("integrations")) if isinstance(i, str)],
            packages=[
                f"{text(p.get('name')) or '?'} {text(p.get('version')) or ''}".strip() for p in packages if p
            ],
        )

    @property
    def processing_errors(self) -> list[dict[str, Any]]:
        """What normalization changed or dropped, as Sentry lists an event's errors."""
        return [as_dict(e) for e in as_list(self.data.get("errors")) if isinstance(e, dict)]

    def section(self, name: str) -> dict[str, Any]:
        """A data bag such as user, contexts or extra; {} when absent or malformed."""
        return as_dict(self.data.get(name))


def _is_web_url(url: str) -> bool:
    # Only http(s) with a host is made a link: "javascript:", "data:" and friends stay text.
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _shown_thread(threads: object) -> dict[str, Any] | None:
    with_stack = [t for t in values_of(threads) if as_dict(t.get("stacktrace")).get("frames")]
    for flag in ("crashed", "current"):
        for thread in with_stack:
            if thread.get(flag) is True:
                return thread
    return with_stack[0] if with_stack else None


def _exception_view(value: dict[str, Any], *, chained: bool, meta: dict[str, Any]) -> ExceptionView:
    mechanism = as_dict(value.get("mechanism"))
    handled = mechanism.get("handled")
    source = text(mechanism.get("source")) or ""
    return ExceptionView(
        type=text(value.get("type")) or "",
        value=text(value.get("value")) or "",
        module=text(value.get("module")) or "",
        mechanism=text(mechanism.get("type")) or "",
        handled=handled if isinstance(handled, bool) else None,
        frames=_frames(as_dict(value.get("stacktrace")), scrubbed_view.meta_at(meta, "stacktrace")),
        chain=_CHAIN_WORDS.get(source, _CHAINED) if chained else "",
        value_meta=scrubbed_view.meta_at(meta, "value"),
    )


def _stack_view(title: str, stacktrace: dict[str, Any], meta: dict[str, Any]) -> ExceptionView:
    frames = _frames(stacktrace, meta)
    return ExceptionView(type=title, value="", module="", mechanism="", handled=None, frames=frames, chain="")


def _frames(stacktrace: dict[str, Any], meta: dict[str, Any]) -> list[FrameView]:
    """Newest first; `meta` is `_meta`'s node for the stack trace."""
    frames = list(enumerate(as_list(stacktrace.get("frames"))))
    return [
        _frame_view(frame, scrubbed_view.meta_at(meta, "frames", index, "vars"))
        for index, frame in reversed(frames)
        if isinstance(frame, dict)
    ]


def _frame_view(frame: dict[str, Any], vars_meta: dict[str, Any]) -> FrameView:
    variables = frame.get("vars")
    module = text(frame.get("module")) or ""
    filename = text(frame.get("filename")) or text(frame.get("abs_path")) or ""
    return FrameView(
        location=module or filename or "?",
        filename=filename if module else "",
        function=text(frame.get("function")) or "?",
        lineno=frame.get("lineno"),
        colno=frame.get("colno"),
        in_app=frame.get("in_app") is True,
        lines=_source_lines(frame),
        vars=variables if isinstance(variables, dict) else {},
        vars_meta=vars_meta,
    )


def _source_lines(frame: dict[str, Any]) -> list[SourceLine]:
    context_line = frame.get("context_line")
    if not isinstance(context_line, str):
        return []
    before = [line for line in as_list(frame.get("pre_context")) if isinstance(line, str)]
    after = [line for line in as_list(frame.get("post_context")) if isinstance(line, str)]
    lineno = frame.get("lineno")
    first = lineno - len(before) if isinstance(lineno, int) and not isinstance(lineno, bool) else None
    lines = [*before, context_line, *after]
    return [
        SourceLine(
            number=first + offset if first is not None else None, text=line, current=offset == len(before)
        )
        for offset, line in enumerate(lines)
    ]
