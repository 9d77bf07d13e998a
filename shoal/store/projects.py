"""Organizations, projects and their client keys (DSNs)."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, func, insert, select, update

from shoal.alerts.templates import default_project_rule
from shoal.store import alert_rules
from shoal.store.schema import organization, project, project_key


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
    row = conn.execute(
        select(project_key.c.project_id, project_key.c.enabled).where(project_key.c.public_key == public_key)
    ).first()
    return KeyInfo(row.project_id, public_key, bool(row.enabled)) if row else None


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
