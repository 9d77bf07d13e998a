"""Suspect-commit scoring without a database: how frame and commit paths are normalized, which
frames count and in which order, when a path matches, and how commits are ranked."""

from __future__ import annotations

from typing import Any

import pytest

from shoal.store.release_stats import CommitInfo
from shoal.store.suspect_commits import ChangedFile
from shoal.suspects import (
    FramePath,
    Suspect,
    frame_paths,
    normalize_path,
    path_match,
    rank_suspects,
    score,
    segments,
)


@pytest.mark.parametrize(
    ("path", "normalized"),
    [
        ("src/shop/cart.py", "src/shop/cart.py"),
        ("./src/shop/cart.py", "src/shop/cart.py"),
        ("C:\\build\\shop\\cart.py", "C:/build/shop/cart.py"),
        (".\\shop\\cart.py", "shop/cart.py"),
        ("webpack:///./src/components/Cart.jsx", "src/components/Cart.jsx"),
        ("webpack://shop-web/./src/Cart.jsx?4a2f", "shop-web/src/Cart.jsx"),
        ("app:///dist/main.js", "dist/main.js"),
        ("https://cdn.example.com/static/js/main.js?v=3#L1", "static/js/main.js"),
        ("/srv/app//shop/./cart.py", "srv/app/shop/cart.py"),
        ("~/src/cart.ts", "src/cart.ts"),
        ("   ", ""),
    ],
)
def test_paths_are_normalized_before_they_are_compared(path: str, normalized: str) -> None:
    assert normalize_path(path) == normalized


def frame(**fields: Any) -> dict[str, Any]:
    return {"in_app": True, **fields}


def event(*stacks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}} for frames in stacks]}}


def test_frames_are_the_in_app_ones_nearest_the_crash_first() -> None:
    cause = [frame(filename="shop/db.py")]
    raised = [
        frame(filename="shop/views.py", abs_path="/srv/shop/views.py"),
        {"filename": "django/core.py", "in_app": False},
        frame(filename="shop/cart.py", abs_path="/srv/shop/cart.py"),
        frame(filename="shop/cart.py", abs_path="/srv/shop/cart.py"),  # recursion: one file
    ]
    found = frame_paths(event(cause, raised))  # the payload lists the cause first
    assert [(f.rank, f.shown) for f in found] == [
        (0, "/srv/shop/cart.py"),
        (1, "/srv/shop/views.py"),
        (2, "shop/db.py"),
    ]
    assert found[0].variants == (("srv", "shop", "cart.py"), ("shop", "cart.py"))


def test_without_in_app_frames_every_frame_counts_and_threads_stand_in_for_exceptions() -> None:
    data = {
        "threads": {
            "values": [
                {"id": 1, "stacktrace": {"frames": [{"filename": "idle.py"}]}},
                {"id": 2, "crashed": True, "stacktrace": {"frames": [{"filename": "a/worker.py"}]}},
            ]
        }
    }
    assert [f.shown for f in frame_paths(data)] == ["a/worker.py", "idle.py"]


def test_hostile_frames_are_skipped_not_fatal() -> None:
    data = {
        "exception": {"values": [{"stacktrace": {"frames": ["x", {"filename": 12, "in_app": True}, None]}}]}
    }
    assert [f.shown for f in frame_paths(data)] == ["12"]
    assert frame_paths({"exception": "nope"}) == []


@pytest.mark.parametrize(
    ("frame_path", "changed", "match"),
    [
        ("/srv/shop/cart.py", "shop/cart.py", 2),
        ("shop/cart.py", "src/shop/cart.py", 2),
        ("/srv/app/src/shop/cart.py", "src/shop/cart.py", 3),
        ("/srv/app/manage.py", "manage.py", 1),  # a file at the repository's root: its whole path
        ("/srv/shop/__init__.py", "billing/__init__.py", 0),  # the file name alone says nothing
        ("/srv/shop/cart.py", "shop/carts.py", 0),
        ("webpack:///./src/Cart.jsx", "web/src/Cart.jsx", 2),
    ],
)
def test_a_match_counts_path_segments_from_the_end(frame_path: str, changed: str, match: int) -> None:
    assert path_match(FramePath(0, frame_path, (segments(frame_path),)), changed) == match


@pytest.mark.parametrize(
    ("match", "frame_rank", "release_rank", "points"),
    [
        (2, 0, 0, 4 + 5 + 3),
        (3, 0, 0, 6 + 5 + 3),
        (6, 0, 0, 6 + 5 + 3),  # three segments are as sure as six
        (2, 4, 0, 4 + 1 + 3),
        (2, 9, 0, 4 + 0 + 3),
        (2, 0, 2, 4 + 5 + 1),
        (2, 0, 5, 4 + 5 + 0),
    ],
)
def test_the_score_adds_path_nearness_to_the_crash_and_recency(
    match: int, frame_rank: int, release_rank: int, points: int
) -> None:
    assert score(match, frame_rank, release_rank) == points


def changed(commit_id: int, filename: str, release_rank: int = 0, position: int = 0) -> ChangedFile:
    info = CommitInfo(
        commit_id, "origin", f"{commit_id:07d}abc", f"commit {commit_id}\n\nbody", "Dev", None, None
    )
    return ChangedFile(info, filename, "v", release_rank, position)


def ranked(files: list[ChangedFile]) -> list[tuple[int, str]]:
    frames = frame_paths(event([frame(abs_path="/srv/shop/views.py"), frame(abs_path="/srv/shop/cart.py")]))
    return [(s.file.commit.id, s.file.filename) for s in rank_suspects(frames, files)]


def test_commits_rank_by_score_and_equal_scores_by_the_newer_commit() -> None:
    files = [
        changed(1, "shop/views.py"),  # the frame one further from the crash: 4 + 4 + 3
        changed(2, "shop/cart.py", release_rank=1),  # the crashing frame, a release earlier: 4 + 5 + 2
        changed(3, "shop/cart.py", release_rank=0, position=3),  # 4 + 5 + 3
        changed(4, "shop/cart.py", release_rank=0, position=1),  # as many, and newer in the release
        changed(5, "README.md"),
    ]
    assert ranked(files) == [(4, "shop/cart.py"), (3, "shop/cart.py"), (1, "shop/views.py")]


def test_a_commit_counts_once_with_its_best_file() -> None:
    files = [changed(1, "shop/views.py"), changed(1, "shop/cart.py"), changed(2, "docs/cart.py")]
    assert ranked(files) == [(1, "shop/cart.py")]


def test_a_suspect_describes_itself_as_notifications_say_it() -> None:
    info = CommitInfo(
        1,
        "origin",
        "758a0d6e3f",
        "second: add b, change a\n\nlonger text",
        "Dev Person",
        "dev@example.com",
        None,
    )
    suspect = Suspect(ChangedFile(info, "a.py", "v", 0, 0), FramePath(0, "a.py", (("a.py",),)), 1, 10)
    assert suspect.describe() == "758a0d6 by Dev Person: 'second: add b, change a'"
    anonymous = CommitInfo(2, "origin", "1234567890", None, None, None, None)
    assert Suspect(ChangedFile(anonymous, "a.py", "v", 0, 0), suspect.frame, 1, 10).describe() == (
        "1234567 by an unknown author"
    )
