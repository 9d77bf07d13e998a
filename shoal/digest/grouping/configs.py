"""Sentry's two grouping configs that matter, and the option flags in which they differ.

`newstyle:2026-01-20` is the default for new projects; `newstyle:2023-01-11` is what most existing
Sentry projects still use (grouping.md §2). Both share every strategy; only these flags and their
base stack-trace rules differ.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroupingConfig:
    id: str
    # 2023: an exception's children are [stacktrace, type, value]; 2026: [type, value, stacktrace].
    # The hash is order-sensitive, so this alone changes every exception hash (grouping.md §2).
    legacy_exception_child_order: bool
    # 2023 ignores a lone nameless JavaScript frame *with* a URL (a bug kept for stability); 2026
    # ignores one *without* a URL, as intended (grouping.md §4.6 step 4).
    js_single_frame_ignores_url: bool
    # 2026 replaces the numbers in CPython's multiprocessing bootstrap line (grouping.md §3 step 2).
    parameterize_multiprocessing_context_line: bool
    # 2023 leaves an unknown fingerprint variable as written; 2026 makes it
    # "<unrecognized-variable-x>" (grouping.md §2, §9).
    legacy_unknown_fingerprint_variables: bool
    # 2026 parameterizes a literal fingerprint entry that equals one of the event's messages (§9).
    parameterize_message_entries: bool
    # Platforms whose frames contribute their context line (grouping.md §2).
    contextline_platforms: frozenset[str] = frozenset({"javascript", "node", "python", "php", "ruby"})


NEWSTYLE_2026 = GroupingConfig(
    id="newstyle:2026-01-20",
    legacy_exception_child_order=False,
    js_single_frame_ignores_url=False,
    parameterize_multiprocessing_context_line=True,
    legacy_unknown_fingerprint_variables=False,
    parameterize_message_entries=True,
)
NEWSTYLE_2023 = GroupingConfig(
    id="newstyle:2023-01-11",
    legacy_exception_child_order=True,
    js_single_frame_ignores_url=True,
    parameterize_multiprocessing_context_line=False,
    legacy_unknown_fingerprint_variables=True,
    parameterize_message_entries=False,
)

DEFAULT_CONFIG_ID = NEWSTYLE_2026.id
CONFIGS = {config.id: config for config in (NEWSTYLE_2026, NEWSTYLE_2023)}
CONFIG_IDS = tuple(CONFIGS)


class UnknownGroupingConfig(ValueError):
    pass


def get_config(config_id: str) -> GroupingConfig:
    try:
        return CONFIGS[config_id]
    except KeyError:
        known = ", ".join(CONFIG_IDS)
        raise UnknownGroupingConfig(f"unknown grouping config {config_id!r}; known: {known}") from None
