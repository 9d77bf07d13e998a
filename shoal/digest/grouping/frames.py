"""One stack frame as a grouping component: which of module, filename, function and context line
contribute, for Python and the JavaScript family (grouping.md §5), after the frame fix-ups of
grouping.md §3 step 2 (JavaScript query strings, CPython's multiprocessing bootstrap line)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from shoal.digest.grouping.component import Component
from shoal.digest.grouping.configs import GroupingConfig, get_config
from shoal.eventdata import as_dict, text

JS_PLATFORMS = frozenset({"javascript", "node"})
_URL_PREFIXES = ("http:", "https:", "applewebdata:", "blob:")
_URL_OR_FILE_PREFIXES = (*_URL_PREFIXES, "file:")
_UNKNOWN_JS_FUNCTIONS = frozenset({"?", "<anonymous function>", "<anonymous>", "Anonymous function"})
_LOW_QUALITY_JS_PATHS = frozenset({"[native code]", "native code", "eval code", "<anonymous>"})
_MAX_CONTEXT_LINE = 120
# The line CPython runs in a spawned process; its file descriptors and pids change on every run.
_SPAWN_MAIN = re.compile(
    r"from multiprocessing\.spawn import spawn_main; "
    r"spawn_main\((?:tracker_fd|parent_pid)=\d+, pipe_handle=\d+\)"
)
_NUMBER_AFTER_EQUALS = re.compile(r"=\d+")


def is_url(path: str | None, files_count: bool) -> bool:
    """Whether a frame's abs_path is a URL; `file:` paths count only for some rules (§4.6, §5)."""
    if not path:
        return False
    return path.startswith(_URL_OR_FILE_PREFIXES if files_count else _URL_PREFIXES)


class _FrameFields(NamedTuple):
    """A frame's fields as the rules read them, after the §3 fix-ups."""

    platform: str
    module: str | None
    filename: str | None
    abs_path: str | None
    function: str | None
    raw_function: str | None
    # None when this platform's context lines do not count, or there is none.
    context_line: str | None
    sourcemapped: bool


class _FrameKey(NamedTuple):
    """Everything a frame's component depends on, as sent: the key of the cache below."""

    config_id: str
    event_platform: str
    platform: object
    module: object
    filename: object
    abs_path: object
    function: object
    raw_function: object
    context_line: object
    sourcemapped: bool


def frame_component(frame: dict[str, Any], event_platform: str, config: GroupingConfig) -> Component:
    get = frame.get
    # The fields of a _FrameKey, in a plain tuple: building the named one costs more than a cache hit.
    key = (
        config.id,
        event_platform,
        get("platform"),
        get("module"),
        get("filename"),
        get("abs_path"),
        get("function"),
        get("raw_function"),
        get("context_line"),
        # Sentry tests that the key is set, whatever its value.
        as_dict(get("data")).get("sourcemap") is not None,
    )
    try:
        return _cached_frame_component(*key)
    except TypeError:  # a field is a list or an object, which cannot be a cache key: build it anew
        return _frame_component(*key)


def grouping_filename(filename: object, event_platform: str) -> str | None:
    """The filename as grouping sees it: for JavaScript events without its query string
    ("app.js?v=3" → "app.js", grouping.md §3 step 2)."""
    name = text(filename)
    if event_platform != "javascript" or not name or "?" not in name:
        return name
    try:
        query = urlsplit(name).query
    except ValueError:  # an unparsable URL, e.g. "http://[::1"; Sentry keeps it as is
        return name
    return name.replace(f"?{query}", "") if query else name


def _fields(key: _FrameKey) -> _FrameFields:
    platform = text(key.platform) or key.event_platform
    return _FrameFields(
        platform=platform,
        module=text(key.module),
        filename=grouping_filename(key.filename, key.event_platform),
        abs_path=text(key.abs_path),
        function=text(key.function),
        raw_function=text(key.raw_function),
        context_line=_grouping_context_line(key, platform),
        sourcemapped=key.sourcemapped,
    )


def _grouping_context_line(key: _FrameKey, platform: str) -> str | None:
    config = get_config(key.config_id)
    if platform not in config.contextline_platforms:
        return None
    line = text(key.context_line)
    if not line:
        return None
    if (
        config.parameterize_multiprocessing_context_line
        and key.event_platform == "python"
        and key.module == "__main__"
        and key.filename == "<string>"
        and key.function == "<module>"
        and _SPAWN_MAIN.match(line)
    ):
        return _NUMBER_AFTER_EQUALS.sub("=<int>", line)
    return line


def _frame_component(*key: object) -> Component:
    frame = _fields(_FrameKey._make(key))
    is_js = frame.platform in JS_PLATFORMS
    module = _module(frame)
    filename = _filename(frame)
    if module.contributes and filename.contributes:
        filename = filename.excluded("ignored because module takes precedence")
    context_line = _context_line(frame, is_js) if frame.context_line else None
    function = _function(frame, is_js, context_line)
    parts = (
        [module, filename, function] if context_line is None else [module, filename, function, context_line]
    )
    # Sentry settles whether the frame contributes here, before it discards unknown JavaScript
    # function names below: a frame whose only part was such a name still counts, with nothing to
    # hash, which keeps its exception's value from counting.
    contributes = any(part.contributes for part in parts)
    if not is_js:
        return Component("frame", tuple(parts), contributes=contributes)
    parts[2] = _without_unknown_js_function(frame, function)
    if _is_low_quality_js(frame):
        return Component(
            "frame", tuple(parts), contributes=False, hint="ignored low quality javascript frame"
        )
    return Component("frame", tuple(parts), contributes=contributes)


# The same lines fail again and again, so most frames were seen in an earlier event; components
# never change, so those reuse theirs (half the cost of grouping a corpus event).
# Typed, so that a name sent as 1, 1.0 or True (equal keys otherwise) is not taken for another.
_cached_frame_component = lru_cache(maxsize=8192, typed=True)(_frame_component)


def _module(frame: _FrameFields) -> Component:
    if frame.module is None:
        return Component("module")
    component = Component("module", (frame.module,))
    # A "module" that is just the end of the path, as some JS SDKs send (only "javascript" here).
    if (
        frame.platform == "javascript"
        and "/" in frame.module
        and frame.abs_path
        and frame.abs_path.endswith(frame.module)
    ):
        return component.excluded("ignored bad javascript module")
    return component


def _filename(frame: _FrameFields) -> Component:
    if frame.filename is None:
        return Component("filename")
    basename = frame.filename.rpartition("/")[2].rpartition("\\")[2].lower()
    component = Component("filename", (basename,))
    if is_url(frame.abs_path, files_count=False):
        return component.excluded("ignored because frame points to a URL")
    if basename == "<anonymous>":
        return component.excluded("ignored because filename is anonymous")
    if basename == "[native code]":
        return component.excluded("ignored because filename suggests native code")
    return component


def _function(frame: _FrameFields, is_js: bool, context_line: Component | None) -> Component:
    name = frame.function or frame.raw_function
    if not name:
        return Component("function")
    if not is_js:
        return Component("function", (name,))
    # "Object.foo" in one browser is "foo" in another.
    component = Component("function", (name.rsplit(".", 1)[-1],))
    # Names from source maps are unreliable; the original line says more.
    if frame.sourcemapped and context_line is not None and context_line.contributes:
        return component.excluded("ignored because sourcemap used and context line available")
    return component


def _without_unknown_js_function(frame: _FrameFields, function: Component) -> Component:
    # Sentry tests the raw name first here, unlike when it builds the component.
    name = (frame.raw_function or frame.function or "").rsplit(".", 1)[-1]
    if not name:
        return Component("function", function.values, contributes=False, hint=function.hint)
    if name in _UNKNOWN_JS_FUNCTIONS or name.endswith("/<"):
        return function.excluded("ignored unknown function name")
    return function


def _context_line(frame: _FrameFields, is_js: bool) -> Component:
    raw = frame.context_line or ""
    line = " ".join(raw.split())
    if not line:
        return Component("context_line")
    component = Component("context_line", (line,))
    if len(raw) > _MAX_CONTEXT_LINE:
        return component.excluded("ignored because line is too long")
    if is_js and not frame.function and is_url(frame.abs_path, files_count=True):
        return component.excluded("ignored because file path is a URL and function name is missing")
    return component


def _is_low_quality_js(frame: _FrameFields) -> bool:
    name = (frame.raw_function or frame.function or "").rsplit(".", 1)[-1]
    return name == "eval" or frame.abs_path in _LOW_QUALITY_JS_PATHS
