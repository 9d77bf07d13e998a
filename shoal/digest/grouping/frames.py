"""One stack frame as a grouping component: which of module, filename, function and context line
contribute, for Python and the JavaScript family (grouping.md §5)."""

from __future__ import annotations

import re
from typing import Any

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


def frame_component(frame: dict[str, Any], platform: str, config: GroupingConfig) -> Component:
    platform = text(frame.get("platform")) or platform
    is_js = platform in _JS_PLATFORMS
    module = _module(frame, is_js)
    filename = _filename(frame)
    if module.contributes and filename.contributes:
        filename.exclude("module takes precedence")
    function = _function(frame, is_js)
    children = [module, filename, function]
    if platform in config.contextline_platforms:
        children.append(_context_line(frame, is_js, config))
    if is_js and function.contributes and _sourcemapped(frame) and children[-1].contributes:
        function.exclude("ignored because sourcemap used and context line available")
    component = Component("frame", [c for c in children if c.values or c.hint])
    if is_js and _low_quality_js(frame):
        component.exclude("ignored low quality javascript frame")
    return component


def _module(frame: dict[str, Any], is_js: bool) -> Component:
    module = text(frame.get("module"))
    if not module:
        return Component("module")
    component = Component("module", [module])
    abs_path = text(frame.get("abs_path"))
    if is_js and "/" in module and abs_path and abs_path.endswith(module):
        component.exclude("ignored bad javascript module")
    return component


def _filename(frame: dict[str, Any]) -> Component:
    filename = text(frame.get("filename"))
    if not filename:
        return Component("filename")
    basename = re.split(r"[/\\]", filename)[-1].lower()
    component = Component("filename", [basename])
    if is_url(frame.get("abs_path")):
        component.exclude("ignored because frame points to a URL")
    elif basename in _IGNORED_FILENAMES:
        component.exclude("anonymous filename discarded")
    return component


def _function(frame: dict[str, Any], is_js: bool) -> Component:
    function = text(frame.get("function")) or text(frame.get("raw_function"))
    if not function:
        return Component("function")
    if not is_js:
        return Component("function", [function])
    trimmed = function.rsplit(".", 1)[-1]
    component = Component("function", [trimmed])
    if not trimmed or trimmed in _IGNORED_JS_FUNCTIONS or trimmed.endswith("/<"):
        component.exclude("ignored unknown function name")
    return component


def _context_line(frame: dict[str, Any], is_js: bool, config: GroupingConfig) -> Component:
    raw = frame.get("context_line")
    if not isinstance(raw, str) or not raw:
        return Component("context_line")
    line = " ".join(raw.split())
    if config.parameterize_multiprocessing_context_line and _is_spawn_main(frame, line):
        line = _DIGITS_AFTER_EQUALS.sub("=<int>", line)
    component = Component("context_line", [line] if line else [])
    if len(raw) > _MAX_CONTEXT_LINE:
        component.exclude("discarded because line too long")
    elif is_js and not text(frame.get("function")) and is_url(frame.get("abs_path"), with_file=True):
        component.exclude("discarded because from URL origin")
    return component


def _is_spawn_main(frame: dict[str, Any], line: str) -> bool:
    return (
        frame.get("module") == "__main__"
        and frame.get("filename") == "<string>"
        and frame.get("function") == "<module>"
        and _SPAWN_MAIN.fullmatch(line) is not None
    )


def _sourcemapped(frame: dict[str, Any]) -> bool:
    return bool(as_dict(frame.get("data")).get("sourcemap"))


def _low_quality_js(frame: dict[str, Any]) -> bool:
    function = (text(frame.get("function")) or "").rsplit(".", 1)[-1]
    return function == "eval" or text(frame.get("abs_path")) in _LOW_QUALITY_JS_PATHS
