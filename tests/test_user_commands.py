"""`shoal user set-password`: an operator sets a person's password when Shoal cannot email a link."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine

from shoal.bootstrap import prepare
from shoal.config import load_config
from shoal.store import password_resets, sessions, users
from shoal.store.db import write_transaction
from tests.test_cli import shoal

ADMIN = "admin@example.com"


def prepared(tmp_path: Path) -> Engine:
    engine, _ = prepare(
        load_config({"SHOAL_DATA_DIR": str(tmp_path), "SHOAL_ADMIN_PASSWORD": "first password"})
    )
    return engine


def test_set_password_changes_it_and_logs_the_user_out_everywhere(tmp_path: Path) -> None:
    engine = prepared(tmp_path)
    with write_transaction(engine) as conn:
        admin = users.find_user_by_email(conn, ADMIN)
        assert admin is not None
        cookie = sessions.create_session(conn, admin.id)
        link = password_resets.create_reset(conn, admin.id, time.time())

    done = shoal(tmp_path, "user", "set-password", "Admin@Example.com", stdin="a brand new password\n" * 2)
    assert (done.returncode, done.stdout.strip().splitlines()[-1]) == (
        0,
        "Set the password of admin@example.com; 1 session ended.",
    )
    with engine.connect() as conn:
        assert users.authenticate(conn, ADMIN, "a brand new password") is not None
        assert users.authenticate(conn, ADMIN, "first password") is None
        assert sessions.find_session(conn, cookie) is None
        assert password_resets.valid_reset_user(conn, link, time.time()) is None


def test_set_password_refuses_a_short_password_and_an_unknown_email(tmp_path: Path) -> None:
    prepared(tmp_path)
    short = shoal(tmp_path, "user", "set-password", ADMIN, "--password", "short")
    assert short.returncode == 1
    assert short.stderr.strip() == "Error: that password cannot be used. Use at least 10 characters."
    unknown = shoal(tmp_path, "user", "set-password", "nobody@example.com", "--password", "long enough pw")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        1,
        "Error: no user with email 'nobody@example.com'",
    )
