"""Shoal's own grouping conformance suite: events from the real sentry-sdk and @sentry/node, and
browser-shaped ones, each with the values that should be hashed per variant and config, worked out
by hand from docs/grouping.md and the code that raised them (never from Shoal's output).

`conformance/expected.json` maps "<source>/<name>" to its expectation, the event being
`conformance/events/<source>/<name>.json`:

- `{"exceptions": [{"type", "value"?, "frames": [[leaf, …], …]}]}`: an exception variant; the test
  lays the leaves out in each config's order (2026: type, value, frames; 2023: frames, type, value);
- `{"message": "…"}`: the message variant; `{"values": […]}`: a fingerprint variant;
- `"salted": [...]` next to `exceptions`: a hybrid fingerprint, `{{ default }}` standing for the
  variant's values;
- `null`: the variant may exist but must not count. A contributing variant not listed fails.

Optional keys: `fingerprint_rules`, `stacktrace_rules` (the project's rules) and `configs` (a
config's own expectations, where the two configs differ).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

from shoal.digest.grouping import CONFIG_IDS, calculate_grouping
from shoal.digest.normalize import NormalizeContext, normalize_event

HERE = Path(__file__).parent / "conformance"
EXPECTED: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text())
OLD = "newstyle:2023-01-11"


def md5(values: list[str]) -> str:
    return hashlib.md5("".join(values).encode()).hexdigest()


def expected_leaves(spec: dict[str, Any], config: str) -> list[str]:
    if "message" in spec:
        return [spec["message"]]
    if "values" in spec:
        return list(spec["values"])
    leaves: list[str] = []
    for exception in spec["exceptions"]:
        # A type of null: the type does not count (a synthetic exception's).
        type_ = [exception["type"]] if exception["type"] is not None else []
        head = [*type_, *([exception["value"]] if "value" in exception else [])]
        frames = [leaf for frame in exception["frames"] for leaf in frame]
        leaves.extend([*frames, *head] if config == OLD else [*head, *frames])
    return leaves


def expected_hash(spec: dict[str, Any], config: str) -> str:
    leaves = expected_leaves(spec, config)
    if "salted" not in spec:
        return md5(leaves)
    return md5(
        [part for entry in spec["salted"] for part in (leaves if entry == "{{ default }}" else [entry])]
    )


def cases() -> list[Any]:
    return [
        pytest.param(name, config, id=f"{name}-{config[9:13]}")
        for name in sorted(EXPECTED)
        for config in CONFIG_IDS
    ]


@pytest.mark.parametrize(("name", "config"), cases())
def test_conformance(name: str, config: str) -> None:
    case = EXPECTED[name]
    raw = json.loads((HERE / "events" / f"{name}.json").read_text())
    event = normalize_event(raw, NormalizeContext(time.time(), None, None, None))
    result = calculate_grouping(
        event,
        config,
        fingerprint_rules=case.get("fingerprint_rules", ""),
        stacktrace_rules=case.get("stacktrace_rules", ""),
    )
    expected = case.get("configs", {}).get(config, case["expected"])
    problems = []
    for variant_name, spec in expected.items():
        variant = result.variants.get(variant_name)
        if spec is None:
            if variant is not None and variant.contributes:
                problems.append(f"{variant_name}: expected not to count, counts with {_actual(variant)}")
            continue
        if variant is None or not variant.contributes:
            state = "absent" if variant is None else "does not count"
            problems.append(f"{variant_name}: expected {expected_leaves(spec, config)}, {state}")
            continue
        if _actual(variant) != expected_leaves(spec, config) or variant.hash != expected_hash(spec, config):
            problems.append(
                f"{variant_name}: expected {expected_leaves(spec, config)}, got {_actual(variant)}"
            )
    extra = [n for n, v in result.variants.items() if v.contributes and n not in expected]
    problems.extend(f"{n}: counts with {_actual(result.variants[n])} but was not expected to" for n in extra)
    assert not problems, "\n".join(problems)


def _actual(variant: Any) -> list[str]:
    if variant.root is not None:
        return [str(leaf) for leaf in variant.root.leaves()]
    return list(variant.values)


def test_the_suite_is_large_enough_and_every_event_has_an_expectation() -> None:
    events = {str(p.relative_to(HERE / "events"))[:-5] for p in (HERE / "events").rglob("*.json")}
    assert events == set(EXPECTED)
    assert len(EXPECTED) >= 60
