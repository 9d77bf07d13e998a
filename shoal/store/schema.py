"""The store's tables, as SQLAlchemy Core metadata (the Alembic migrations create the same).

Times are UTC unix seconds in floating point columns: the digest writes thousands of them a second,
and a float costs nothing to produce, compare or bucket, on both SQLite and PostgreSQL.
Event payloads are the normalized event as zstd-compressed JSON.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only makes a column an alias of the rowid (autoincrementing, fast) when it is exactly
# INTEGER PRIMARY KEY; BigInteger there would be BIGINT. PostgreSQL gets a real 64-bit id.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

organization = Table(
    "organization",
    metadata,
    Column("id", Id, primary_key=True),
    Column("slug", String(50), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),  # stored lower-cased
    Column("password_hash", Text, nullable=False),
    Column("is_superuser", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("last_login_at", Float),
)

membership = Table(
    "membership",
    metadata,
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), nullable=False),  # owner | admin | member
)

web_session = Table(
    "web_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

project = Table(
    "project",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("platform", String(64), nullable=False),
    Column("grouping_config", String(64), nullable=False),
    # The project's grouping rules in Sentry's text syntax (docs/grouping.md), "" for none.
    Column("fingerprint_rules", Text, nullable=False, server_default=""),
    Column("stacktrace_rules", Text, nullable=False, server_default=""),
    Column("next_short_id", Integer, nullable=False, default=1),
    Column("events_stored", BigInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("organization_id", "slug"),
)

project_key = Table(
    "project_key",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("public_key", String(32), nullable=False, unique=True),
    Column("label", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

issue = Table(
    "issue",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
    Column("short_id", Integer, nullable=False),
    Column("type", String(20), nullable=False),  # error | default
    Column("title", Text, nullable=False),
    Column("culprit", Text, nullable=False),
    Column("level", String(16), nullable=False),
    Column("platform", String(64), nullable=False),
    Column("metadata", Text, nullable=False),  # JSON: type, value, filename, function / title
    Column("status", String(16), nullable=False, default="unresolved"),
    Column("substatus", String(16), nullable=False, default="new"),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("first_release", String(200)),
    Column("last_release", String(200)),
    Column("times_seen", BigInteger, nullable=False, default=0),
    Column("users_seen", BigInteger, nullable=False, default=0),
    UniqueConstraint("project_id", "short_id"),
    Index(None, "project_id", "last_seen"),
)

issue_hash = Table(
    "issue_hash",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("hash", String(32), primary_key=True),
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), nullable=False, index=True),
)

event = Table(
    "event",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(32), nullable=False),
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("received", Float, nullable=False),
    Column("level", String(16), nullable=False),
    Column("release", String(200)),
    Column("environment", String(64)),
    Column("user_key", String(200)),  # the `user` tag: id:…, email:…, username:… or ip:…
    Column("grouping_config", String(64), nullable=False),
    Column("hashes", Text, nullable=False),  # JSON list, primary first
    Column("payload", LargeBinary, nullable=False),
    UniqueConstraint("project_id", "event_id"),
    Index(None, "issue_id", "timestamp", "id"),
)

issue_tag = Table(
    "issue_tag",
    metadata,
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("times_seen", BigInteger, nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

# Events per issue per minute (kept about a day, for "N in 1 minute … 1 hour" questions) and per
# hour (kept as long as events, for histograms). Buckets are unix seconds // 60 and // 3600.
issue_count_minute = Table(
    "issue_count_minute",
    metadata,
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("minute", Integer, primary_key=True),
    Column("events", Integer, nullable=False),
)

issue_count_hour = Table(
    "issue_count_hour",
    metadata,
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("events", Integer, nullable=False),
)

outcome_counter = Table(
    "outcome_counter",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("outcome", String(32), primary_key=True),
    Column("reason", String(64), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
)
