"""Grouping hashes of small events, each expected hash computed here from the values that should
contribute, in tree order (grouping.md §4, §5, §7)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from shoal.digest.grouping import (
    CONFIG_IDS,
    DEFAULT_CONFIG_ID,
    UnknownGroupingConfig,
    Variant,
    calculate_grouping,
)
from shoal.digest.grouping.component import Component

NEW, OLD = "newstyle:2026-01-20", "newstyle:2023-01-11"


def md5(*values: str) -> str:
    return hashlib.md5("".join(values).encode()).hexdigest()


def frame(module: str, function: str, line: str, in_app: bool = True, **extra: Any) -> dict[str, Any]:
    """A Python frame; its filename never counts, since it has a module."""
    return {
        "module": module,
        "function": function,
        "context_line": line,
        "in_app": in_app,
        "filename": module.replace(".", "/") + ".py",
        "lineno": 10,
        **extra,
    }


def exception(type_: str, value: str, *frames: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An exception with a stack trace of these frames, or without any stack trace."""
    stack = {"stacktrace": {"frames": list(frames)}} if frames else {}
    return {"type": type_, "value": value, **stack, **extra}


def python_event(*exceptions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"platform": "python", "exception": {"values": list(exceptions)}, **extra}


def hashes(event: dict[str, Any], config: str = NEW) -> list[str]:
    return calculate_grouping(event, config).hashes


def strategy_part(variant: Variant) -> Component:
    """The one strategy component under a variant's root."""
    assert variant.root is not None
    (part,) = children(variant.root)
    return part


def children(component: Component) -> list[Component]:
    return [value for value in component.values if isinstance(value, Component)]


# ------------------------------------------------------------------- worked examples of §7


def test_a_message_hashes_its_text_as_sentry_does() -> None:
    event = {"platform": "python", "logentry": {"formatted": "Hello there world!"}}
    assert hashes(event) == ["329b29efcf1f77067a063e34f56e7791"] == [md5("Hello there world!")]


def test_the_two_configs_order_an_exceptions_parts_differently() -> None:
    # Exception 1 has an in-app frame with only a filename; exception 2 has no in-app frame, so in
    # the app variant its value counts. Hashes from grouping.md §7, verified there against Sentry.
    event = python_event(
        exception("ValueError", "hello world", {"filename": "baz.py", "in_app": True}),
        exception("ValueError", "hello world", {"filename": "foo.py", "in_app": False}),
    )
    new, old = hashes(event, NEW), hashes(event, OLD)
    assert (
        new[0]
        == "beb01c07d991f36b9da1e90fc7169ad8"
        == md5("ValueError", "baz.py", "ValueError", "hello world")
    )
    assert (
        old[0]
        == "c52ebcc2d9d0780a23c7d99831678830"
        == md5("baz.py", "ValueError", "ValueError", "hello world")
    )
    # The system variant: both stacks count, the values do not.
    assert new[1] == md5("ValueError", "baz.py", "ValueError", "foo.py")
    assert old[1] == md5("baz.py", "ValueError", "foo.py", "ValueError")


# --------------------------------------------------------------------------------- frames (§5)


def test_an_in_app_python_frame_contributes_module_function_and_collapsed_line() -> None:
    event = python_event(
        exception("KeyError", "'x'", frame("shop.cart", "total", "   return   prices[sku]  "))
    )
    # The system variant hashes the same and is dropped as a duplicate.
    assert hashes(event) == [md5("KeyError", "shop.cart", "total", "return prices[sku]")]


def test_line_numbers_do_not_matter_but_the_line_does() -> None:
    a = python_event(exception("E", "", frame("m", "f", "call()", lineno=10)))
    b = python_event(exception("E", "", frame("m", "f", "call()", lineno=99)))
    c = python_event(exception("E", "", frame("m", "f", "other()", lineno=10)))
    assert hashes(a) == hashes(b) != hashes(c)


def test_the_filename_counts_lowercased_when_there_is_no_module() -> None:
    event = python_event(
        exception("E", "", {"filename": "C:\\Jobs\\Nightly.PY", "function": "run", "in_app": True})
    )
    assert hashes(event) == [md5("E", "nightly.py", "run")]


@pytest.mark.parametrize(("length", "counts"), [(120, True), (121, False)])
def test_a_context_line_over_120_characters_does_not_count(length: int, counts: bool) -> None:
    line = "x = " + "1" * (length - 4)
    event = python_event(exception("E", "", frame("m", "f", line)))
    assert hashes(event) == [md5("E", "m", "f", line) if counts else md5("E", "m", "f")]


def test_the_multiprocessing_bootstrap_line_is_parameterized_in_the_2026_config_only() -> None:
    def spawned(fd: int) -> dict[str, Any]:
        line = (
            f"from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd={fd}, pipe_handle={fd + 2})"
        )
        bootstrap = {
            "module": "__main__",
            "filename": "<string>",
            "function": "<module>",
            "context_line": line,
        }
        return python_event(exception("Boom", "", {**bootstrap, "in_app": True}))

    expected = "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=<int>, pipe_handle=<int>)"
    assert hashes(spawned(5)) == hashes(spawned(9)) == [md5("Boom", "__main__", "<module>", expected)]
    assert hashes(spawned(5), OLD) != hashes(spawned(9), OLD)


def test_a_frame_repeating_the_previous_one_is_recursion_and_counts_once() -> None:
    again = frame("m", "walk", "walk(node)", lineno=3)
    elsewhere = frame("m", "walk", "walk(node)", lineno=4)
    assert hashes(python_event(exception("RecursionError", "", again, again, again))) == [
        md5("RecursionError", "m", "walk", "walk(node)")
    ]
    # The same function on another line is another call, not recursion.
    assert hashes(python_event(exception("RecursionError", "", again, elsewhere))) == [
        md5("RecursionError", "m", "walk", "walk(node)", "m", "walk", "walk(node)")
    ]


# ------------------------------------------------------------------- app and system (§4.2)


def test_library_frames_count_only_in_the_system_variant() -> None:
    event = python_event(
        exception(
            "TimeoutError",
            "t",
            frame("requests.api", "get", "send()", in_app=False),
            frame("shop.pay", "charge", "api.get()"),
        )
    )
    app = md5("TimeoutError", "shop.pay", "charge", "api.get()")
    system = md5("TimeoutError", "requests.api", "get", "send()", "shop.pay", "charge", "api.get()")
    assert hashes(event) == [app, system]


def test_a_variant_tree_lists_what_counted_and_keeps_the_rest_with_a_reason() -> None:
    event = python_event(
        exception(
            "KeyError",
            "'sku 9'",
            frame("lib.db", "get", "d[k]", in_app=False),
            frame("shop.cart", "add", "get()"),
        )
    )
    app = calculate_grouping(event).variants["app"]
    assert app.root is not None
    assert app.root.leaves() == ["KeyError", "shop.cart", "add", "get()"]
    type_, value, stack = children(strategy_part(app))
    assert (type_.contributes, value.contributes, stack.contributes) == (True, False, True)
    assert value.hint == "ignored because stacktrace takes precedence"
    library, own = children(stack)
    assert (library.contributes, library.hint, own.contributes) == (False, "non app frame", True)
    assert [child.id for child in children(own)] == ["module", "filename", "function", "context_line"]
    assert children(own)[1].hint == "ignored because module takes precedence"


def test_a_frame_without_in_app_is_marked_not_in_app_and_grouping_again_changes_nothing() -> None:
    library: dict[str, Any] = {"module": "lib.io", "function": "write", "context_line": "w()"}
    event = python_event(exception("OSError", "disk full", library, frame("shop.io", "save", "write()")))
    expected = [
        md5("OSError", "shop.io", "save", "write()"),
        md5("OSError", "lib.io", "write", "w()", "shop.io", "save", "write()"),
    ]
    assert hashes(event) == expected
    # As Sentry's normalization does (grouping.md §3 step 2): the stored event says what was used.
    assert library["in_app"] is False
    grouped_once = copy.deepcopy(event)
    assert hashes(event) == expected
    assert event == grouped_once


def test_an_error_entirely_in_library_code_groups_on_the_system_stack() -> None:
    # The app variant would fall back to type and value, but the system variant has a contributing
    # stack trace, and a variant with one wins.
    event = python_event(exception("OSError", "disk 3 full", frame("lib.io", "write", "w()", in_app=False)))
    result = calculate_grouping(event)
    assert result.hashes == [md5("OSError", "lib.io", "write", "w()")]
    assert not result.variants["app"].contributes
    assert result.variants["system"].contributes


# ---------------------------------------------------------------------------- exceptions (§4.3)


def test_the_value_does_not_count_when_a_frame_does() -> None:
    first = python_event(exception("KeyError", "'a'", frame("shop.cart", "total", "x")))
    second = python_event(exception("KeyError", "'b'", frame("shop.cart", "total", "x")))
    assert hashes(first) == hashes(second)


def test_a_frameless_exception_groups_by_type_and_normalized_value_in_the_app_variant_only() -> None:
    event = {
        "platform": "python",
        "exception": {"values": [{"type": "Timeout", "value": "after 30s\nmore\nlines"}]},
    }
    result = calculate_grouping(event)
    assert result.hashes == [md5("Timeout", "after <duration>\nmore...")]
    assert set(result.variants) == {"app"}


def test_a_stack_trace_without_frames_is_no_stack_trace() -> None:
    # Relay drops it (frames are required and non-empty), so the exception is frameless.
    event = python_event({"type": "Timeout", "value": "slow", "stacktrace": {"frames": []}})
    result = calculate_grouping(event)
    assert result.hashes == [md5("Timeout", "slow")]
    assert set(result.variants) == {"app"}


@pytest.mark.parametrize(("config", "order"), [(NEW, ["E", "m", "f", "x()"]), (OLD, ["m", "f", "x()", "E"])])
def test_each_config_orders_type_value_and_stack_its_own_way(config: str, order: list[str]) -> None:
    assert hashes(python_event(exception("E", "v", frame("m", "f", "x()"))), config) == [md5(*order)]


def test_a_synthetic_exception_type_does_not_count() -> None:
    event = python_event(exception("Error", "boom", frame("m", "f", "x()"), mechanism={"synthetic": True}))
    assert hashes(event) == [md5("m", "f", "x()")]


def test_chained_exceptions_count_in_payload_order() -> None:
    cause = exception("ConnectionError", "refused", frame("shop.db", "connect", "sock()"))
    raised = exception("PaymentError", "failed", frame("shop.pay", "charge", "db.connect()"))
    expected = md5(
        "ConnectionError",
        "shop.db",
        "connect",
        "sock()",
        "PaymentError",
        "shop.pay",
        "charge",
        "db.connect()",
    )
    assert hashes(python_event(cause, raised)) == [expected]


def test_a_frameless_exception_in_a_chain_counts_only_in_the_app_variant() -> None:
    cause = exception("ConnectionError", "refused 3 times")
    raised = exception("PaymentError", "failed", frame("lib.http", "post", "send()", in_app=False))
    result = calculate_grouping(python_event(cause, raised))
    app, system = strategy_part(result.variants["app"]), strategy_part(result.variants["system"])
    assert [len(app.values), len(system.values)] == [2, 1]
    # The app chain has no contributing stack trace, so the system chain, which has, groups.
    assert not app.contributes
    assert result.hashes == [md5("PaymentError", "lib.http", "post", "send()")]


# ------------------------------------------------------------------------ exception groups (§4.4)


def member(
    exception_id: int, parent_id: int | None, type_: str, value: str = "x", group: bool = False
) -> dict[str, Any]:
    mechanism: dict[str, Any] = {"type": "chained", "exception_id": exception_id, "is_exception_group": group}
    if parent_id is not None:
        mechanism["parent_id"] = parent_id
    return exception(type_, value, frame("app.jobs", "run", f"run_{type_}()"), mechanism=mechanism)


def contribution(type_: str) -> tuple[str, ...]:
    return (type_, "app.jobs", "run", f"run_{type_}()")


def test_a_group_of_one_kind_of_leaf_groups_like_that_leaf() -> None:
    group = python_event(
        member(1, 0, "ValueError", "item 1"),
        member(2, 0, "ValueError", "item 2"),
        member(0, None, "ExceptionGroup", group=True),
    )
    # Leaves are alike when their whole components are, values included once parameterized.
    assert hashes(group) == [md5(*contribution("ValueError"))]


def test_a_group_of_several_kinds_counts_one_of_each_by_type_descending_then_the_group() -> None:
    group = python_event(
        member(1, 0, "KeyError"),
        member(2, 0, "ValueError"),
        member(3, 0, "KeyError"),
        member(0, None, "ExceptionGroup", group=True),
    )
    expected = md5(*contribution("ValueError"), *contribution("KeyError"), *contribution("ExceptionGroup"))
    assert hashes(group) == [expected]


def test_leaves_that_differ_only_in_a_value_that_does_not_count_are_still_distinct() -> None:
    group = python_event(
        member(1, 0, "ValueError", "no stock"),
        member(2, 0, "ValueError", "no price"),
        member(0, None, "ExceptionGroup", group=True),
    )
    # Sentry compares members by their whole component, so two ValueErrors from one line count twice.
    expected = md5(*contribution("ValueError"), *contribution("ValueError"), *contribution("ExceptionGroup"))
    assert hashes(group) == [expected]


def test_the_single_leaf_brings_its_first_child_chain_root_first() -> None:
    # A non-group root with a child: the filter keeps the root and its first child, in tree order.
    event = python_event(member(1, 0, "ConnectionError"), member(0, None, "PaymentError"))
    assert hashes(event) == [md5(*contribution("PaymentError"), *contribution("ConnectionError"))]


def test_of_two_children_the_last_sent_is_the_first_child() -> None:
    event = python_event(
        member(2, 1, "OSError"),
        member(3, 1, "TimeoutError"),
        member(1, 0, "ValueError"),
        member(0, None, "ExceptionGroup", group=True),
    )
    assert hashes(event) == [md5(*contribution("ValueError"), *contribution("TimeoutError"))]


def test_a_malformed_group_counts_every_exception_in_payload_order() -> None:
    event = python_event(
        member(1, 0, "ValueError"), member(1, 0, "KeyError"), member(0, None, "ExceptionGroup")
    )
    expected = md5(*contribution("ValueError"), *contribution("KeyError"), *contribution("ExceptionGroup"))
    assert hashes(event) == [expected]


def test_python_sdk_3_events_skip_the_group_filter() -> None:
    members = [
        member(1, 0, "ValueError"),
        member(2, 0, "ValueError"),
        member(0, None, "ExceptionGroup", group=True),
    ]
    event = python_event(*members, sdk={"name": "sentry.python", "version": "3.0.0"})
    expected = md5(*contribution("ValueError"), *contribution("ValueError"), *contribution("ExceptionGroup"))
    assert hashes(event) == [expected]


# -------------------------------------------------------------------------------- threads (§4.5)


def thread_event(*threads: dict[str, Any], message: str = "stuck") -> dict[str, Any]:
    return {"platform": "python", "logentry": {"formatted": message}, "threads": {"values": list(threads)}}


def thread(thread_id: int, *frames: dict[str, Any], **flags: Any) -> dict[str, Any]:
    return {"id": thread_id, "stacktrace": {"frames": list(frames)}, **flags}


def test_the_crashed_thread_groups_a_message_with_a_stack() -> None:
    event = thread_event(
        thread(1, frame("worker.idle", "sleep", "wait()")),
        thread(2, frame("worker.loop", "tick", "poll()"), crashed=True),
    )
    result = calculate_grouping(event)
    assert result.hashes == [md5("worker.loop", "tick", "poll()")]
    assert strategy_part(result.variants["default"]).hint == "threads takes precedence"


def test_two_crashed_threads_fall_back_to_the_current_one() -> None:
    event = thread_event(
        thread(1, frame("a", "f", "x()"), crashed=True),
        thread(2, frame("b", "g", "y()"), crashed=True),
        thread(3, frame("c", "h", "z()"), current=True),
    )
    assert hashes(event) == [md5("c", "h", "z()")]


def test_the_only_thread_is_picked() -> None:
    assert hashes(thread_event(thread(7, frame("solo", "run", "go()")))) == [md5("solo", "run", "go()")]


def test_without_a_unique_thread_the_message_groups() -> None:
    event = thread_event(
        thread(1, frame("a", "f", "x()")), thread(2, frame("b", "g", "y()")), message="stuck 5 s"
    )
    assert hashes(event) == [md5("stuck <int> s")]


def test_a_picked_thread_without_frames_lets_the_message_group() -> None:
    assert hashes(thread_event(thread(1, crashed=True), message="hung")) == [md5("hung")]


def test_a_top_level_stack_trace_groups_when_there_is_no_exception() -> None:
    event = {
        "platform": "python",
        "stacktrace": {"frames": [frame("cli.main", "run", "go()")]},
        "message": "x",
    }
    assert hashes(event) == [md5("cli.main", "run", "go()")]


# -------------------------------------------------------------------------------- message (§4.7)


def test_the_message_template_groups_across_its_arguments() -> None:
    first = {"logentry": {"message": "queue %s late by %d s", "formatted": "queue a late by 3 s"}}
    second = {"logentry": {"message": "queue %s late by %d s", "formatted": "queue b late by 9 s"}}
    assert hashes(first) == hashes(second) == [md5("queue %s late by %d s")]


def test_a_formatted_message_is_trimmed_and_parameterized() -> None:
    event = {"logentry": {"formatted": "Order 4711 failed\nretry at 12:30\ntraceback follows"}}
    assert hashes(event) == [md5("Order <int> failed\nretry at <date>...")]


def test_a_plain_string_message_counts_as_the_log_entry() -> None:
    assert hashes({"platform": "python", "message": "Payment retry limit reached"}) == [
        md5("Payment retry limit reached")
    ]


# --------------------------------------------------------------------------- JavaScript (§4.6, §5)


def js_event(*frames: dict[str, Any], platform: str = "javascript", value: str = "x") -> dict[str, Any]:
    return {"platform": platform, "exception": {"values": [exception("TypeError", value, *frames)]}}


def js_frame(**fields: Any) -> dict[str, Any]:
    return {
        "abs_path": "https://shop.example/static/app.js",
        "filename": "/static/app.js",
        "in_app": True,
        **fields,
    }


def test_javascript_functions_keep_their_last_segment_and_urls_are_not_filenames() -> None:
    event = js_event(js_frame(function="Cart.prototype.total", context_line="return a.b"))
    assert hashes(event) == [md5("TypeError", "total", "return a.b")]


def test_a_source_mapped_function_name_yields_to_the_context_line() -> None:
    event = js_event(js_frame(function="n", context_line="cart.total()", data={"sourcemap": "app.js.map"}))
    assert hashes(event) == [md5("TypeError", "cart.total()")]


def test_eval_and_native_code_frames_do_not_count() -> None:
    event = js_event(
        js_frame(function="eval", context_line="a()"),
        js_frame(function="forEach", abs_path="[native code]", filename="[native code]"),
        js_frame(function="checkout", context_line="pay()"),
    )
    assert hashes(event) == [md5("TypeError", "checkout", "pay()")]


def test_a_frame_whose_only_part_is_an_unknown_function_still_keeps_the_value_out() -> None:
    # Sentry decides that the frame contributes before it discards "?", so the stack contributes
    # nothing yet still takes precedence over the value.
    assert hashes(js_event(js_frame(function="?"), value="boom 1")) == [md5("TypeError")]


def test_a_query_string_does_not_split_javascript_filenames() -> None:
    def event(version: int) -> dict[str, Any]:
        return js_event(js_frame(abs_path="/srv/app.js", filename=f"app.js?v={version}", function="main"))

    assert hashes(event(1)) == hashes(event(2)) == [md5("TypeError", "app.js", "main")]


def test_a_module_that_is_the_end_of_the_path_is_ignored_for_browser_javascript_only() -> None:
    fields = {
        "abs_path": "/srv/lib/cart.js",
        "filename": "cart.js",
        "module": "lib/cart.js",
        "function": "add",
    }
    assert hashes(js_event(js_frame(**fields))) == [md5("TypeError", "cart.js", "add")]
    assert hashes(js_event(js_frame(**fields), platform="node")) == [md5("TypeError", "lib/cart.js", "add")]


def test_a_lone_nameless_javascript_frame_is_ignored_per_config() -> None:
    def lone(abs_path: str) -> dict[str, Any]:
        return js_event(
            {"module": "app", "abs_path": abs_path, "filename": "app.js", "in_app": True}, value="boom"
        )

    with_url, without_url = lone("https://shop.example/app.js"), lone("/srv/app.js")
    # 2026: a lone nameless frame without a URL says nothing; one with a URL is kept.
    assert hashes(with_url) == [md5("TypeError", "app")]
    assert hashes(without_url) == [md5("TypeError", "boom")]
    # 2023 has the test inverted (a legacy bug kept for hash stability, grouping.md §4.6).
    assert hashes(with_url, OLD) == [md5("TypeError", "boom")]
    assert hashes(without_url, OLD) == [md5("app", "TypeError")]


# ------------------------------------------------------------------- checksum, fallback, result


def test_a_checksum_replaces_grouping() -> None:
    event = {"checksum": "0123456789abcdef0123456789abcdef", "logentry": {"formatted": "x"}}
    result = calculate_grouping(event)
    assert result.hashes == ["0123456789abcdef0123456789abcdef"]
    assert set(result.variants) == {"checksum"}


@pytest.mark.parametrize("checksum", ["my-own-key", "0123456789ABCDEF0123456789ABCDEF"])
def test_any_other_checksum_is_hashed(checksum: str) -> None:
    result = calculate_grouping({"checksum": checksum})
    assert result.hashes == [md5(checksum)]
    assert result.variants["hashed_checksum"].kind == "hashed_checksum"


def test_an_event_with_nothing_to_group_by_falls_back_to_the_empty_hash() -> None:
    result = calculate_grouping({"platform": "python"})
    assert result.hashes == ["d41d8cd98f00b204e9800998ecf8427e"]
    assert result.variants["fallback"].kind == "fallback"


def test_every_variant_is_kept_for_the_explanation() -> None:
    event = python_event(
        exception("E", "v", frame("lib", "f", "x()", in_app=False), frame("app", "g", "y()")),
        logentry={"formatted": "failed"},
    )
    result = calculate_grouping(event)
    assert result.config_id == DEFAULT_CONFIG_ID
    assert list(result.variants) == ["app", "system", "default"]
    assert [v.contributes for v in result.variants.values()] == [True, True, False]
    assert result.hashes == [result.variants["app"].hash, result.variants["system"].hash]


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_the_result_names_its_config(config_id: str) -> None:
    assert calculate_grouping({}, config_id).config_id == config_id


def test_an_unknown_config_is_refused_by_name() -> None:
    with pytest.raises(UnknownGroupingConfig, match="newstyle:1999"):
        calculate_grouping({}, "newstyle:1999")
