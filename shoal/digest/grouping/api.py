"""`calculate_grouping`: from a normalized event to every variant and the ordered hashes that
decide its issue (grouping.md §3 steps 4-5, §8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shoal.digest.grouping.configs import DEFAULT_CONFIG_ID, get_config
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


def calculate_grouping(event: Mapping[str, Any], config_id: str = DEFAULT_CONFIG_ID) -> GroupingResult:
    """Raises UnknownGroupingConfig for an unknown config id; never for odd event data."""
    config = get_config(config_id)
    checksum = checksum_variant(event)
    variants = {checksum.name: checksum} if checksum else component_variants(event, config)
    hashes = _ordered_hashes(variants)
    if not hashes:
        fallback = fallback_variant()
        variants[fallback.name] = fallback
        hashes = _ordered_hashes(variants)
    return GroupingResult(config.id, hashes, variants)


def _ordered_hashes(variants: dict[str, Variant]) -> list[str]:
    hashes: list[str] = []
    for variant in sorted(variants.values(), key=lambda v: v.name == SYSTEM):
        if variant.hash is not None and variant.hash not in hashes:
            hashes.append(variant.hash)
    return hashes
