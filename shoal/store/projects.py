"""Organizations, projects, their client keys (DSNs) with per-key rate limits, the teams that own
projects, and what a project's settings page reads: environments seen, access, deletion."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from shoal.alerts.templates import default_project_rule
from shoal.store import alert_rules
from shoal.store.inbound_filters import FilterSettings
from shoal.store.schema import (
    issue,
    issue_tag,
    organization,
    project,
    project_key,
)


@dataclass(frozen=True)
class ProjectGrouping:
    """How a project groups its events: the config id and its rules, in Sentry's text syntax."""

    config_id: str
    fingerprint_rules: str = ""
    stacktrace_rules: str = ""


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    organization_id: int
    slug: str
    name: str
    platform: str
    grouping: ProjectGrouping

    @property
    def grouping_config(self) -> str:
        return self.grouping.config_id


@dataclass(frozen=True)
class KeyInfo:
    project_id: int
    public_key: str
    enabled: bool
    # What ingest's limits need (shoal/ingest/limits.py): the key's id, for its own counters and
    # outcomes, and its rate limit (None: none).
    id: int = 0
    rate_limit: RateLimit | None = None


class SlugTaken(ValueError):
    pass


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50]
    return slug or "project"


def create_organization(conn: Connection, slug: str, name: str) -> int:
    stmt = (
        insert(organization).values(slug=slug, name=name, created_at=time.time()).returning(organization.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def organization_ids(conn: Connection) -> list[int]:
    """Every organization, oldest first."""
    return [int(row.id) for row in conn.execute(select(organization.c.id).order_by(organization.c.id))]


def organization_exists(conn: Connection, organization_id: int) -> bool:
    return (
        conn.execute(select(organization.c.id).where(organization.c.id == organization_id)).first()
        is not None
    )


def create_project(
    conn: Connection, organization_id: int, name: str, platform: str, grouping_config: str
) -> ProjectInfo:
    """A project with one enabled key and the default alert rule (new issue → email members)."""
    slug = slugify(name)
    taken = conn.execute(
        select(func.count()).where(project.c.organization_id == organization_id, project.c.slug == slug)
    ).scalar_one()
    if taken:
        raise SlugTaken(f"a project with slug {slug!r} already exists")
    now = time.time()
    project_id = conn.execute(
        insert(project)
        .values(
            organization_id=organization_id,
            slug=slug,
            name=name,
            platform=platform,
            grouping_config=grouping_config,
            next_short_id=1,
            events_stored=0,
            created_at=now,
        )
        .returning(project.c.id)
    ).scalar_one()
    create_key(conn, project_id, label="Default")
    # Sentry's default for a new project, and the chapter's first rule: one email per new issue.
    alert_rules.insert_rule(conn, project_id, default_project_rule(), now)
    return ProjectInfo(project_id, organization_id, slug, name, platform, ProjectGrouping(grouping_config))


def create_key(conn: Connection, project_id: int, label: str) -> str:
    # Relay wants keys of exactly 32 ASCII characters; a uuid4's hex is that (protocol.md §1).
    public_key = uuid.uuid4().hex
    conn.execute(
        insert(project_key).values(
            project_id=project_id, public_key=public_key, label=label, enabled=True, created_at=time.time()
        )
    )
    return public_key


def find_key(conn: Connection, public_key: str) -> KeyInfo | None:
    row = conn.execute(select(project_key).where(project_key.c.public_key == public_key)).first()
    if row is None:
        return None
    return KeyInfo(row.project_id, public_key, bool(row.enabled), int(row.id), _project_key(row).rate_limit)


def list_projects(conn: Connection) -> list[ProjectInfo]:
    rows = conn.execute(select(project).order_by(project.c.id)).all()
    return [_project_info(row) for row in rows]


def get_project(conn: Connection, project_id: int) -> ProjectInfo | None:
    row = conn.execute(select(project).where(project.c.id == project_id)).first()
    return _project_info(row) if row else None


def get_project_by_slug(conn: Connection, organization_id: int, slug: str) -> ProjectInfo | None:
    row = conn.execute(
        select(project).where(project.c.organization_id == organization_id, project.c.slug == slug)
    ).first()
    return _project_info(row) if row else None


def first_enabled_key(conn: Connection, project_id: int) -> str | None:
    row = conn.execute(
        select(project_key.c.public_key)
        .where(project_key.c.project_id == project_id, project_key.c.enabled.is_(True))
        .order_by(project_key.c.id)
    ).first()
    return str(row.public_key) if row else None


def dsn(public_url: str, public_key: str, project_id: int) -> str:
    """The DSN an SDK needs: the public URL with the key as user name and the project id as path."""
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{public_key}@{parts.netloc}{parts.path.rstrip('/')}/{project_id}"


def project_groupings(conn: Connection, project_ids: set[int]) -> dict[int, ProjectGrouping]:
    rows = conn.execute(
        select(
            project.c.id, project.c.grouping_config, project.c.fingerprint_rules, project.c.stacktrace_rules
        ).where(project.c.id.in_(project_ids))
    )
    return {row.id: _grouping(row) for row in rows}


def set_project_grouping(conn: Connection, project_id: int, grouping: ProjectGrouping) -> None:
    """Save a project's grouping settings; the caller has validated the rules. New events follow at
    once; stored ones move only when regrouped."""
    conn.execute(
        update(project)
        .where(project.c.id == project_id)
        .values(
            grouping_config=grouping.config_id,
            fingerprint_rules=grouping.fingerprint_rules,
            stacktrace_rules=grouping.stacktrace_rules,
        )
    )


def _grouping(row: Any) -> ProjectGrouping:
    """From a row with the project's grouping columns."""
    return ProjectGrouping(row.grouping_config, row.fingerprint_rules, row.stacktrace_rules)


def _project_info(row: Row[Any]) -> ProjectInfo:
    return ProjectInfo(
        id=row.id,
        organization_id=row.organization_id,
        slug=row.slug,
        name=row.name,
        platform=row.platform,
        grouping=_grouping(row),
    )


def lock_project(conn: Connection, project_id: int) -> None:
    """Hold the project's row until the transaction ends. The digest locks it first in every batch
    (`shoal.digest.store`), so on PostgreSQL a merge or regroup holding it cannot interleave with a
    batch for the same project. SQLite's single writer already serializes them."""
    conn.execute(select(project.c.id).where(project.c.id == project_id).with_for_update())


# ------------------------------------------------------------------------ project settings (issue 6)


def organization_names(conn: Connection) -> dict[int, str]:
    """Every organization's name by id: what a form offering a choice of organization shows."""
    return {
        int(row.id): str(row.name) for row in conn.execute(select(organization.c.id, organization.c.name))
    }


def update_project(conn: Connection, project_id: int, *, name: str, slug: str, platform: str) -> None:
    """Rename a project, or change its slug or platform; the caller has validated the values. The
    id, hence every DSN and URL, stays. Raises SlugTaken when another project of the organization
    has the slug."""
    organization_id = conn.execute(
        select(project.c.organization_id).where(project.c.id == project_id)
    ).scalar_one()
    taken = conn.execute(
        select(project.c.id).where(
            project.c.organization_id == organization_id, project.c.slug == slug, project.c.id != project_id
        )
    ).first()
    if taken is not None:
        raise SlugTaken(f"a project with slug {slug!r} already exists")
    conn.execute(
        update(project).where(project.c.id == project_id).values(name=name, slug=slug, platform=platform)
    )


def delete_project(conn: Connection, project_id: int) -> bool:
    """Delete a project and, by the schema's ON DELETE CASCADE, everything under it: keys, issues,
    events, counts, alert rules and their decisions, notifications, team links. False if it was
    already gone. Spool entries still queued for it are buried by the digest as "project deleted"
    (shoal/digest/worker.py), since nothing is left to store them in."""
    return conn.execute(delete(project).where(project.c.id == project_id)).rowcount > 0


# -------------------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class RateLimit:
    """At most `count` events per `window` seconds, Sentry's per-key limit."""

    count: int
    window: int


@dataclass(frozen=True)
class ProjectKey:
    """A client key as its project's settings page shows it."""

    id: int
    project_id: int
    public_key: str
    label: str
    enabled: bool
    created_at: float
    rate_limit: RateLimit | None


def list_keys(conn: Connection, project_id: int) -> list[ProjectKey]:
    """The project's keys, oldest first (the first enabled one is the DSN pages show)."""
    rows = conn.execute(
        select(project_key).where(project_key.c.project_id == project_id).order_by(project_key.c.id)
    )
    return [_project_key(row) for row in rows]


def get_key(conn: Connection, project_id: int, key_id: int) -> ProjectKey | None:
    """One key of the project; None if the id is unknown or belongs to another project."""
    row = conn.execute(
        select(project_key).where(project_key.c.id == key_id, project_key.c.project_id == project_id)
    ).first()
    return _project_key(row) if row else None


def add_key(conn: Connection, project_id: int, label: str) -> ProjectKey:
    """A new enabled key for the project, with no rate limit."""
    public_key = create_key(conn, project_id, label)
    row = conn.execute(select(project_key).where(project_key.c.public_key == public_key)).one()
    return _project_key(row)


def set_key_enabled(conn: Connection, key_id: int, enabled: bool) -> None:
    """Ingest's key cache (shoal/ingest/keys.py) still trusts what it read for up to 30 seconds."""
    conn.execute(update(project_key).where(project_key.c.id == key_id).values(enabled=enabled))


def set_key_rate_limit(conn: Connection, key_id: int, limit: RateLimit | None) -> None:
    """Store the key's rate limit (None: no limit). Ingest enforces it once its key cache has
    read the key again (shoal/ingest/keys.py, within 30 seconds)."""
    conn.execute(
        update(project_key)
        .where(project_key.c.id == key_id)
        .values(
            rate_limit_count=limit.count if limit else None,
            rate_limit_window=limit.window if limit else None,
        )
    )


def rotate_key(conn: Connection, project_id: int, key_id: int) -> ProjectKey:
    """Replace a key: a new enabled key with the old one's label and rate limit, and the old one
    disabled, in the caller's transaction. Returns the new key."""
    old = get_key(conn, project_id, key_id)
    if old is None:
        raise LookupError(f"project {project_id} has no key {key_id}")
    new = add_key(conn, project_id, old.label)
    set_key_rate_limit(conn, new.id, old.rate_limit)
    set_key_enabled(conn, old.id, False)
    return ProjectKey(new.id, project_id, new.public_key, new.label, True, new.created_at, old.rate_limit)


def _project_key(row: Any) -> ProjectKey:
    limit = (
        RateLimit(int(row.rate_limit_count), int(row.rate_limit_window))
        if row.rate_limit_count is not None and row.rate_limit_window is not None
        else None
    )
    return ProjectKey(
        id=int(row.id),
        project_id=int(row.project_id),
        public_key=str(row.public_key),
        label=str(row.label),
        enabled=bool(row.enabled),
        created_at=float(row.created_at),
        rate_limit=limit,
    )


# ------------------------------------------------------------------------------ environments


@dataclass(frozen=True)
class EnvironmentSeen:
    name: str
    events: int
    issues: int
    last_seen: float


def environments_seen(conn: Connection, project_id: int) -> list[EnvironmentSeen]:
    """The values of the `environment` tag across the project's issues, most recently seen first,
    with their event and issue counts. Events sent without an environment have no such tag."""
    events_total = func.sum(issue_tag.c.times_seen)
    last_seen = func.max(issue_tag.c.last_seen)
    rows = conn.execute(
        select(
            issue_tag.c.value,
            events_total.label("events"),
            func.count().label("issues"),
            last_seen.label("last"),
        )
        .join(issue, issue.c.id == issue_tag.c.issue_id)
        .where(issue.c.project_id == project_id, issue_tag.c.key == "environment")
        .group_by(issue_tag.c.value)
        .order_by(last_seen.desc(), issue_tag.c.value)
    )
    return [
        EnvironmentSeen(str(row.value), int(row.events), int(row.issues), float(row.last)) for row in rows
    ]


# -------------------------------------------------------------------- data scrubbing (issue 8)


@dataclass(frozen=True)
class ScrubbingSettings:
    """A project's server-side PII scrubbing (shoal/digest/scrub.py), stored as JSON in
    `project.scrubbing`: on by default; sensitive fields (matched in keys and values) and safe
    fields (key names never touched); whether IP addresses are removed (off, as in Sentry)."""

    enabled: bool = True
    sensitive_fields: tuple[str, ...] = ()
    safe_fields: tuple[str, ...] = ()
    scrub_ip_addresses: bool = False

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "enabled": self.enabled,
                "sensitive_fields": list(self.sensitive_fields),
                "safe_fields": list(self.safe_fields),
                "scrub_ip_addresses": self.scrub_ip_addresses,
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str | None) -> ScrubbingSettings:
        """Whatever the column holds; what cannot be read falls back to the default, which
        scrubs (a broken setting must not switch scrubbing off)."""
        try:
            data = orjson.loads(text or "{}")
        except orjson.JSONDecodeError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(
            enabled=data.get("enabled") is not False,
            sensitive_fields=_names(data.get("sensitive_fields")),
            safe_fields=_names(data.get("safe_fields")),
            scrub_ip_addresses=data.get("scrub_ip_addresses") is True,
        )


def _names(value: object) -> tuple[str, ...]:
    return tuple(name for name in value if isinstance(name, str) and name) if isinstance(value, list) else ()


def project_scrubbing(conn: Connection, project_ids: set[int]) -> dict[int, ScrubbingSettings]:
    """The scrubbing settings of each of these projects that exists."""
    rows = conn.execute(select(project.c.id, project.c.scrubbing).where(project.c.id.in_(project_ids)))
    return {int(row.id): ScrubbingSettings.from_json(row.scrubbing) for row in rows}


def set_project_scrubbing(conn: Connection, project_id: int, settings: ScrubbingSettings) -> None:
    """Save them; the digest reads them for every batch, so the next events follow."""
    conn.execute(update(project).where(project.c.id == project_id).values(scrubbing=settings.to_json()))


# ------------------------------------------------------------------- inbound filters (issue 8)


def project_filters(conn: Connection, project_ids: set[int]) -> dict[int, FilterSettings]:
    """The inbound filter settings of each of these projects that exists (shoal/digest/filters/)."""
    rows = conn.execute(select(project.c.id, project.c.filters).where(project.c.id.in_(project_ids)))
    return {int(row.id): FilterSettings.from_json(row.filters) for row in rows}


def set_project_filters(conn: Connection, project_id: int, settings: FilterSettings) -> None:
    """Save them; the digest reads them for every batch, so the next events follow."""
    conn.execute(update(project).where(project.c.id == project_id).values(filters=settings.to_json()))


# ------------------------------------------------------------------------------------- teams
