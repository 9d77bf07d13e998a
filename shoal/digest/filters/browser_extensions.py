"""Browser extensions: drop a JavaScript error that a browser extension, toolbar or injecting proxy
caused rather than the site's code, as Sentry's filter does (the patterns of Relay's
`browser_extensions.rs`, reference §4.1):

- the first exception's message is one such code is known to throw (`top.GLOBALS`,
  `Extension context invalidated`, `can't access dead object`, …);
- or the innermost frame with a real file (not `<anonymous>` or `[native code]`) is an extension's
  (`chrome-extension://`, `moz-extension://`, `safari-web-extension://`, `webkit-masked-url`) or a
  known injected script's (Facebook's SDK, Woopra, Kaspersky, …).

On by default, as in Sentry. No Python event matches: the patterns are of browsers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shoal import outcomes
from shoal.digest.filters.inbound import Inbound, exceptions, frames, text
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_BROWSER_EXTENSIONS

_MESSAGES = re.compile(
    "|".join(
        (
            r"top\.GLOBALS",
            r"originalCreateNotification",
            r"canvas.contentDocument",
            r"MyApp_RemoveAllHighlights",
            r"http://tt\.epicplay\.com",
            r"Can't\sfind\svariable:\sZiteReader",
            r"jigsaw\sis\snot\sdefined",
            r"ComboSearch\sis\snot\sdefined",
            r"http://loading\.retry\.widdit\.com/",
            r"atomicFindClose",
            r"fb_xd_fragment",  # Facebook's cross-domain frame
            r"bmi_SafeAddOnload",  # an ISP's "optimizing" proxy
            r"EBCallBackMessageReceived",
            r"_gCrWeb",  # Chrome on iOS
            r"conduitPage",  # Conduit toolbars
            r"null\sis\snot\san\sobject\s\(evaluating\s'elt.parentNode'\)",  # Google Search app, iOS
            r"plugin\.setSuspendState\sis\snot\sa\sfunction",  # Dragon web extension
            r"Extension\scontext\sinvalidated",  # Chrome extension messaging
            r"webkit-masked-url:",
            r"can't\saccess\sdead\sobject",  # Firefox, an extension's node gone
        )
    ),
    re.IGNORECASE,
)
_SOURCES = re.compile(
    "|".join(
        (
            r"graph\.facebook\.com",
            r"connect\.facebook\.net",
            r"eatdifferent\.com\.woopra-ns\.com",
            r"static\.woopra\.com/js/woopra\.js",
            r"^chrome(-extension)?://",
            r"^moz-extension://",
            r"^safari(-web)?-extension://",
            r"webkit-masked-url",
            r"127\.0\.0\.1:4001/isrunning",  # Cacaoweb
            r"webappstoolbarba\.texthelp\.com/",
            r"metrics\.itunes\.apple\.com\.edgesuite\.net/",
            r"kaspersky-labs\.com",
        )
    ),
    re.IGNORECASE,
)
_NO_SOURCE = frozenset({"<anonymous>", "[native code]"})


def check(event: Inbound, settings: FilterSettings) -> str | None:
    if not settings.is_on(REASON):
        return None
    found = exceptions(event.data)
    if not found:
        return None
    first = found[0]
    value = text(first.get("value"))
    if value is not None and _MESSAGES.search(value):
        return REASON
    source = _source(first)
    return REASON if source is not None and _SOURCES.search(source) else None


def _source(exception: Mapping[str, Any]) -> str | None:
    """The innermost frame's file that is a real one."""
    for frame in reversed(frames(exception)):
        path = text(frame.get("abs_path"))
        if path is not None and path not in _NO_SOURCE:
            return path
    return None
