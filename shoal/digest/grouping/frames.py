"""One stack frame as a grouping component: which of module, filename, function and context line
contribute, for Python and the JavaScript family (grouping.md §5)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from shoal.digest.grouping.component import Component
from shoal.digest.grouping.configs import GroupingConfig
from shoal.eventdata import as_dict, text

_JS_PLATFORMS = frozenset({"javascript", "node"})
_URL_PREFIXES = ("http:", "https:", "applewebdata:", "blob:")
_URL_PREFIXES_WITH_FILE = (*_URL_PREFIXES, "file:")
_IGNORED_FILENAMES = frozenset({"<anonymous>", "[native code]"})
_IGNORED_JS_FUNCTIONS = frozenset({"?", "<anonymous function>", "<anonymous>", "Anonymous function"})
_LOW_QUALITY_JS_PATHS = frozenset({"[native code]", "native code", "eval code", "<anonymous>"})
_MAX_CONTEXT_LINE = 120
# The CPython multiprocessing bootstrap line; its fd numbers change from run to run (§3 step 2).
_SPAWN_MAIN = re.compile(
    r"from multiprocessing\.spawn import spawn_main; "
    r"spawn_main\((?:tracker_fd|parent_pid)=\d+, pipe_handle=\d+\)"
)
_DIGITS_AFTER_EQUALS = re.compile(r"=\d+")


def is_url(path: object, with_file: bool = False) -> bool:
    return isinstance(path, str) and path.startswith(_URL_PREFIXES_WITH_FILE if with_file else _URL_PREFIXES)


class FrameFields(NamedTuple):
    """Every field of a frame the rules below read, as hashable text (or None)."""

    platform: str
    module: str | None
    filename: str | None
    abs_path: str | None
    function: str | None
    raw_function: str | None
    context_line: str | None
    sourcemapped: bool


def frame_component(frame: dict[str, Any], platform: str, config: GroupingConfig) -> Component:
    fields = FrameFields(
        platform=text(frame.get("platform")) or platform,
        module=text(frame.get("module")),
        filename=text(frame.get("filename")),
        abs_path=_string(frame.get("abs_path")),
        function=text(frame.get("function")),
        raw_function=text(frame.get("raw_function")),
        context_line=_string(frame.get("context_line")),
        sourcemapped=bool(as_dict(frame.get("data")).get("sourcemap")),
    )
    return _frame_component(fields, config)


# The same line of code fails again and again, so most frames were seen before; components are
# immutable, so those reuse theirs. On the corpus this halves the cost of grouping an event.
@lru_cache(maxsize=8192)
def _frame_component(frame: FrameFields, config: GroupingConfig) -> Component:
    is_js = frame.platform in _JS_PLATFORMS
    module = _module(frame, is_js)
    filename = _filename(frame)
    if module.contributes and filename.contributes:
        filename = filename.excluded("module takes precedence")
    function = _function(frame, is_js)
    context_line = (
        _context_line(frame, is_js, config) if frame.platform in config.contextline_platforms else None
    )
    if is_js and function.contributes and frame.sourcemapped and context_line and context_line.contributes:
        function = function.excluded("ignored because sourcemap used and context line available")
    children = [
        c for c in (module, filename, function, context_line) if c is not None and (c.values or c.hint)
    ]
    component = Component("frame", tuple(children))
    if is_js and _low_quality_js(frame):
        return component.excluded("ignored low quality javascript frame")
    return component


def _module(frame: FrameFields, is_js: bool) -> Component:
    module = frame.module
    if not module:
        return Component("module")
    component = Component("module", (module,))
    if is_js and "/" in module and frame.abs_path and frame.abs_path.endswith(module):
        return component.excluded("ignored bad javascript module")
    return component


def _filename(frame: FrameFields) -> Component:
    if not frame.filename:
        return Component("filename")
    basename = frame.filename.rpartition("/")[2].rpartition("\\")[2].lower()
    component = Component("filename", (basename,))
    if is_url(frame.abs_path):
        return component.excluded("ignored because frame points to a URL")
    if basename in _IGNORED_FILENAMES:
        return component.excluded("anonymous filename discarded")
    return component


def _function(frame: FrameFields, is_js: bool) -> Component:
    function = frame.function or frame.raw_function
    if not function:
        return Component("function")
    if not is_js:
        return Component("function", (function,))
    trimmed = function.rsplit(".", 1)[-1]
    component = Component("function", (trimmed,))
    if not trimmed or trimmed in _IGNORED_JS_FUNCTIONS or trimmed.endswith("/<"):
        return component.excluded("ignored unknown function name")
    return component


def _context_line(frame: FrameFields, is_js: bool, config: GroupingConfig) -> Component:
    raw = frame.context_line
    if not raw:
        return Component("context_line")
    line = " ".join(raw.split())
    if config.parameterize_multiprocessing_context_line and _is_spawn_main(frame, line):
        line = _DIGITS_AFTER_EQUALS.sub("=<int>", line)
    component = Component("context_line", (line,) if line else ())
    if len(raw) > _MAX_CONTEXT_LINE:
        return component.excluded("discarded because line too long")
    if is_js and not frame.function and is_url(frame.abs_path, with_file=True):
        return component.excluded("discarded because from URL origin")
    return component


def _is_spawn_main(frame: FrameFields, line: str) -> bool:
    return (
        frame.module == "__main__"
        and frame.filename == "<string>"
        and frame.function == "<module>"
        and _SPAWN_MAIN.fullmatch(line) is not None
    )


def _low_quality_js(frame: FrameFields) -> bool:
    function = (frame.function or "").rsplit(".", 1)[-1]
    return function == "eval" or frame.abs_path in _LOW_QUALITY_JS_PATHS


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None
