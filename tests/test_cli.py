"""The `shoal` command's scripting interface: project create/list, status, createuser, migrate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def shoal(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHOAL_DATA_DIR": str(data_dir),
        "SHOAL_BIND": "127.0.0.1:9999",
        "SHOAL_LOG_LEVEL": "warning",
    }
    return subprocess.run(
        [sys.executable, "-m", "shoal", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    migrated = shoal(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return tmp_path


def test_a_project_made_on_the_command_line_is_listed_as_json_with_its_dsn(tmp_path: Path) -> None:
    from shoal.bootstrap import prepare
    from shoal.config import load_config

    prepare(load_config({"SHOAL_DATA_DIR": str(tmp_path), "SHOAL_BIND": "127.0.0.1:9999"}))
    created = shoal(tmp_path, "project", "create", "Billing API", "--platform", "node")
    assert created.returncode == 0, created.stderr
    assert "Created project billing-api" in created.stdout
    listed = json.loads(shoal(tmp_path, "project", "list", "--json").stdout)
    assert [p["slug"] for p in listed] == ["my-project", "billing-api"]
    assert all(
        p["dsn"].startswith("http://") and p["dsn"].endswith(f"@127.0.0.1:9999/{p['id']}") for p in listed
    )
    assert f"DSN: {listed[1]['dsn']}" in created.stdout


def test_a_second_project_with_the_same_slug_is_refused_with_one_line(tmp_path: Path) -> None:
    from shoal.bootstrap import prepare
    from shoal.config import load_config

    prepare(load_config({"SHOAL_DATA_DIR": str(tmp_path)}))
    again = shoal(tmp_path, "project", "create", "my project")
    assert again.returncode == 1
    assert again.stderr.strip() == "Error: a project with slug 'my-project' already exists"


def test_status_reports_the_backlog_and_each_projects_counts(tmp_path: Path) -> None:
    from shoal.bootstrap import prepare
    from shoal.config import load_config

    prepare(load_config({"SHOAL_DATA_DIR": str(tmp_path)}))
    report = json.loads(shoal(tmp_path, "status", "--json").stdout)
    assert report["backlog"] == 0
    assert report["projects"] == [
        {"id": 1, "slug": "my-project", "events": 0, "issues": 0, "transactions": 0}
    ]


def test_createuser_needs_an_organization_and_says_so(data_dir: Path) -> None:
    result = shoal(data_dir, "createuser", "dev@example.com", "--password", "pw")
    assert result.returncode == 1
    assert "no organization yet" in result.stderr


def test_a_bad_setting_ends_the_command_with_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "SHOAL_DATA_DIR": str(tmp_path), "SHOAL_BIND": "nonsense"}
    result = subprocess.run(
        [sys.executable, "-m", "shoal", "status"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: SHOAL_BIND must be host:port, got 'nonsense'"


def test_createuser_makes_a_member_who_can_log_in(tmp_path: Path) -> None:
    from shoal.bootstrap import prepare
    from shoal.config import load_config
    from shoal.store import users

    engine, _ = prepare(load_config({"SHOAL_DATA_DIR": str(tmp_path)}))
    made = shoal(tmp_path, "createuser", "Dev@Example.com", "--password", "a long passphrase")
    assert (made.returncode, made.stdout.strip()) == (0, "Created dev@example.com.")
    with engine.connect() as conn:
        user = users.authenticate(conn, "dev@example.com", "a long passphrase")
        assert user is not None
        assert users.organization_ids(conn, user.id) == [1]


def test_the_first_start_prints_a_generated_password_once_and_it_works(tmp_path: Path) -> None:
    from shoal.bootstrap import prepare
    from shoal.config import load_config
    from shoal.store import users

    config = load_config({"SHOAL_DATA_DIR": str(tmp_path), "SHOAL_ADMIN_PASSWORD": ""})
    engine, first = prepare(config)
    _, second = prepare(config)
    assert first.admin_password and second.admin_password is None
    with engine.connect() as conn:
        assert users.authenticate(conn, "admin@example.com", first.admin_password) is not None
