"""Suspect commits: which commits of the release that introduced an issue (and of the five releases
before it) changed a file that is in the stack trace of the issue's first event, best first.

This is Sentry's release-based strategy (reference §7.5 b), which needs no SCM integration: only the
commits and their changed files (`patch_set`) that `sentry-cli releases set-commits` sends.

- **Frames**: the in-app frames (all frames when none is in-app, as Sentry does), nearest the crash
  first: the raised exception before the ones it chains to, and in each stack the innermost frame
  first. At most 25 distinct file paths; a frame's `abs_path` and `filename` both count.
- **Paths** are normalized before they are compared (`normalize_path`): backslashes become `/`,
  a query string or fragment, a `webpack://` / `app://` prefix, an `http(s)://host` prefix and `.`
  segments are dropped.
- **Match**: the number of path segments that agree counted from the end (`shop/cart.py` and
  `src/shop/cart.py` agree in 2). It has to cover at least the file name, and a match of the file
  name alone only counts when the changed file is at the repository's root (it then is its whole
  path): otherwise every `__init__.py` or `index.js` in the release would be a suspect. Sentry
  skips the same single-segment matches.
- **Score** of a commit: its best (frame, changed file) pair's `2 × min(match, 3)` (a match of three
  segments is as sure as one of six) plus `5, 4, 3, 2, 1` for the first five frames from the crash,
  plus the commit's recency: 3 in the release that introduced the issue, 2 in the release before,
  1 in the one before that. Equal scores go to the newer commit (newer release, then nearer the
  release's head). The top three are shown.

Everything a commit says (its message, author, file names) came from whoever holds an API token,
and the frames from whoever holds a DSN: it is all text to be escaped where it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from shoal.eventdata import as_dict, as_list, text, values_of
from shoal.store import suspect_commits
from shoal.store.suspect_commits import ChangedFile

MAX_FRAMES = 25
MAX_SUSPECTS = 3
FRAME_POINTS = 5  # the crashing frame; each frame further away one less, down to 0
RECENCY_POINTS = 3  # a commit of the introducing release; each release further back one less
SURE_MATCH = 3  # segments; a longer match adds nothing
SHORT_SHA = 7
MESSAGE_CHARS = 100

_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.IGNORECASE)
_BUNDLER_PREFIXES = ("webpack://", "app://")


@dataclass(frozen=True)
class FramePath:
    """One file of the stack trace: `rank` 0 is the in-app frame nearest the crash."""

    rank: int
    shown: str  # the path as the event names it (abs_path, else filename)
    variants: tuple[tuple[str, ...], ...]  # normalized abs_path and filename, as segments

    @property
    def basenames(self) -> set[str]:
        return {segments[-1] for segments in self.variants}


@dataclass(frozen=True)
class Suspect:
    """A commit that changed a file of the stack trace, with the pair that matched best."""

    file: ChangedFile  # the commit and the changed file
    frame: FramePath
    match: int  # trailing path segments in common
    score: int

    @property
    def short_sha(self) -> str:
        return self.file.commit.key[:SHORT_SHA]

    @property
    def author(self) -> str:
        commit = self.file.commit
        return commit.author_name or commit.author_email or "an unknown author"

    @property
    def summary(self) -> str:
        """The message's first line, shortened: what a list or a notification has room for."""
        first = (self.file.commit.message or "").strip().splitlines()
        line = first[0].strip() if first else ""
        return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1].rstrip() + "…"

    def describe(self) -> str:
        """ "758a0d6 by Dev Person: 'second: add b, change a'", as alert notifications say it."""
        said = f": '{self.summary}'" if self.summary else ""
        return f"{self.short_sha} by {self.author}{said}"


# ------------------------------------------------------------------------------------ reading


def suspects_of_event(conn: Connection, issue_id: int, data: dict[str, Any] | None) -> list[Suspect]:
    """The issue's suspect commits for the stack trace of `data` (one of its events), best first."""
    frames = frame_paths(data or {})
    if not frames:
        return []
    basenames = set().union(*(frame.basenames for frame in frames))
    return rank_suspects(frames, suspect_commits.changed_files(conn, issue_id, basenames))


def top_suspect(conn: Connection, issue_id: int, data: dict[str, Any]) -> str | None:
    """The best suspect commit in words, for a notification; None when there is none."""
    found = suspects_of_event(conn, issue_id, data)
    return found[0].describe() if found else None


# ------------------------------------------------------------------------------------- frames


def normalize_path(path: str) -> str:
    """A frame's or a commit's file path in the form both are compared in (see the module doc)."""
    path = path.strip().replace("\\", "/")
    path = re.split(r"[?#]", path, maxsplit=1)[0]
    for prefix in _BUNDLER_PREFIXES:
        if path.lower().startswith(prefix):
            path = path[len(prefix) :]
            break
    else:
        path = _URL_HOST.sub("", path)
    return "/".join(part for part in path.split("/") if part not in ("", ".", "~"))


def segments(path: str) -> tuple[str, ...]:
    normalized = normalize_path(path)
    return tuple(normalized.split("/")) if normalized else ()


def frame_paths(data: dict[str, Any]) -> list[FramePath]:
    """The stack trace's distinct files, nearest the crash first (see the module doc)."""
    frames = list(_frames_nearest_first(data))
    chosen = [frame for frame in frames if frame.get("in_app") is True] or frames
    found: list[FramePath] = []
    seen: set[tuple[tuple[str, ...], ...]] = set()
    for frame in chosen:
        names = [name for name in (text(frame.get("abs_path")), text(frame.get("filename"))) if name]
        variants = tuple(dict.fromkeys(s for s in (segments(name) for name in names) if s))
        if not variants or variants in seen:
            continue
        seen.add(variants)
        found.append(FramePath(len(found), names[0], variants))
        if len(found) == MAX_FRAMES:
            break
    return found


def _frames_nearest_first(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for stack in _stacks(data):
        for frame in reversed(as_list(as_dict(stack).get("frames"))):
            if isinstance(frame, dict):
                yield frame


def _stacks(data: dict[str, Any]) -> list[Any]:
    """The raised exception's stack first (the payload lists the cause first); without an
    exception, the event's own stack trace, else its threads', the crashed one first."""
    exceptions = [value.get("stacktrace") for value in reversed(values_of(data.get("exception")))]
    if any(exceptions):
        return exceptions
    threads = sorted(values_of(data.get("threads")), key=lambda thread: thread.get("crashed") is not True)
    return [data.get("stacktrace"), *(thread.get("stacktrace") for thread in threads)]


# ------------------------------------------------------------------------------------ scoring


def trailing_match(left: tuple[str, ...], right: tuple[str, ...]) -> int:
    """How many segments the two paths share counted from the end."""
    count = 0
    for a, b in zip(reversed(left), reversed(right), strict=False):
        if a != b:
            break
        count += 1
    return count


def path_match(frame: FramePath, filename: str) -> int:
    """The frame's best trailing match with a changed file; 0 when it does not count (a file name
    alone counts only for a file at the repository's root)."""
    changed = segments(filename)
    best = max((trailing_match(variant, changed) for variant in frame.variants), default=0)
    return best if best >= 2 or (best == 1 and len(changed) == 1) else 0


def score(match: int, frame_rank: int, release_rank: int) -> int:
    path = 2 * min(match, SURE_MATCH)
    nearness = max(0, FRAME_POINTS - frame_rank)
    recency = max(0, RECENCY_POINTS - release_rank)
    return path + nearness + recency


def rank_suspects(frames: list[FramePath], files: Iterable[ChangedFile]) -> list[Suspect]:
    """Each commit's best-matching changed file, best commits first, at most MAX_SUSPECTS."""
    best: dict[int, Suspect] = {}
    for changed in files:
        for frame in frames:
            match = path_match(frame, changed.filename)
            if not match:
                continue
            found = Suspect(changed, frame, match, score(match, frame.rank, changed.release_rank))
            known = best.get(changed.commit.id)
            if known is None or _order(found) < _order(known):
                best[changed.commit.id] = found
    return sorted(best.values(), key=_order)[:MAX_SUSPECTS]


def _order(suspect: Suspect) -> tuple[int, int, int, int, str]:
    """Higher score first; then the newer commit; then the frame nearer the crash."""
    changed = suspect.file
    return (-suspect.score, changed.release_rank, changed.position, suspect.frame.rank, changed.filename)
