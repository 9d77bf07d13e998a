"""Settings: the documented table matches the code, and bad values are refused with the setting's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shoal.config import SETTINGS, ConfigError, load_config

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def documented_settings() -> dict[str, str]:
    rows = re.findall(
        r"^\| `(SHOAL_[A-Z_]+)` \| (?:`([^`]*)`|\*\(empty\)\*) \|", DOC.read_text(), re.MULTILINE
    )
    return dict(rows)


def test_every_setting_is_documented_with_its_default() -> None:
    assert documented_settings() == {s.name: s.default for s in SETTINGS}


def test_defaults_give_sqlite_in_the_data_dir_and_a_reachable_url(tmp_path: Path) -> None:
    config = load_config({"SHOAL_DATA_DIR": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'shoal.db'}"
    assert config.public_url == "http://127.0.0.1:8000"
    assert config.spool_path == tmp_path / "spool.db"


def test_a_wildcard_bind_still_gives_a_url_a_client_can_reach() -> None:
    assert load_config({"SHOAL_BIND": "0.0.0.0:9000"}).public_url == "http://127.0.0.1:9000"


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    assert load_config({"SHOAL_ADMIN_PASSWORD_FILE": str(secret)}).admin_password == "from-a-file"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SHOAL_BIND": "8000"}, "SHOAL_BIND"),
        ({"SHOAL_MAX_BODY_BYTES": "lots"}, "SHOAL_MAX_BODY_BYTES"),
        ({"SHOAL_LOG_LEVEL": "loud"}, "SHOAL_LOG_LEVEL"),
        ({"SHOAL_ADMIN_PASSWORD_FILE": "/nonexistent/file"}, "SHOAL_ADMIN_PASSWORD_FILE"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(environ)
