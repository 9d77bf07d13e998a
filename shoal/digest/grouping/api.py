"""`calculate_grouping`: from a normalized event to every variant and the ordered hashes that
decide its issue (grouping.md §3 steps 2-5, §8)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from shoal.digest.grouping.base_rules import base_rules
from shoal.digest.grouping.configs import DEFAULT_CONFIG_ID, GroupingConfig, get_config
from shoal.digest.grouping.fingerprint_rules import (
    MatchedRule,
    match_fingerprint_rules,
    parse_fingerprint_rules,
)
from shoal.digest.grouping.fingerprints import (
    Fingerprint,
    apply_fingerprint,
    event_fingerprint,
    resolve_title,
)
from shoal.digest.grouping.stacktrace_rules import (
    StackHits,
    StacktraceRules,
    classify_frames,
    parse_stacktrace_rules,
)
from shoal.digest.grouping.strategies import (
    SYSTEM,
    Variant,
    checksum_variant,
    component_variants,
    fallback_variant,
)


@dataclass(frozen=True)
class GroupingResult:
    config_id: str
    # Contributing hashes, system last, no duplicates, never empty: the first one already attached
    # to an issue decides the issue (grouping.md §8).
    hashes: list[str]
    # Every variant computed, contributing or not, with its tree.
    variants: dict[str, Variant]
    # A matched fingerprint rule's `title="…"`, resolved: the title instead of the usual one.
    title: str | None = None


def calculate_grouping(
    event: dict[str, Any],
    config_id: str = DEFAULT_CONFIG_ID,
    *,
    fingerprint_rules: str = "",
    stacktrace_rules: str = "",
) -> GroupingResult:
    """Group `event` with the config and the project's rules (text syntax, docs/grouping.md).

    Like Sentry's normalization, this changes the event in place: stack-trace rules set frames'
    `in_app` (the SDK's value kept in `data.orig_in_app`) and `data.category`, and a matched
    fingerprint rule's fingerprint replaces the event's (the SDK's kept in `_fingerprint_info`).
    Running it again on the changed event gives the same result. Raises UnknownGroupingConfig or
    RuleSyntaxError for bad settings; never for odd event data.
    """
    config = get_config(config_id)
    rules = StackHits(_stacktrace_rules(config.id, stacktrace_rules))
    classify_frames(event, rules)
    matched = match_fingerprint_rules(event, parse_fingerprint_rules(fingerprint_rules))
    fingerprint = event_fingerprint(event, matched)
    _record_fingerprint(event, fingerprint, matched)
    checksum = checksum_variant(event)
    if checksum:
        variants = {checksum.name: checksum}
    else:
        variants = apply_fingerprint(component_variants(event, config, rules), fingerprint, event, config)
    hashes = _ordered_hashes(variants)
    if not hashes:
        fallback = fallback_variant()
        variants[fallback.name] = fallback
        hashes = _ordered_hashes(variants)
    title = _title(matched, event, config)
    if title is not None:
        event["_fingerprint_info"]["matched_rule"]["title"] = title
    return GroupingResult(config.id, hashes, variants, title)


@lru_cache(maxsize=256)
def _stacktrace_rules(config_id: str, project_rules: str) -> StacktraceRules:
    """The config's base rules, then the project's: one object per project, so that what it
    learns about frames (`StacktraceRules.hits`) is kept from event to event."""
    return base_rules(config_id) + parse_stacktrace_rules(project_rules)


def _record_fingerprint(event: dict[str, Any], fingerprint: Fingerprint, matched: MatchedRule | None) -> None:
    """What Sentry records: the fingerprint used, and with a rule, the SDK's and the rule."""
    client = event.get("_fingerprint_info", {}).get("client_fingerprint", event.get("fingerprint"))
    event.pop("_fingerprint_info", None)
    if matched is None:
        if client is not None:
            event["fingerprint"] = client
        return
    event["fingerprint"] = list(fingerprint.entries)
    event["_fingerprint_info"] = {
        "client_fingerprint": client,
        "matched_rule": {"text": matched.text, "is_builtin": matched.is_builtin},
    }


def _title(matched: MatchedRule | None, event: dict[str, Any], config: GroupingConfig) -> str | None:
    if matched is None or matched.title is None:
        return None
    return resolve_title(matched.title, event, config)


def _ordered_hashes(variants: dict[str, Variant]) -> list[str]:
    hashes: list[str] = []
    for variant in sorted(variants.values(), key=lambda v: v.name == SYSTEM):
        if variant.hash is not None and variant.hash not in hashes:
            hashes.append(variant.hash)
    return hashes
