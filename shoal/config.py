"""Shoal's settings: one table of SHOAL_* environment variables, read once into a frozen Config.

Every setting has a name, a default and a help text; `docs/configuration.md` documents the same table
and `tests/test_config.py` checks that the two agree. A secret can also come from `<NAME>_FILE`
(the path of a file holding it), as container secrets are usually mounted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("SHOAL_DATA_DIR", "./shoal-data", "Directory for the SQLite databases (store and spool)."),
    Setting("SHOAL_BIND", "127.0.0.1:8000", "host:port the HTTP server listens on."),
    Setting(
        "SHOAL_URL",
        "",
        "Public base URL used in DSNs and links. Empty: http://<SHOAL_BIND>.",
    ),
    Setting(
        "SHOAL_DATABASE_URL",
        "",
        "Store database. Empty: SQLite at <SHOAL_DATA_DIR>/shoal.db. Or postgresql://user@host/db.",
    ),
    Setting("SHOAL_ADMIN_EMAIL", "admin@example.com", "Login of the admin account made on first start."),
    Setting(
        "SHOAL_ADMIN_PASSWORD",
        "",
        "Password of that admin account. Empty: a random one, printed once on first start.",
    ),
    Setting(
        "SHOAL_MAX_BODY_BYTES",
        str(20 * MIB),
        "Largest request body accepted on ingest, as sent (compressed). Larger: 413.",
    ),
    Setting(
        "SHOAL_MAX_ENVELOPE_BYTES",
        str(100 * MIB),
        "Largest envelope after decompression (Relay's default); stops decompression bombs. Larger: 413.",
    ),
    Setting(
        "SHOAL_MAX_EVENT_BYTES",
        str(1 * MIB),
        "Largest event item, and largest /store/ body after decompression (Relay's default). Larger: 413.",
    ),
    Setting(
        "SHOAL_MAX_ATTACHMENT_BYTES",
        str(20 * MIB),
        "Largest attachment kept; a larger one is counted as invalid:too_large and its event kept.",
    ),
    Setting(
        "SHOAL_DIGEST_WORKERS",
        "1",
        "Digest worker processes that `shoal run` starts next to the web server (0: none).",
    ),
    Setting(
        "SHOAL_DIGEST_LEASE_SECONDS",
        "60",
        "How long a digest worker may hold a batch before another worker may take it over.",
    ),
    Setting("SHOAL_LOG_LEVEL", "info", "debug, info, warning or error."),
    Setting("SHOAL_SMTP_HOST", "", "SMTP server for alert emails. Empty: email alerts are not sent."),
    Setting("SHOAL_SMTP_PORT", "25", "Port of that SMTP server (587 for STARTTLS, 465 for TLS)."),
    Setting("SHOAL_SMTP_TLS", "none", "none, starttls or ssl."),
    Setting("SHOAL_SMTP_USER", "", "SMTP login. Empty: no authentication."),
    Setting("SHOAL_SMTP_PASSWORD", "", "SMTP password."),
    Setting("SHOAL_EMAIL_FROM", "shoal@localhost", "From address of alert emails."),
    Setting(
        "SHOAL_OUTBOUND_ALLOW",
        "",
        "Comma-separated hosts or CIDRs that webhooks may reach although private or loopback "
        "(e.g. 10.0.0.0/8,chat.internal). Everything else private is refused.",
    ),
    Setting("SHOAL_OUTBOUND_TIMEOUT", "10", "Seconds an outbound notification request may take."),
)

_DEFAULTS = {setting.name: setting.default for setting in SETTINGS}


class ConfigError(ValueError):
    """A setting has a value Shoal cannot use; the message names the setting."""


@dataclass(frozen=True)
class Config:
    data_dir: Path
    bind_host: str
    bind_port: int
    public_url: str
    database_url: str
    admin_email: str
    admin_password: str | None
    max_body_bytes: int
    max_envelope_bytes: int
    max_event_bytes: int
    max_attachment_bytes: int
    digest_workers: int
    digest_lease_seconds: int
    log_level: str
    smtp_host: str
    smtp_port: int
    smtp_tls: str
    smtp_user: str
    smtp_password: str
    email_from: str
    outbound_allow: tuple[str, ...]
    outbound_timeout: int

    @property
    def spool_path(self) -> Path:
        return self.data_dir / "spool.db"


def load_config(environ: Mapping[str, str] = os.environ) -> Config:
    """Read every SHOAL_* setting from `environ`, falling back to the table's defaults."""
    raw = {name: _read(environ, name) for name in _DEFAULTS}
    data_dir = Path(raw["SHOAL_DATA_DIR"]).expanduser().resolve()
    host, port = _parse_bind(raw["SHOAL_BIND"])
    public_url = (raw["SHOAL_URL"] or f"http://{_url_host(host)}:{port}").rstrip("/")
    return Config(
        data_dir=data_dir,
        bind_host=host,
        bind_port=port,
        public_url=public_url,
        database_url=raw["SHOAL_DATABASE_URL"] or f"sqlite:///{data_dir / 'shoal.db'}",
        admin_email=raw["SHOAL_ADMIN_EMAIL"].strip().lower(),
        admin_password=raw["SHOAL_ADMIN_PASSWORD"] or None,
        max_body_bytes=_parse_int(raw, "SHOAL_MAX_BODY_BYTES"),
        max_envelope_bytes=_parse_int(raw, "SHOAL_MAX_ENVELOPE_BYTES"),
        max_event_bytes=_parse_int(raw, "SHOAL_MAX_EVENT_BYTES"),
        max_attachment_bytes=_parse_int(raw, "SHOAL_MAX_ATTACHMENT_BYTES"),
        digest_workers=_parse_int(raw, "SHOAL_DIGEST_WORKERS", minimum=0),
        digest_lease_seconds=_parse_int(raw, "SHOAL_DIGEST_LEASE_SECONDS"),
        log_level=_parse_log_level(raw["SHOAL_LOG_LEVEL"]),
        smtp_host=raw["SHOAL_SMTP_HOST"].strip(),
        smtp_port=_parse_int(raw, "SHOAL_SMTP_PORT"),
        smtp_tls=_parse_choice(raw, "SHOAL_SMTP_TLS", ("none", "starttls", "ssl")),
        smtp_user=raw["SHOAL_SMTP_USER"],
        smtp_password=raw["SHOAL_SMTP_PASSWORD"],
        email_from=raw["SHOAL_EMAIL_FROM"].strip(),
        outbound_allow=tuple(part.strip() for part in raw["SHOAL_OUTBOUND_ALLOW"].split(",") if part.strip()),
        outbound_timeout=_parse_int(raw, "SHOAL_OUTBOUND_TIMEOUT"),
    )


def _read(environ: Mapping[str, str], name: str) -> str:
    file_path = environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {file_path}: {exc.strerror}") from exc
    return environ.get(name, _DEFAULTS[name])


def _parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"SHOAL_BIND must be host:port, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _url_host(host: str) -> str:
    # A wildcard bind is not an address a client can reach; a DSN needs one that is.
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _parse_int(raw: Mapping[str, str], name: str, minimum: int = 1) -> int:
    value = raw[name].strip()
    if not value.isdigit() or int(value) < minimum:
        raise ConfigError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _parse_log_level(value: str) -> str:
    return _parse_choice({"SHOAL_LOG_LEVEL": value}, "SHOAL_LOG_LEVEL", ("debug", "info", "warning", "error"))


def _parse_choice(raw: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = raw[name].strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be {', '.join(choices[:-1])} or {choices[-1]}, got {raw[name]!r}")
    return value
