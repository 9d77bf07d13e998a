"""Ordering two release names, where that can be known: Sentry's semver releases (`1.2.3`,
`v2.0.0-rc.1`, `my-app@1.4.0+build5`) compare by version; anything else has no order of its own."""

from __future__ import annotations

import re

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+\S*)?$")


def compare_releases(left: str, right: str) -> int | None:
    """-1, 0 or 1 when both are semver releases of the same package; None when it cannot tell."""
    left_package, left_key = _parsed(left)
    right_package, right_key = _parsed(right)
    if left_key is None or right_key is None or left_package != right_package:
        return None
    return (left_key > right_key) - (left_key < right_key)


def _parsed(release: str) -> tuple[str, tuple[int, int, int, int, tuple[tuple[int, int | str], ...]] | None]:
    package, _, version = release.rpartition("@")
    match = _SEMVER.match(version)
    if match is None:
        return package, None
    major, minor, patch, pre = match.groups()
    # A pre-release sorts before its release (1.0.0-rc.1 < 1.0.0): the flag is 0 for one.
    pre_key = tuple(_identifier(part) for part in pre.split(".")) if pre else ()
    return package, (int(major), int(minor), int(patch or 0), 0 if pre else 1, pre_key)


def _identifier(part: str) -> tuple[int, int | str]:
    # Semver: numeric identifiers sort before alphanumeric ones, numbers by value.
    return (0, int(part)) if part.isdigit() else (1, part)
