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
    false,
    true,
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
    # Noise and budget (issue 8): inbound filters and scrubbing settings as JSON objects, how many
    # days events are kept (the chapter's plan: 30), and whether spike protection is on.
    Column("filters", Text, nullable=False, server_default="{}"),
    Column("scrubbing", Text, nullable=False, server_default="{}"),
    Column("retention_days", Integer, nullable=False, server_default="30"),
    Column("spike_protection", Boolean, nullable=False, server_default=true()),
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
    # Sentry's per-key rate limit: at most `rate_limit_count` events per `rate_limit_window`
    # seconds; both empty: none.
    Column("rate_limit_count", Integer),
    Column("rate_limit_window", Integer),
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
    Column("substatus", String(32), nullable=False, default="new"),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("first_release", String(200)),
    Column("last_release", String(200)),
    Column("times_seen", BigInteger, nullable=False, default=0),
    Column("users_seen", BigInteger, nullable=False, default=0),
    Column("resolved_at", Float),
    Column("assignee_id", ForeignKey("users.id", ondelete="SET NULL")),
    UniqueConstraint("project_id", "short_id"),
    Index(None, "project_id", "last_seen"),
)

issue_hash = Table(
    "issue_hash",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("hash", String(32), primary_key=True),
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), nullable=False, index=True),
    # Deleted and discarded: events with this hash are dropped (outcome filtered:discarded-hash).
    Column("tombstone", Boolean, nullable=False, server_default=false()),
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
    # contexts.trace.trace_id when it is 32 hex characters, so a trace page lists its errors.
    Column("trace_id", String(32)),
    UniqueConstraint("project_id", "event_id"),
    Index(None, "issue_id", "timestamp", "id"),
    Index(None, "project_id", "trace_id"),
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
# hour (kept as long as events, for histograms and longer windows), per environment ("" for
# none), because an alert rule scoped to an environment counts only its events. Buckets are unix
# seconds // 60 and // 3600; the key order serves "this issue, from minute M on".
issue_count_minute = Table(
    "issue_count_minute",
    metadata,
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("minute", Integer, primary_key=True),
    Column("environment", String(64), primary_key=True),
    Column("events", Integer, nullable=False),
)

issue_count_hour = Table(
    "issue_count_hour",
    metadata,
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("environment", String(64), primary_key=True),
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
    Column("key_id", BigInteger, primary_key=True, server_default="0"),  # the DSN key; 0: not known
    Column("quantity", BigInteger, nullable=False),
)

# Quotas of an organization (project_id null) or a project: at most `limit` items of `category`
# per `window` (minute, hour, day, month).
quota = Table(
    "quota",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE")),
    Column("category", String(32), nullable=False),
    Column("window", String(10), nullable=False),
    Column("limit", BigInteger, nullable=False),
    UniqueConstraint("organization_id", "project_id", "category", "window"),
)


# ------------------------------------------------------------------------ triage (docs/alerts.md)

# How a resolved issue was resolved, when that is more than "now": in a release, or in the next
# release (then `release` is the newest release the issue was seen in when it was resolved).
issue_resolution = Table(
    "issue_resolution",
    metadata,
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), nullable=False),  # in_release | in_next_release
    Column("release", String(200)),
    Column("created_at", Float, nullable=False),
)

# Why an ignored issue stays ignored: until a time, until N more events or users (optionally
# within a window of minutes). No row: ignored forever.
issue_snooze = Table(
    "issue_snooze",
    metadata,
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("until", Float),
    Column("count", Integer),
    Column("window", Integer),
    Column("user_count", Integer),
    Column("user_window", Integer),
    Column("times_seen_at", BigInteger, nullable=False),
    Column("users_seen_at", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Everything that happened to an issue: state changes, assignments, comments ("note").
activity = Table(
    "activity",
    metadata,
    Column("id", Id, primary_key=True),
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("type", String(32), nullable=False),
    Column("data", Text, nullable=False),  # JSON
    Column("created_at", Float, nullable=False),
    Index(None, "issue_id", "id"),
)

# ------------------------------------------------------------------ alerts and notifications

# Where notifications go: one row per configured email list, Slack webhook, webhook or apprise URL.
channel = Table(
    "channel",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("config", Text, nullable=False),  # JSON, as the channel kind's check_config returned it
    Column("enabled", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("organization_id", "name"),
)

# An issue alert rule in Sentry's shape (docs/alerts.md): JSON lists of triggers, filters, actions.
alert_rule = Table(
    "alert_rule",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("environment", String(64)),
    Column("action_match", String(8), nullable=False),
    Column("filter_match", String(8), nullable=False),
    Column("conditions", Text, nullable=False),
    Column("filters", Text, nullable=False),
    Column("actions", Text, nullable=False),
    Column("frequency", Integer, nullable=False),  # the action interval, minutes
    Column("status", String(16), nullable=False),  # active | disabled
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# When a rule last fired for an issue: the action interval is claimed by a conditional update.
rule_issue_status = Table(
    "rule_issue_status",
    metadata,
    Column("rule_id", ForeignKey("alert_rule.id", ondelete="CASCADE"), primary_key=True),
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("last_fired", Float, nullable=False),
)

# Why a rule did or did not fire for an issue, one row per rule per issue per digested batch.
alert_decision = Table(
    "alert_decision",
    metadata,
    Column("id", Id, primary_key=True),
    Column("rule_id", ForeignKey("alert_rule.id", ondelete="CASCADE"), nullable=False),
    Column("issue_id", ForeignKey("issue.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(32)),
    Column("fired", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index(None, "issue_id", "id"),
    Index(None, "rule_id", "id"),
)

# The outbox: a notification to deliver, written in the digest transaction that decided it.
notification = Table(
    "notification",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
    Column("rule_id", ForeignKey("alert_rule.id", ondelete="SET NULL")),
    Column("issue_id", ForeignKey("issue.id", ondelete="SET NULL")),
    # A configured channel, or none when the target was resolved when the rule fired (the
    # project's members by email): then `target` holds the channel kind and its configuration.
    Column("channel_id", ForeignKey("channel.id", ondelete="CASCADE")),
    Column("target", Text, nullable=False),  # JSON {"kind", "config"} or {}
    Column("message", Text, nullable=False),  # JSON of shoal.notify.base.Notification
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    Index(None, "status", "next_attempt_at"),
    Index(None, "issue_id"),
)

notification_attempt = Table(
    "notification_attempt",
    metadata,
    Column("id", Id, primary_key=True),
    Column("notification_id", ForeignKey("notification.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempted_at", Float, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
)

# API bearer tokens (`shoal token create`): only a hash is kept. A personal token (`sntryu_…`)
# acts as its user; an organization token (`sntrys_…`, organization_id set) only in that org.
api_token = Table(
    "api_token",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE")),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated, Sentry's names (project:read …)
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
)


# ------------------------------------------------------------------- accounts and access (issue 6)

# Teams own projects. Owners and admins of an organization see all its projects; a member sees
# the projects of their teams, and every project no team owns.
team = Table(
    "team",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(50), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("organization_id", "slug"),
)

team_member = Table(
    "team_member",
    metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)

project_team = Table(
    "project_team",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# An emailed invitation to join an organization (with a role, optionally into a team); only the
# token's SHA-256 is kept.
invitation = Table(
    "invitation",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", String(20), nullable=False),
    Column("team_id", ForeignKey("team.id", ondelete="SET NULL")),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("invited_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("accepted_at", Float),
)

# A password-reset link sent by email; single use, short-lived, only its SHA-256 kept.
password_reset = Table(
    "password_reset",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
)

# Whether a user gets a project's alert emails (no row: yes, Sentry's default).
notification_setting = Table(
    "notification_setting",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("email", Boolean, nullable=False),
)

# A named issue-stream search: a user's own (user_id set) or shared in the organization.
saved_search = Table(
    "saved_search",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE")),
    Column("name", String(200), nullable=False),
    Column("query", Text, nullable=False),
    Column("sort", String(20), nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)


# ------------------------------------------------------------------------------ releases (issue 7)

# A release of an organization, made by `sentry-cli releases new` or implicitly by the first event
# that names it; `date_released` is set by `releases finalize`.
release = Table(
    "release",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("version", String(250), nullable=False),
    Column("ref", String(250)),
    Column("url", Text),
    Column("date_created", Float, nullable=False),
    Column("date_started", Float),
    Column("date_released", Float),
    UniqueConstraint("organization_id", "version"),
)

release_project = Table(
    "release_project",
    metadata,
    Column("release_id", ForeignKey("release.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# Events of a release per project and environment, kept by the digest: adoption, first and last
# event of a release.
release_environment = Table(
    "release_environment",
    metadata,
    Column("release_id", ForeignKey("release.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("environment", String(64), primary_key=True),  # "" for none
    Column("events", BigInteger, nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

# A repository commits belong to, as sentry-cli names it (`origin` for local commits).
repository = Table(
    "repository",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("provider", String(64)),
    Column("url", Text),
    Column("date_created", Float, nullable=False),
    UniqueConstraint("organization_id", "name"),
)

commit = Table(
    "commit",
    metadata,
    Column("id", Id, primary_key=True),
    Column("organization_id", ForeignKey("organization.id", ondelete="CASCADE"), nullable=False),
    Column("repository_id", ForeignKey("repository.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(64), nullable=False),  # the commit's sha
    Column("message", Text),
    Column("author_name", String(200)),
    Column("author_email", String(254)),
    Column("date_added", Float),  # the author's timestamp
    UniqueConstraint("repository_id", "key"),
    Index(None, "organization_id", "author_email"),
)

# The files a commit changed (sentry-cli's `patch_set`): what suspect commits match frames against.
commit_file = Table(
    "commit_file",
    metadata,
    Column("commit_id", ForeignKey("commit.id", ondelete="CASCADE"), primary_key=True),
    Column("filename", String(1000), primary_key=True),
    Column("type", String(1), nullable=False),  # A | M | D
)

# The commits of a release, newest first (`position` 0 is the release's head).
release_commit = Table(
    "release_commit",
    metadata,
    Column("release_id", ForeignKey("release.id", ondelete="CASCADE"), primary_key=True),
    Column("commit_id", ForeignKey("commit.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("position", Integer, nullable=False),
)

# A release's head commit per repository as `set-commits --commit repo@a..b` sends it (`refs`).
release_ref = Table(
    "release_ref",
    metadata,
    Column("release_id", ForeignKey("release.id", ondelete="CASCADE"), primary_key=True),
    Column("repository", String(200), primary_key=True),
    Column("commit", String(64), nullable=False),
    Column("previous_commit", String(64)),
)

deploy = Table(
    "deploy",
    metadata,
    Column("id", Id, primary_key=True),
    Column("release_id", ForeignKey("release.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("environment", String(64), nullable=False),
    Column("name", String(200)),
    Column("url", Text),
    Column("date_started", Float),
    Column("date_finished", Float, nullable=False),
)


# ------------------------------------------------------------- quota usage (docs/quotas.md)

# What a key, project or organization was let through in one window of a quota or rate limit:
# `count` items of `category` (attachments: bytes) in the window starting at `window_start` (UTC
# unix seconds). `window` is minute, hour, day, month, or a key's own window in seconds ("60s").
# Each web process counts in memory and adds its counts here every few seconds
# (shoal/ingest/limits.py); the sum is what every process decides with. No foreign key: the
# scope id names a key, project or organization, and old windows are pruned by time.
quota_usage = Table(
    "quota_usage",
    metadata,
    Column("scope", String(16), primary_key=True),  # key | project | organization
    Column("scope_id", BigInteger, primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("window", String(16), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Index(None, "window_start"),
)

# A project's spike protection settings, when not the defaults (no row: floor 1,000, multiplier
# 10): the hourly limit is max(floor, multiplier × the last 7 days' hourly average).
spike_protection_setting = Table(
    "spike_protection_setting",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("floor", BigInteger, nullable=False),
    Column("multiplier", Integer, nullable=False),
)


# ------------------------------------------------------- transactions (docs/performance.md)

# One row per sampled transaction, about 200 bytes: what the Performance pages rank and chart.
# `duration_ms` is end - start; `span_ops` is the span summary, JSON {op: [count, total ms]}.
# `spans` (zstd JSON, shoal/digest/transactions.py) is kept only on the slowest few of each
# transaction name per hour, for their waterfall (shoal/store/transactions.py); null on the rest.
transaction_event = Table(
    "transaction_event",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(32), nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("span_id", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    # The request URL's path, scrubbed, without its query string (which can carry PII): what the
    # health-check filter matches besides the name, so the filters' preview can replay it.
    Column("url_path", String(200)),
    Column("op", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("start_timestamp", Float, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("received", Float, nullable=False),
    Column("release", String(200)),
    Column("environment", String(64)),
    Column("span_count", Integer, nullable=False),
    Column("span_ops", Text, nullable=False),
    Column("spans", LargeBinary),
    UniqueConstraint("project_id", "event_id"),
    Index(None, "project_id", "start_timestamp"),
    Index(None, "project_id", "name", "start_timestamp"),
    Index(None, "project_id", "trace_id"),
)


# ------------------------------------------------------------------- cron monitors (docs/crons.md)

# A job that checks in: made by its first check-in (with the SDK's `monitor_config`, or none: then
# it has no schedule and is never missed) or on the Crons page. `config_error` says why the last
# `monitor_config` sent was not used; a `muted` monitor's failures make no issue events.
monitor = Table(
    "monitor",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(50), nullable=False),
    Column("schedule_type", String(16)),  # crontab | interval | NULL (no schedule)
    Column("schedule", String(100)),  # the crontab, or the interval's count
    Column("interval_unit", String(16)),
    Column("checkin_margin", Integer, nullable=False),  # minutes
    Column("max_runtime", Integer, nullable=False),  # minutes
    Column("timezone", String(64), nullable=False),
    Column("failure_issue_threshold", Integer, nullable=False),
    Column("recovery_threshold", Integer, nullable=False),
    Column("muted", Boolean, nullable=False),
    Column("config_error", Text),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("project_id", "slug"),
)

# A monitor's state in one environment, made by its first check-in there (as Sentry keeps it, so a
# job failing in production and fine in staging is both). `next_checkin` is when the next check-in
# is due and `next_checkin_latest` that plus the margin: the scheduler marks the environment missed
# once that passes (shoal/crons/overdue.py). The consecutive counts drive the thresholds.
monitor_environment = Table(
    "monitor_environment",
    metadata,
    Column("id", Id, primary_key=True),
    Column("monitor_id", ForeignKey("monitor.id", ondelete="CASCADE"), nullable=False),
    Column("environment", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # active | ok | error | missed | timeout
    Column("consecutive_failures", Integer, nullable=False),
    Column("consecutive_successes", Integer, nullable=False),
    Column("last_checkin", Float),
    Column("next_checkin", Float),
    Column("next_checkin_latest", Float, index=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("monitor_id", "environment"),
)

# One run of a monitor's job: opened `in_progress` and closed `ok`/`error` under the same
# `check_in_id`, or made closed at once; `missed` and `timeout` are written by the scheduler.
# `timeout_at` is set while in progress: the moment it times out.
monitor_checkin = Table(
    "monitor_checkin",
    metadata,
    Column("id", Id, primary_key=True),
    Column("monitor_id", ForeignKey("monitor.id", ondelete="CASCADE"), nullable=False),
    Column(
        "monitor_environment_id", ForeignKey("monitor_environment.id", ondelete="CASCADE"), nullable=False
    ),
    Column("project_id", BigInteger, nullable=False),
    Column("check_in_id", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # in_progress | ok | error | missed | timeout
    Column("environment", String(64), nullable=False),  # its monitor environment's name
    Column("release", String(200)),
    Column("duration", Float),  # seconds
    Column("expected_at", Float),  # when the monitor expected it (missed: the time it missed)
    Column("timeout_at", Float, index=True),
    Column("trace_id", String(32)),
    Column("date_added", Float, nullable=False),
    Column("date_updated", Float, nullable=False),
    UniqueConstraint("monitor_id", "check_in_id"),
    Index(None, "monitor_id", "date_added"),
    Index(None, "project_id", "date_added"),
)


# ------------------------------------------------------ the quota advisor's email (docs/stats.md)

# The weeks whose advisor email went out for a project (`week_start`: Monday 00:00 UTC, unix
# seconds). A scheduler inserts the row before sending; the primary key lets one process win, so
# the email goes out once a week however many schedulers run (shoal/advisor_email.py).
advisor_email_week = Table(
    "advisor_email_week",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("week_start", BigInteger, primary_key=True),
    Column("sent_at", Float, nullable=False),
)

# A user who does not want a project's weekly advisor email (no row: they get it, when they are
# an owner or admin who may see the project).
advisor_email_opt_out = Table(
    "advisor_email_opt_out",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
)


# ---------------------------------------------------------------- release health (docs/release-health.md)

# Sessions per release, environment and hour of their start, each counted once at its final
# health: `started` is every session, the other three those that ended errored (not crashed or
# abnormal), crashed or abnormal; healthy is what is left. Kept like the issues' per-hour counts.
session_count_hour = Table(
    "session_count_hour",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("release", String(200), primary_key=True),
    Column("environment", String(64), primary_key=True),  # "" for sessions without one
    Column("hour", Integer, primary_key=True),
    Column("started", Integer, nullable=False),
    Column("errored", Integer, nullable=False),
    Column("crashed", Integer, nullable=False),
    Column("abnormal", Integer, nullable=False),
    Index(None, "project_id", "environment", "hour"),
)

# The distinct users (a hash of the session's `did`) of a release per environment and hour, with
# the worst health of their sessions there (0 healthy, 1 errored, 2 abnormal, 3 crashed).
session_user_hour = Table(
    "session_user_hour",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("release", String(200), primary_key=True),
    Column("environment", String(64), primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("user_hash", String(32), primary_key=True),
    Column("health", Integer, nullable=False),
)

# The health each individual session (`session` item, by `sid`) was last counted at, so that a
# later or repeated update moves the session between counters instead of counting it again. Kept
# five days after the session started: Sentry takes no update of an older session either.
session_state = Table(
    "session_state",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("sid", String(64), primary_key=True),
    Column("release", String(200), nullable=False),
    Column("environment", String(64), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("user_hash", String(32)),
    Column("health", Integer, nullable=False),
    Column("started", Float, nullable=False, index=True),
)

# Pre-aggregated `sessions` items already counted (a hash of the spool entry's arrival and the
# item's bytes), so that an entry digested twice adds its buckets once. Kept five days too.
session_item_seen = Table(
    "session_item_seen",
    metadata,
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    Column("item_key", String(32), primary_key=True),
    Column("received", Float, nullable=False, index=True),
)


# ------------------------------------------ attachments and user feedback (docs/attachments.md)

# A file an SDK attached to an event (`scope.add_attachment`), its bytes zstd-compressed in the row:
# it commits with its event in the digest's transaction, so nothing is ever half written, and it
# goes when its event goes (ON DELETE CASCADE: retention, issue and project deletes). `size` is the
# uncompressed size; `sha1` (of those bytes) makes a redelivered envelope store nothing twice.
event_attachment = Table(
    "event_attachment",
    metadata,
    Column("id", Id, primary_key=True),
    Column("event_row_id", ForeignKey("event.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("attachment_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha1", String(40), nullable=False),
    Column("received", Float, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    UniqueConstraint("event_row_id", "name", "sha1"),
)

# What a user wrote about an error: a `user_report` (name, email, comments, event_id) or a
# `feedback` item (contexts.feedback). `feedback_id` is the report's own id (a user_report's is its
# event's, as Sentry keeps one report per event). `event_id` is the error it is about, if any;
# `issue_id` that error's issue once it is stored (the report may arrive first: shoal/store/feedback.py).
user_feedback = Table(
    "user_feedback",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
    Column("feedback_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # user_report | feedback
    Column("event_id", String(32)),
    Column("issue_id", ForeignKey("issue.id", ondelete="SET NULL")),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("received", Float, nullable=False),
    UniqueConstraint("project_id", "feedback_id"),
    Index(None, "project_id", "received"),
    Index(None, "project_id", "event_id"),
    Index(None, "issue_id"),
)
