"""Which of two releases is later, where that can be known (regressions depend on it)."""

from __future__ import annotations

import pytest

from shoal.release_versions import compare_releases


@pytest.mark.parametrize(
    ("left", "right", "order"),
    [
        ("1.2.3", "1.2.4", -1),
        ("1.10.0", "1.9.9", 1),
        ("v2.0.0", "2.0.0", 0),
        ("shop@1.4.0", "shop@1.3.9", 1),
        ("1.0.0-rc.1", "1.0.0", -1),
        ("1.0.0-alpha.2", "1.0.0-alpha.10", -1),
        ("1.0.0-alpha", "1.0.0-alpha.1", -1),
        ("1.0.0+build5", "1.0.0+build9", 0),
        ("1.2", "1.2.0", 0),
    ],
)
def test_semver_releases_compare_by_version(left: str, right: str, order: int) -> None:
    assert compare_releases(left, right) == order


@pytest.mark.parametrize(
    ("left", "right"), [("a1b2c3d", "e4f5a6b"), ("shop@1.0.0", "admin@1.0.1"), ("1.0.0", "x")]
)
def test_other_releases_have_no_order(left: str, right: str) -> None:
    assert compare_releases(left, right) is None
