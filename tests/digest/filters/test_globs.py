"""The inbound filters' glob syntax (shoal/digest/filters/globs.py), Sentry's health-check globs,
and patterns made to be slow, which must still answer at once."""

from __future__ import annotations

import pytest

from shoal.digest.filters.globs import MAX_EXPANSIONS, any_match, glob_error, glob_match
from shoal.digest.filters.health_check import HEALTH_CHECK_GLOBS


@pytest.mark.parametrize(
    ("value", "pattern", "matches"),
    [
        ("ConnectionResetError", "ConnectionResetError", True),
        ("connectionreseterror", "ConnectionResetError", True),  # case-insensitive
        ("ConnectionResetError", "Connection", False),  # the whole text
        ("TimeoutError: read timed out", "*timed out*", True),
        ("line one\nline two", "*two", True),  # `*` crosses line breaks
        ("a/b/c", "a*c", True),  # and slashes
        ("v1", "v?", True),
        ("v12", "v?", False),
        ("v3", "v[1-4]", True),
        ("v5", "v[!1-4]", True),
        ("v3", "v[!1-4]", False),
        ("a*b", r"a\*b", True),
        ("axb", r"a\*b", False),
        ("/health", "*/health{/,}", True),
        ("/health/", "*/health{/,}", True),
        ("/healthy", "*/health{/,}", False),
        ("staging", "{staging,dev-*}", True),
        ("dev-anna", "{staging,dev-*}", True),
        ("a{b", "a{b", True),  # an unclosed brace is literal
        ("x[z-a]", "x[z-a]", True),  # so is a class no regular expression can hold
        ("a[b", "a[b", True),
        ("", "*", True),
        ("x", "?*?", False),
    ],
)
def test_glob_syntax(value: str, pattern: str, matches: bool) -> None:
    assert glob_match(value, pattern) is matches


@pytest.mark.parametrize(
    "name",
    [
        "GET /healthz",
        "/k8s/ready/",
        "/status/up",
        "/health",
        "/ping",
        "/_health",
        "/[_health]",
        "app.healthcheck.view",
        "/heartbeat",
        "/livez",
        "/readyz/",
        "/health_check",
    ],
)
def test_the_health_check_globs_match_health_endpoints(name: str) -> None:
    assert any_match([name], HEALTH_CHECK_GLOBS)


@pytest.mark.parametrize(
    "name",
    [
        "/api/healthy-recipes",
        "/pings",
        "/upload",
        "/readystate",
        "/livestream",
        "GET /api/v1/users/health-records",
        "app.main.health",
        "/checkout",
    ],
)
def test_the_health_check_globs_leave_other_endpoints_alone(name: str) -> None:
    assert not any_match([name], HEALTH_CHECK_GLOBS)


def test_many_stars_on_a_long_value_that_almost_matches_answer_at_once() -> None:
    # A regular expression with `*` as `.*` backtracks exponentially here and would not finish in a
    # lifetime; no clock is asserted: a regression hangs the test instead of making it flaky.
    assert not glob_match("a" * 100_000, "*a" * 100 + "b")
    assert glob_match("a" * 100_000 + "b", "*a" * 100 + "*b")
    assert not any_match(["x" * 50_000] * 20, ["*x*x*x*x*x*x*x*x*x*y"] * 100)


def test_a_pattern_with_too_many_alternatives_is_refused_and_matches_nothing() -> None:
    explosive = "{a,b}" * 7  # 128 combinations
    assert glob_error(explosive) is not None
    assert str(MAX_EXPANSIONS) in (glob_error(explosive) or "")
    assert not glob_match("a" * 7, explosive)
    assert glob_error("{a,b}" * 6) is None
    assert glob_match("ab" * 3, "{a,b}" * 6)


def test_a_huge_pattern_compiles_and_matches() -> None:
    pattern = "?" * 5_000 + "*" + "[a-z]" * 5_000
    assert glob_match("1" * 5_000 + "q" * 5_000, pattern)
    assert not glob_match("1" * 9_999, pattern)
