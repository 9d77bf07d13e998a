"""Reading the JSON bodies of the release endpoints as Sentry's serializers read them: which fields
are taken, their types and limits, and the messages (Django REST framework's words) when they are
wrong. Nothing here touches the store: a body is checked whole, then applied.

Sentry's limits: a version is 1–200 characters, not `.`, `..` or `latest` (any case), with no `/`,
`\\`, newline, tab or form feed (sentry-release-parser `validate_release`; Sentry's
`Release.is_valid_version`); a commit sha at most 64 characters (`MAX_COMMIT_LENGTH`); a patch_set
type is A, M or D; an environment at most 64 characters, not `none` (`validate_environment`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from shoal.api.errors import invalid
from shoal.store.commits import CommitInput, RefInput
from shoal.store.releases import ReleaseFields

MAX_VERSION = 200
MAX_COMMIT = 64
MAX_REPOSITORY = 200
MAX_AUTHOR_NAME = 200
MAX_EMAIL = 254
MAX_PATH = 1000
MAX_ENVIRONMENT = 64
MAX_DEPLOY_NAME = 200
MAX_URL = 2000
MAX_PROVIDER = 64
BAD_NAME_CHARACTERS = frozenset("/\\\r\n\t\f")
FILE_CHANGE_TYPES = frozenset("AMD")

REQUIRED = "This field is required."
NOT_A_STRING = "Not a valid string."
BLANK = "This field may not be blank."
NOT_A_LIST = 'Expected a list of items but got type "{kind}".'
EMPTY_LIST = "This list may not be empty."
BAD_DATE = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
BAD_URL = "Enter a valid URL."
BAD_PROJECTS = "Invalid project ids or slugs"

T = TypeVar("T")


class Problems(dict[str, str]):
    """Field path → message, first message per field wins."""

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, message)

    def raise_any(self) -> None:
        if self:
            raise invalid(dict(self))


@dataclass
class ReleaseBody:
    """A release create or update body, checked."""

    version: str | None = None
    projects: list[int | str] | None = None
    fields: ReleaseFields = field(default_factory=ReleaseFields)
    commits: list[CommitInput] | None = None
    refs: list[RefInput] | None = None


@dataclass
class DeployBody:
    environment: str
    name: str | None
    url: str | None
    date_started: float | None
    date_finished: float | None
    projects: list[int | str] | None


def version_problem(value: str) -> str | None:
    """Why Sentry would refuse this release version, or None."""
    if not value.strip():
        return BLANK
    if len(value) > MAX_VERSION:
        return too_long(MAX_VERSION)
    if value.strip() in (".", "..") or value.strip().lower() == "latest" or BAD_NAME_CHARACTERS & set(value):
        return f"Release with name {value} is not allowed"
    return None


def too_long(limit: int) -> str:
    return f"Ensure this field has no more than {limit} characters."


def release_body(body: dict[str, Any], *, creating: bool) -> ReleaseBody:
    """The body of `POST …/releases/` (`creating`: version and projects required) or of
    `PUT …/releases/{version}/`. Unknown fields are ignored, as DRF ignores them."""
    problems = Problems()
    checked = ReleaseBody()
    if creating:
        checked.version = _string(body, "version", problems, limit=MAX_VERSION, required=True)
        if checked.version is not None and (problem := version_problem(checked.version)):
            problems.add("version", problem)
    checked.projects = _projects(body, problems, required=creating)
    _release_fields(body, checked.fields, problems)
    if "commits" in body:
        checked.commits = _items(body, "commits", problems, _commit)
    if "refs" in body:
        checked.refs = _items(body, "refs", problems, _ref)
    problems.raise_any()
    return checked


def _release_fields(body: dict[str, Any], fields: ReleaseFields, problems: Problems) -> None:
    if "ref" in body:
        fields["ref"] = _string(body, "ref", problems, limit=MAX_VERSION, nullable=True) or None
    if "url" in body:
        fields["url"] = _url(body, "url", problems)
    if "dateStarted" in body:
        fields["date_started"] = _date(body["dateStarted"], "dateStarted", problems)
    if "dateReleased" in body:
        fields["date_released"] = _date(body["dateReleased"], "dateReleased", problems)


def deploy_body(body: dict[str, Any]) -> DeployBody:
    problems = Problems()
    environment = _string(body, "environment", problems, limit=MAX_ENVIRONMENT, required=True)
    if environment is not None and (problem := _environment_problem(environment)):
        problems.add("environment", problem)
    checked = DeployBody(
        environment=environment or "",
        name=_string(body, "name", problems, limit=MAX_DEPLOY_NAME, nullable=True) or None,
        url=_url(body, "url", problems),
        date_started=_date(body.get("dateStarted"), "dateStarted", problems),
        date_finished=_date(body.get("dateFinished"), "dateFinished", problems),
        projects=_projects(body, problems, required=False),
    )
    problems.raise_any()
    return checked


def _environment_problem(value: str) -> str | None:
    if not value:
        return BLANK
    if value in (".", "..") or value.lower() == "none" or BAD_NAME_CHARACTERS & set(value):
        return f"Environment with name {value} is not allowed"
    return None


def repository_fields(body: dict[str, Any], problems: Problems) -> tuple[str | None, str, str | None]:
    """A repository registration's name (required), provider (default `git`) and URL."""
    name = _string(body, "name", problems, limit=MAX_REPOSITORY, required=True)
    if name is not None and not name.strip():
        problems.add("name", BLANK)
    provider = _string(body, "provider", problems, limit=MAX_PROVIDER, nullable=True) or "git"
    return name, provider, _url(body, "url", problems)


# ------------------------------------------------------------------------------- commits and refs


def _commit(item: dict[str, Any], path: str, problems: Problems) -> CommitInput | None:
    key = _string(item, "id", problems, limit=MAX_COMMIT, required=True, at=path)
    # Sentry files commits without a repository under one named after the organization.
    repository = _string(item, "repository", problems, limit=MAX_REPOSITORY, nullable=True, at=path)
    email = _string(item, "author_email", problems, limit=MAX_EMAIL, nullable=True, at=path)
    files = _patch_set(item, path, problems)
    if key is None or not key:
        if key == "":
            problems.add(f"{path}.id", BLANK)
        return None
    return CommitInput(
        key=key,
        repository=repository or "",
        message=_string(item, "message", problems, nullable=True, at=path),
        author_name=_string(item, "author_name", problems, limit=MAX_AUTHOR_NAME, nullable=True, at=path)
        or None,
        # Lower-cased, as users' emails are stored: suggested assignees match on it.
        author_email=(email.strip().lower() or None) if email else None,
        timestamp=_date(item.get("timestamp"), f"{path}.timestamp", problems),
        files=files,
    )


def _patch_set(item: dict[str, Any], path: str, problems: Problems) -> tuple[tuple[str, str], ...] | None:
    raw = item.get("patch_set")
    if raw is None:
        return None
    if not isinstance(raw, list):
        problems.add(f"{path}.patch_set", NOT_A_LIST.format(kind=type(raw).__name__))
        return None
    files: list[tuple[str, str]] = []
    for index, change in enumerate(raw):
        at = f"{path}.patch_set[{index}]"
        if not isinstance(change, dict):
            problems.add(at, "Invalid data. Expected a dictionary.")
            continue
        file_path = _string(change, "path", problems, limit=MAX_PATH, required=True, at=at)
        kind = _string(change, "type", problems, required=True, at=at)
        if kind is not None and kind not in FILE_CHANGE_TYPES:
            problems.add(f"{at}.type", f"Commit patch_set type {kind} is not supported.")
        elif file_path and kind:
            files.append((file_path, kind))
    return tuple(files)


def _ref(item: dict[str, Any], path: str, problems: Problems) -> RefInput | None:
    repository = _string(item, "repository", problems, limit=MAX_REPOSITORY, required=True, at=path)
    commit = _string(item, "commit", problems, required=True, at=path)
    previous = _string(item, "previousCommit", problems, limit=MAX_COMMIT, nullable=True, at=path) or None
    for name, value in (("repository", repository), ("commit", commit)):
        if value is not None and not value.strip():
            problems.add(f"{path}.{name}", BLANK)
    if not repository or not repository.strip() or not commit or not commit.strip():
        return None
    # Sentry takes a range in `commit` too: "a..b" is previousCommit a, commit b.
    if ".." in commit:
        previous, _, commit = commit.partition("..")
        if not previous or not commit:
            problems.add(f"{path}.commit", "Commit cannot begin or end with ..")
            return None
    if len(commit) > MAX_COMMIT or (previous is not None and len(previous) > MAX_COMMIT):
        problems.add(f"{path}.commit", f"Commit too long - max is {MAX_COMMIT} chars")
        return None
    return RefInput(repository, commit, previous)


# ----------------------------------------------------------------------------------- field types


def _items(
    body: dict[str, Any],
    name: str,
    problems: Problems,
    read: Callable[[dict[str, Any], str, Problems], T | None],
) -> list[T]:
    raw = body.get(name)
    if not isinstance(raw, list):
        problems.add(
            name,
            NOT_A_LIST.format(kind=type(raw).__name__) if raw is not None else "This field may not be null.",
        )
        return []
    found: list[T] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.add(f"{name}[{index}]", "Invalid data. Expected a dictionary.")
            continue
        value = read(item, f"{name}[{index}]", problems)
        if value is not None:
            found.append(value)
    return found


def _projects(body: dict[str, Any], problems: Problems, *, required: bool) -> list[int | str] | None:
    if "projects" not in body:
        if required:
            problems.add("projects", REQUIRED)
        return None
    raw = body["projects"]
    if not isinstance(raw, list):
        problems.add("projects", NOT_A_LIST.format(kind=type(raw).__name__))
        return None
    if required and not raw:
        problems.add("projects", EMPTY_LIST)
    # sentry-cli sends all-digit projects as JSON integers (an id), the rest as slugs.
    if not all(isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool)) for p in raw):
        problems.add("projects", BAD_PROJECTS)
        return None
    return list(raw)


def _string(
    body: dict[str, Any],
    name: str,
    problems: Problems,
    *,
    limit: int | None = None,
    required: bool = False,
    nullable: bool = False,
    at: str | None = None,
) -> str | None:
    path = f"{at}.{name}" if at else name
    if name not in body or (body[name] is None and nullable):
        if required:
            problems.add(path, REQUIRED)
        return None
    value = body[name]
    if not isinstance(value, str):
        problems.add(path, "This field may not be null." if value is None else NOT_A_STRING)
        return None
    if "\x00" in value:
        # DRF's words; PostgreSQL cannot store the character in text at all.
        problems.add(path, "Null characters are not allowed.")
        return None
    if limit is not None and len(value) > limit:
        problems.add(path, too_long(limit))
        return None
    return value


def _url(body: dict[str, Any], name: str, problems: Problems) -> str | None:
    value = _string(body, name, problems, limit=MAX_URL, nullable=True)
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(name, BAD_URL)
        return None
    return value


def _date(value: Any, path: str, problems: Problems) -> float | None:
    """An ISO 8601 time as unix seconds; one without an offset is UTC. sentry-cli sends
    nanoseconds (`…34.286238310Z`), which Python reads to the microsecond."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(path, BAD_DATE)
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        problems.add(path, BAD_DATE)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        seconds = parsed.timestamp()
    except (OverflowError, ValueError):
        problems.add(path, BAD_DATE)
        return None
    return seconds if math.isfinite(seconds) else None
