"""Sentry-compatible grouping: from a normalized event to the hashes that decide its issue.

`calculate_grouping` returns every variant (for the "why was this grouped" view) and the ordered
list of contributing hashes: app first, system last; the first one already known decides the issue
(grouping.md §8). Stack-trace rules and fingerprints come on top of this in a later step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shoal.digest.grouping.component import Component, md5_of
from shoal.digest.grouping.configs import CONFIG_IDS, DEFAULT_CONFIG_ID, get_config
from shoal.digest.grouping.strategies import SYSTEM, strategy_results

__all__ = ["CONFIG_IDS", "DEFAULT_CONFIG_ID", "GroupingResult", "Variant", "calculate_grouping"]

_CHECKSUM = re.compile(r"[0-9a-f]{32}")
FALLBACK_HASH = md5_of([])


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # "component", "checksum", "hashed_checksum" or "fallback"
    hash: str | None
    root: Component | None = None

    @property
    def contributes(self) -> bool:
        return self.hash is not None


@dataclass(frozen=True)
class GroupingResult:
    config_id: str
    hashes: list[str]
    variants: dict[str, Variant]


def calculate_grouping(event: Mapping[str, Any], config_id: str = DEFAULT_CONFIG_ID) -> GroupingResult:
    config = get_config(config_id)
    checksum = event.get("checksum")
    if isinstance(checksum, str) and checksum:
        return _checksum_result(config.id, checksum)
    variants: dict[str, Variant] = {}
    for strategy in strategy_results(dict(event), config):
        for name, root in strategy.roots.items():
            if name not in variants or not variants[name].contributes:
                variants[name] = Variant(name, "component", root.hash(), root)
    hashes = _ordered_hashes(variants)
    if not hashes:
        variants["fallback"] = Variant("fallback", "fallback", FALLBACK_HASH)
        hashes = [FALLBACK_HASH]
    return GroupingResult(config.id, hashes, variants)


def _checksum_result(config_id: str, checksum: str) -> GroupingResult:
    # A legacy client-chosen checksum replaces grouping entirely (grouping.md §3 step 4).
    if _CHECKSUM.fullmatch(checksum):
        variant = Variant("checksum", "checksum", checksum)
    else:
        variant = Variant("hashed_checksum", "hashed_checksum", md5_of([checksum]))
    assert variant.hash is not None
    return GroupingResult(config_id, [variant.hash], {variant.name: variant})


def _ordered_hashes(variants: dict[str, Variant]) -> list[str]:
    ordered = sorted(variants.values(), key=lambda v: v.name == SYSTEM)
    hashes: list[str] = []
    for variant in ordered:
        if variant.hash is not None and variant.hash not in hashes:
            hashes.append(variant.hash)
    return hashes
