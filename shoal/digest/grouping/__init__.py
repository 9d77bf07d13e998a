"""Sentry-compatible grouping: from a normalized event to the hashes that decide its issue.

`calculate_grouping` returns every variant (for the "why was this grouped" view) and the ordered
list of contributing hashes, app first, system last (`../shared/reference/grouping.md`, whose
section numbers the modules cite), with fingerprints, fingerprint rules and stack-trace rules.
"""

from shoal.digest.grouping.api import GroupingResult, calculate_grouping
from shoal.digest.grouping.configs import CONFIG_IDS, DEFAULT_CONFIG_ID, UnknownGroupingConfig
from shoal.digest.grouping.strategies import Variant

__all__ = [
    "CONFIG_IDS",
    "DEFAULT_CONFIG_ID",
    "GroupingResult",
    "UnknownGroupingConfig",
    "Variant",
    "calculate_grouping",
]
