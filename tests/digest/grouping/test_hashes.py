"""Grouping hashes, computed by hand from the values that should contribute (grouping.md §4-7)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from shoal.digest.grouping import calculate_grouping
from shoal.digest.grouping.configs import UnknownGroupingConfig

OLD = "newstyle:2023-01-11"


def md5(*values: str) -> str:
    return hashlib.md5("".join(values).encode()).hexdigest()


def frame(module: str, function: str, line: str, in_app: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "module": module,
        "function": function,
        "context_line": line,
        "in_app": in_app,
        "filename": module.replace(".", "/") + ".py",
        **extra,
    }


def exception(type_: str, value: str, *frames: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": type_, "value": value, "stacktrace": {"frames": list(frames)}, **extra}


def python_event(*exceptions: dict[str, Any]) -> dict[str, Any]:
    return {"platform": "python", "exception": {"values": list(exceptions)}}


def hashes(event: dict[str, Any], config: str = "newstyle:2026-01-20") -> list[str]:
    return calculate_grouping(event, config).hashes


def test_a_message_hashes_its_text_as_sentry_does() -> None:
    # The worked example of grouping.md §7, verified there against Sentry's snapshots.
    assert hashes({"platform": "python", "logentry": {"formatted": "Hello there world!"}}) == [
        "329b29efcf1f77067a063e34f56e7791"
    ]


def test_the_two_configs_order_an_exceptions_parts_differently() -> None:
    # grouping.md §7's python_exception_base: exception 1 has an in-app frame with only a filename;
    # exception 2 has no in-app frame, so its value counts. Hashes verified there.
    event = python_event(
        exception("ValueError", "x", {"filename": "baz.py", "in_app": True}),
        exception("ValueError", "hello world", {"filename": "foo.py", "in_app": False}),
    )
    assert (
        hashes(event)[0]
        == "beb01c07d991f36b9da1e90fc7169ad8"
        == md5("ValueError", "baz.py", "ValueError", "hello world")
    )
    assert (
        hashes(event, OLD)[0]
        == "c52ebcc2d9d0780a23c7d99831678830"
        == md5("baz.py", "ValueError", "ValueError", "hello world")
    )


def test_an_in_app_python_frame_contributes_module_function_and_stripped_line() -> None:
    event = python_event(
        exception("KeyError", "'x'", frame("shop.cart", "total", "   return   prices[sku]  "))
    )
    app = md5("KeyError", "shop.cart", "total", "return prices[sku]")
    assert hashes(event) == [app]  # the system variant hashes the same and is dropped as a duplicate


def test_the_value_does_not_count_when_a_frame_does() -> None:
    first = python_event(exception("KeyError", "'a'", frame("shop.cart", "total", "x")))
    second = python_event(exception("KeyError", "'b'", frame("shop.cart", "total", "x")))
    assert hashes(first) == hashes(second)


def test_line_numbers_do_not_matter_but_the_line_does() -> None:
    a = python_event(exception("E", "", frame("m", "f", "call()", lineno=10)))
    b = python_event(exception("E", "", frame("m", "f", "call()", lineno=99)))
    c = python_event(exception("E", "", frame("m", "f", "other()", lineno=10)))
    assert hashes(a) == hashes(b) != hashes(c)


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


def test_an_exception_without_in_app_frames_groups_by_the_full_stack() -> None:
    # The app variant would fall back to type + value, but the system variant has a contributing
    # stack trace, and a variant with one wins (grouping.md §4.2).
    event = python_event(exception("OSError", "disk 3 full", frame("lib.io", "write", "w()", in_app=False)))
    assert hashes(event) == [md5("OSError", "lib.io", "write", "w()")]


def test_a_frameless_exception_groups_by_type_and_parameterized_value() -> None:
    event = {
        "platform": "python",
        "exception": {"values": [{"type": "Timeout", "value": "after 30s\nmore\nlines"}]},
    }
    result = calculate_grouping(event)
    assert result.hashes == [md5("Timeout", "after <duration>\nmore...")]
    assert set(result.variants) == {"app"}


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


def test_a_synthetic_exception_type_does_not_count() -> None:
    event = python_event(exception("Error", "boom", frame("m", "f", "x()"), mechanism={"synthetic": True}))
    assert hashes(event) == [md5("m", "f", "x()")]


def test_a_frame_repeating_the_previous_one_is_recursion_and_counts_once() -> None:
    again = frame("m", "recurse", "recurse()", lineno=3)
    assert hashes(python_event(exception("RecursionError", "", again, again, again))) == [
        md5("RecursionError", "m", "recurse", "recurse()")
    ]


def test_a_context_line_over_120_characters_does_not_count() -> None:
    long_line = "x = " + "1" * 130
    event = python_event(exception("E", "", frame("m", "f", long_line)))
    assert hashes(event) == [md5("E", "m", "f")]


def test_the_filename_counts_when_there_is_no_module() -> None:
    event = python_event(
        exception("E", "", {"filename": "Scripts/Job.PY", "function": "run", "in_app": True})
    )
    assert hashes(event) == [md5("E", "job.py", "run")]


def test_the_crashed_thread_groups_a_message_with_a_stack() -> None:
    thread_frames = {"frames": [frame("worker.loop", "tick", "poll()")]}
    event = {
        "platform": "python",
        "logentry": {"formatted": "stuck"},
        "threads": {
            "values": [
                {"id": 1, "stacktrace": {"frames": []}},
                {"id": 2, "crashed": True, "stacktrace": thread_frames},
            ]
        },
    }
    assert hashes(event) == [md5("worker.loop", "tick", "poll()")]


def test_the_message_template_groups_across_its_arguments() -> None:
    first = {"logentry": {"message": "queue %s late by %d s", "formatted": "queue a late by 3 s"}}
    second = {"logentry": {"message": "queue %s late by %d s", "formatted": "queue b late by 9 s"}}
    assert hashes(first) == hashes(second) == [md5("queue %s late by %d s")]


def test_a_formatted_message_is_parameterized() -> None:
    assert hashes({"logentry": {"formatted": "Order 4711 failed"}}) == [md5("Order <int> failed")]


def test_a_checksum_replaces_grouping() -> None:
    assert hashes({"checksum": "0123456789abcdef0123456789abcdef", "logentry": {"formatted": "x"}}) == [
        "0123456789abcdef0123456789abcdef"
    ]
    assert hashes({"checksum": "my-own-key"}) == [md5("my-own-key")]


def test_an_event_with_nothing_to_group_by_falls_back_to_the_empty_hash() -> None:
    result = calculate_grouping({"platform": "python"})
    assert result.hashes == ["d41d8cd98f00b204e9800998ecf8427e"]
    assert result.variants["fallback"].kind == "fallback"


def test_an_exception_group_with_one_kind_of_leaf_groups_like_that_leaf() -> None:
    def member(exception_id: int, parent_id: int | None, type_: str, group: bool = False) -> dict[str, Any]:
        mechanism = {
            "exception_id": exception_id,
            "is_exception_group": group,
            **({"parent_id": parent_id} if parent_id is not None else {}),
        }
        return exception(
            type_, f"{type_} {exception_id}", frame("app.jobs", "run", f"run_{type_}()"), mechanism=mechanism
        )

    grouped = python_event(
        member(1, 0, "ValueError"), member(2, 0, "ValueError"), member(0, None, "ExceptionGroup", group=True)
    )
    alone = python_event(member(1, 0, "ValueError"))
    assert hashes(grouped) == hashes(alone)


def test_javascript_functions_keep_their_last_segment_and_urls_do_not_count_as_files() -> None:
    js_frame = {
        "function": "Cart.prototype.total",
        "abs_path": "https://shop.example/app.js",
        "filename": "/app.js",
        "context_line": "return a.b",
        "in_app": True,
    }
    event = {"platform": "javascript", "exception": {"values": [exception("TypeError", "x", js_frame)]}}
    assert hashes(event) == [md5("TypeError", "total", "return a.b")]


def test_a_lone_nameless_javascript_frame_is_ignored_per_config() -> None:
    def lone_frame_event(abs_path: str) -> dict[str, Any]:
        lone = {"module": "app", "abs_path": abs_path, "filename": "app.js", "in_app": True}
        return {"platform": "javascript", "exception": {"values": [exception("Error", "boom", lone)]}}

    with_url, without_url = lone_frame_event("https://shop.example/app.js"), lone_frame_event("/srv/app.js")
    # 2026: a lone nameless frame without a URL says nothing; one with a URL is kept.
    assert hashes(with_url) == [md5("Error", "app")]
    assert hashes(without_url) == [md5("Error", "boom")]
    # 2023 has the test inverted (a legacy bug kept for hash stability, grouping.md §4.6).
    assert hashes(with_url, OLD) == [md5("Error", "boom")]
    assert hashes(without_url, OLD) == [md5("app", "Error")]


def test_an_unknown_config_is_refused_by_name() -> None:
    with pytest.raises(UnknownGroupingConfig, match="newstyle:1999"):
        calculate_grouping({}, "newstyle:1999")
