"""Stack-trace rules (grouping.md §11) through `calculate_grouping`: the base rules of each config,
project rules with ranges, max-frames and min-frames, categories, and the in_app bookkeeping that
makes grouping the stored event again give the same answer. Expected hashes are worked out here
from the values that should contribute (§7)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from shoal.digest.grouping import calculate_grouping
from shoal.digest.grouping.component import Component

NEW, OLD = "newstyle:2026-01-20", "newstyle:2023-01-11"


def md5(*values: str) -> str:
    return hashlib.md5("".join(values).encode()).hexdigest()


def frame(module: str, function: str, in_app: bool | None = True, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"module": module, "function": function, "context_line": f"{function}()", **extra}
    if in_app is not None:
        found["in_app"] = in_app
    return found


def children(component: Component | None) -> list[Component]:
    assert component is not None
    return [value for value in component.values if isinstance(value, Component)]


def leaves(module: str, function: str) -> tuple[str, str, str]:
    return (module, function, f"{function}()")


def event_with(*frames: dict[str, Any], type_: str = "KeyError") -> dict[str, Any]:
    exception = {"type": type_, "value": "x", "stacktrace": {"frames": list(frames)}}
    return {"platform": "python", "exception": {"values": [exception]}}


def test_a_site_packages_frame_the_sdk_called_in_app_is_not_in_app() -> None:
    library = frame("requests.api", "get", abs_path="/venv/lib/python3.11/site-packages/requests/api.py")
    event = event_with(frame("shop.cart", "add"), library)
    result = calculate_grouping(event)
    assert result.hashes[0] == md5("KeyError", *leaves("shop.cart", "add"))
    assert library["in_app"] is False
    assert library["data"]["orig_in_app"] is True


def test_the_2026_base_rules_take_usr_lib_out_of_the_app_and_2023_does_not() -> None:
    system = frame("json.decoder", "decode", abs_path="/usr/local/lib/python3.11/json/decoder.py")
    own = frame("shop.api", "load")
    new = calculate_grouping(event_with(own, copy.deepcopy(system)), NEW)
    old = calculate_grouping(event_with(own, copy.deepcopy(system)), OLD)
    assert new.hashes[0] == md5("KeyError", *leaves("shop.api", "load"))
    assert old.hashes[0] == md5(*leaves("shop.api", "load"), *leaves("json.decoder", "decode"), "KeyError")


def test_v_group_stops_every_caller_of_the_matched_frame_from_counting() -> None:
    # grouping.md §12.3 example 1, worked out by hand: the frames before the last matching frame
    # stop contributing, the matching frame and those after it still count.
    frames = [
        frame("shop.views", "dispatch"),
        frame("heroku.release_webhook", "handle", abs_path="/app/heroku/release_webhook.py"),
        frame("shop.hooks", "notify"),
        frame("shop.hooks", "post"),
    ]
    result = calculate_grouping(event_with(*frames), stacktrace_rules="path:**/release_webhook.py v-group")
    expected = ("KeyError", *leaves("heroku.release_webhook", "handle"), *leaves("shop.hooks", "notify"))
    assert result.hashes[0] == md5(*expected, *leaves("shop.hooks", "post"))
    (exception,) = children(result.variants["app"].root)
    _, _, stack = children(exception)
    dispatch = children(stack)[0]
    assert dispatch.hint == "ignored by stack trace rule (stack.abs_path:**/release_webhook.py v-group)"


def test_caret_group_rules_act_on_the_frames_towards_the_crash() -> None:
    frames = [frame("shop.jobs", "run"), frame("shop.retry", "retry"), frame("shop.db", "query")]
    result = calculate_grouping(event_with(*frames), stacktrace_rules="function:retry ^-group")
    assert result.hashes[0] == md5("KeyError", *leaves("shop.jobs", "run"), *leaves("shop.retry", "retry"))


def test_minus_group_on_one_frame_and_a_later_rule_wins() -> None:
    frames = [frame("shop.jobs", "run"), frame("shop.retry", "retry")]
    rules = "function:retry -group\nmodule:shop.retry +group"
    assert calculate_grouping(event_with(*frames), stacktrace_rules=rules).hashes[0] == md5(
        "KeyError", *leaves("shop.jobs", "run"), *leaves("shop.retry", "retry")
    )
    only_minus = calculate_grouping(event_with(*frames), stacktrace_rules="function:retry -group")
    assert only_minus.hashes[0] == md5("KeyError", *leaves("shop.jobs", "run"))


def test_max_frames_keeps_the_frames_closest_to_the_crash() -> None:
    frames = [frame("shop.a", "one"), frame("shop.b", "two"), frame("shop.c", "three")]
    result = calculate_grouping(event_with(*frames), stacktrace_rules="module:shop.* max-frames=2")
    assert result.hashes[0] == md5("KeyError", *leaves("shop.b", "two"), *leaves("shop.c", "three"))


def test_min_frames_discards_a_stack_that_is_too_short() -> None:
    result = calculate_grouping(
        event_with(frame("shop.a", "one")), stacktrace_rules="module:shop.* min-frames=2"
    )
    # The stack does not count, so the exception groups by its type and value.
    assert result.hashes[0] == md5("KeyError", "x")


def test_plus_app_and_minus_app_with_a_caller_matcher() -> None:
    frames = [frame("celery.app", "trace", in_app=False), frame("shop.tasks", "run", in_app=False)]
    rules = "[ module:celery.* ] | function:run +app"
    result = calculate_grouping(event_with(*frames), stacktrace_rules=rules)
    assert result.hashes[0] == md5("KeyError", *leaves("shop.tasks", "run"))


def test_a_category_set_by_one_rule_is_matched_by_a_later_one() -> None:
    frames = [frame("shop.jobs", "run"), frame("shop.metrics", "emit")]
    rules = "module:shop.metrics category=telemetry\ncategory:telemetry -group"
    result = calculate_grouping(event_with(*frames), stacktrace_rules=rules)
    assert result.hashes[0] == md5("KeyError", *leaves("shop.jobs", "run"))


def test_the_multiprocessing_bootstrap_frame_is_internal_in_2026() -> None:
    bootstrap = frame("__main__", "<module>", in_app=True, filename="<string>")
    frames = [
        bootstrap,
        frame("multiprocessing.spawn", "spawn_main", in_app=True),
        frame("shop.worker", "work"),
    ]
    new = calculate_grouping(event_with(*copy.deepcopy(frames)), NEW)
    assert new.hashes[0] == md5(
        "KeyError", *leaves("multiprocessing.spawn", "spawn_main"), *leaves("shop.worker", "work")
    )


def test_exception_matchers_select_which_stacks_a_rule_touches() -> None:
    frames = [frame("shop.jobs", "run"), frame("shop.db", "query")]
    rules = "error.type:TimeoutError module:shop.db -group"
    timeout = calculate_grouping(
        event_with(*copy.deepcopy(frames), type_="TimeoutError"), stacktrace_rules=rules
    )
    other = calculate_grouping(event_with(*copy.deepcopy(frames)), stacktrace_rules=rules)
    assert timeout.hashes[0] == md5("TimeoutError", *leaves("shop.jobs", "run"))
    assert other.hashes[0] == md5("KeyError", *leaves("shop.jobs", "run"), *leaves("shop.db", "query"))


def test_grouping_the_changed_event_again_starts_from_what_the_sdk_sent() -> None:
    event = event_with(frame("shop.jobs", "run"), frame("shop.db", "query", in_app=None))
    first = calculate_grouping(event, stacktrace_rules="module:shop.db +app").hashes
    # With the rule gone, the frame goes back to what the SDK said (nothing: not in app).
    without_rule = calculate_grouping(event).hashes
    assert without_rule[0] == md5("KeyError", *leaves("shop.jobs", "run"))
    assert calculate_grouping(event, stacktrace_rules="module:shop.db +app").hashes == first


def test_a_node_internal_frame_never_counts() -> None:
    frames = [
        {
            "function": "processTicksAndRejections",
            "filename": "node:internal/process/task_queues",
            "in_app": False,
        },
        {"function": "handler", "module": "app", "filename": "/srv/app.js", "in_app": True},
    ]
    event = {
        "platform": "node",
        "exception": {"values": [{"type": "Error", "value": "x", "stacktrace": {"frames": frames}}]},
    }
    result = calculate_grouping(event)
    system = result.variants["system"]
    assert system.root is not None and "processTicksAndRejections" not in system.root.leaves()
