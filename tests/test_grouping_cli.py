"""`shoal grouping explain` on an event file and on a stored event, and `shoal grouping regroup`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from shoal.store.db import write_transaction
from shoal.store.schema import project
from tests.support.events import python_error, send_and_wait
from tests.support.server import RunningShoal, start_shoal
from tests.test_cli import shoal


def md5(*values: str) -> str:
    return hashlib.md5("".join(values).encode()).hexdigest()


def explain_file(tmp_path: Path, event: dict[str, Any], *args: str) -> dict[str, Any]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    done = shoal(tmp_path, "grouping", "explain", "--json", *args, str(path))
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_explaining_an_event_file_needs_no_server_and_shows_every_variant(tmp_path: Path) -> None:
    result = explain_file(tmp_path, python_error("ConnectionResetError", "read"))
    app = next(v for v in result["variants"] if v["name"] == "app")
    assert app["contributes"] and app["type"] == "component"
    assert app["hash"] == md5("ConnectionResetError", "shop.net", "read", "read()")
    assert result["hashes"][0] == app["hash"]
    assert app["component"]["id"] == "app"
    exception = app["component"]["values"][0]
    assert [child["id"] for child in exception["values"]] == ["type", "value", "stacktrace"]
    value = exception["values"][1]
    assert (value["contributes"], value["hint"]) == (False, "ignored because stacktrace takes precedence")


def test_the_older_config_orders_an_exception_stack_trace_first(tmp_path: Path) -> None:
    result = explain_file(tmp_path, python_error("KeyError", "read"), "--config", "newstyle:2023-01-11")
    assert result["config"] == "newstyle:2023-01-11"
    app = next(v for v in result["variants"] if v["name"] == "app")
    assert app["hash"] == md5("shop.net", "read", "read()", "KeyError")


def test_fingerprint_rules_come_from_a_file_or_from_the_event_itself(tmp_path: Path) -> None:
    rules = tmp_path / "rules.txt"
    rules.write_text("type:ConnectionResetError -> network-reset\n")
    from_file = explain_file(
        tmp_path, python_error("ConnectionResetError", "read"), "--fingerprint-rules", str(rules)
    )
    assert from_file["hashes"] == [md5("network-reset")]
    published = {
        **python_error("ConnectionResetError", "read"),
        "_fingerprinting_rules": [
            {
                "matchers": [["type", "ConnectionResetError"]],
                "fingerprint": ["network-reset"],
                "attributes": {},
            }
        ],
    }
    assert explain_file(tmp_path, published)["hashes"] == [md5("network-reset")]


def test_stack_trace_rules_come_from_a_file_or_from_the_event_itself(tmp_path: Path) -> None:
    rules = tmp_path / "stacktrace.txt"
    rules.write_text("function:read -group\n")
    event = python_error("ConnectionResetError", "read")
    from_file = explain_file(tmp_path, event, "--stacktrace-rules", str(rules))
    # With its only frame out of grouping, the exception's type and value decide.
    expected = md5("ConnectionResetError", "peer gone")
    assert from_file["hashes"][0] == expected
    published = {**event, "_grouping": {"enhancements": "function:read -group"}}
    assert explain_file(tmp_path, published)["hashes"][0] == expected


def test_a_file_that_is_not_an_event_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text("[1, 2")
    done = shoal(tmp_path, "grouping", "explain", str(path))
    assert done.returncode == 1
    assert "not a JSON event" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path / "data")
    yield server
    server.stop()


def test_a_stored_event_is_explained_by_its_id_and_regroup_applies_new_rules(running: RunningShoal) -> None:
    first = send_and_wait(running, python_error("ConnectionResetError", "read"))
    send_and_wait(running, python_error("ConnectionResetError", "write"))
    assert running.issue_count() == 2
    explained = shoal(running.data_dir, "grouping", "explain", first)
    assert explained.returncode == 0, explained.stderr
    assert "app (component)" in explained.stdout and "contributes" in explained.stdout

    with write_transaction(running.engine) as conn:
        conn.execute(update(project).values(fingerprint_rules="type:ConnectionResetError -> network-reset"))
    regrouped = shoal(running.data_dir, "grouping", "regroup", "--project", "my-project")
    assert regrouped.returncode == 0, regrouped.stderr
    assert "2 events regrouped" in regrouped.stdout and "1 changed issue" in regrouped.stdout
    assert running.issue_count() == 1
