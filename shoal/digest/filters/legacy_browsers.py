"""Legacy browsers: drop a JavaScript event from a browser too old to be worth fixing for, told by
the request's `User-Agent`, with the versions of Sentry's current sub-filters (reference §4.1):
Internet Explorer up to 11, Edge up to 110, Safari up to 15, Firefox up to 110, Chrome up to 110,
Opera up to 99, Android's own browser up to Android 3, Opera Mini up to 34. On by default, all of
them, as in Sentry; events of other platforms are never looked at (a server's errors do not come
from its visitors' browsers).

The user agent is read here with a few patterns in a fixed order (Opera and Edge say "Chrome" too,
Chrome says "Safari", Android's browser says "Safari"), enough for these eight families; an agent
not recognised is kept.
"""

from __future__ import annotations

import re

from shoal import outcomes
from shoal.digest.filters.inbound import Inbound, user_agent
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_LEGACY_BROWSERS

# The newest major version each family's sub-filter drops.
NEWEST_LEGACY = {
    "ie": 11,
    "edge": 110,
    "safari": 15,
    "firefox": 110,
    "chrome": 110,
    "opera": 99,
    "android": 3,
    "opera_mini": 34,
}

# (family, pattern whose first group is the major version), the first that matches wins.
_FAMILIES = (
    ("opera_mini", re.compile(r"Opera Mini/(\d+)")),
    ("opera", re.compile(r"\bOPR/(\d+)")),
    ("opera", re.compile(r"\bOpera\b.*\bVersion/(\d+)")),
    ("opera", re.compile(r"\bOpera[/ ](\d+)")),
    ("edge", re.compile(r"\bEdg(?:e|A|iOS)?/(\d+)")),
    ("ie", re.compile(r"\bMSIE (\d+)")),
    ("ie", re.compile(r"\bTrident/\d+.*\brv:(\d+)")),
    ("firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("chrome", re.compile(r"\b(?:Chrome|CriOS|Chromium)/(\d+)")),
    ("android", re.compile(r"\bAndroid (\d+)(?=.*\bVersion/\d)(?=.*\bSafari/)")),
    ("safari", re.compile(r"\bVersion/(\d+)(?=.*\bSafari/)")),
)


def check(event: Inbound, settings: FilterSettings) -> str | None:
    if not settings.is_on(REASON) or event.data.get("platform") != "javascript":
        return None
    agent = user_agent(event.data)
    return REASON if agent is not None and is_legacy(agent) else None


def is_legacy(agent: str) -> bool:
    found = browser(agent)
    return found is not None and found[1] <= NEWEST_LEGACY[found[0]]


def browser(agent: str) -> tuple[str, int] | None:
    """The agent's family (a key of NEWEST_LEGACY) and major version, or None."""
    for family, pattern in _FAMILIES:
        match = pattern.search(agent)
        if match:
            return family, int(match[1])
    return None
