"""The stack-trace rules each config applies before a project's own (grouping.md §11.4), written
here, limited to what can touch Python and JavaScript events: vendored and installed packages,
CDNs, transpiler helpers, Node's internals and telemetry agents are not the application."""

from __future__ import annotations

from shoal.digest.grouping.stacktrace_rules import StacktraceRules, parse_stacktrace_rules

_BOTH = """
path:**/vendor/** -app
path:**/site-packages/** -app
path:**/dist-packages/** -app
path:**/node_modules/** -app
module:unpkg/** -app
path:**https://unpkg.com/** -app
path:**https://cdnjs.cloudflare.com/** -app
path:**https://cdn.jsdelivr.net/** -app
path:**https://esm.run/** -app
family:javascript function:reportError ^-app -app
module:@babel/** -app -group
module:core-js/** -app -group
module:regenerator-runtime/** -app -group
module:tslib/** -app -group
family:javascript function:_callSuper -app -group
family:javascript function:runMicrotasks -app -group
family:javascript function:queueMicrotask -app -group
family:javascript function:processTicksAndRejections -app -group
family:javascript function:runNextTicks -app -group
family:javascript function:nextTick -app -group
module:newrelic -app -group
path:**/*newrelic*/** -app -group
path:**/*LogRocket*/** -app -group
"""

_2023_ONLY = """
category:internals -group
"""

# 2026 treats system library paths as not in app for every platform (2023: native only), names
# CPython's multiprocessing bootstrap frame, and keeps internals and telemetry out of both variants.
_2026_ONLY = """
package:/lib/** -app
package:/usr/lib/** -app
path:/usr/local/lib/** -app
path:/usr/local/Cellar/** -app
path:**/.local/share/** -app
function:<module> | [ function:spawn_main ] category=internals
category:internals -app -group
category:throw ^-group -group ^-app -app
category:telemetry -app -group
"""

BASE_RULES_TEXT = {
    "newstyle:2023-01-11": _BOTH + _2023_ONLY,
    "newstyle:2026-01-20": _BOTH + _2026_ONLY,
}


def base_rules(config_id: str) -> StacktraceRules:
    return parse_stacktrace_rules(BASE_RULES_TEXT[config_id])
