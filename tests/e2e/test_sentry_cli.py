"""The real `sentry-cli` (the PyPI wheel's binary, and `npx @sentry/cli` when npm can install it)
against a running `shoal run`: `info`, releases, commits from a real git repository with two
authors, refs, deploys, and the chapter's CI snippet unmodified. Every command's exit code is
checked, then what the store holds.

sentry-cli reads only the environment given here (HOME is a temporary directory, so no
~/.sentryclirc of the machine's is read). Commands run with SENTRY_LOG_LEVEL=debug, so a failure
shows every request and answer; the CI snippets run without it, as CI would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from shoal.bootstrap import default_organization_id
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import commits, projects, releases
from shoal.store.commits import Commit, RefInput
from shoal.store.db import write_transaction
from shoal.store.releases import Deploy, Release
from shoal.store.schema import organization
from tests.api.client import Api, create_token
from tests.support.server import RunningShoal, start_shoal

SENTRY_CLI = Path(sys.executable).with_name("sentry-cli")
ANN = ("Ann Author", "ann@example.com")
DEV = ("Dev Person", "dev@example.com")
# The chapter's "Release Tracking" step (reference/seed-chapter.txt), character for character.
CHAPTER_SNIPPET = textwrap.dedent(
    """\
    VERSION=$(git rev-parse --short HEAD)
    npx @sentry/cli releases new "$VERSION"
    npx @sentry/cli releases set-commits "$VERSION" --auto
    npx @sentry/cli releases finalize "$VERSION"
    """
)
# The same with the PyPI binary on PATH.
SENTRY_CLI_SNIPPET = CHAPTER_SNIPPET.replace("npx @sentry/cli", "sentry-cli")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningShoal]:
    """One server for the module; tests that set commits do it in a project of their own, so that
    no release of another test is their "previous release"."""
    started = start_shoal(tmp_path_factory.mktemp("sentry-cli") / "data")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def token(server: RunningShoal) -> str:
    return create_token(server, "--label", "sentry-cli tests")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


# ------------------------------------------------------------------------------------ the helpers


def cli_env(server: RunningShoal, token: str, home: Path, project: str = "my-project") -> dict[str, str]:
    return {
        "PATH": f"{SENTRY_CLI.parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "SENTRY_URL": server.url,
        "SENTRY_AUTH_TOKEN": token,
        "SENTRY_ORG": "default",
        "SENTRY_PROJECT": project,
        "SENTRY_LOG_LEVEL": "debug",
        "SENTRY_DISABLE_UPDATE_CHECK": "true",
    }


def cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SENTRY_CLI), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The command's stdout, once it exited 0 (else fail with its output and debug log)."""
    assert result.returncode == 0, (
        f"{result.args} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-6000:]}"
    )
    return result.stdout


@dataclass
class GitRepo:
    """A real git repository with a remote named origin (a local bare repository)."""

    path: Path
    env: dict[str, str]
    clock: int = 1_795_000_000

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def commit(self, author: tuple[str, str], message: str, files: dict[str, str | None]) -> str:
        """Write (or, for None, delete) the files and commit them as `author`; returns the sha."""
        for name, content in files.items():
            if content is None:
                (self.path / name).unlink()
            else:
                (self.path / name).write_text(content)
        self.git("add", "-A")
        self.clock += 60
        # An author time with an offset: the server must keep the instant.
        when = f"{self.clock} +0100"
        name, email = author
        self.env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
        self.git("-c", f"user.name={name}", "-c", f"user.email={email}", "commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def git_repo(base: Path, home: Path) -> GitRepo:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "--bare", str(base / "remote.git")], env=env, check=True)
    (base / "app").mkdir()
    repo = GitRepo(base / "app", env)
    repo.git("init", "-q", "-b", "main")
    repo.git("remote", "add", "origin", str(base / "remote.git"))
    return repo


def two_authors_history(repo: GitRepo) -> list[str]:
    """Three commits by two authors; their shas, newest first."""
    first = repo.commit(ANN, "first: add a and b", {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    second = repo.commit(DEV, "second: change a, add c", {"a.py": "a = 2\n", "c.py": "c = 1\n"})
    third = repo.commit(ANN, "third: remove b", {"b.py": None})
    return [third, second, first]


def new_project(server: RunningShoal) -> str:
    with write_transaction(server.engine) as conn:
        made = projects.create_project(
            conn, default_organization_id(conn), f"cli-{uuid.uuid4().hex[:8]}", "python", DEFAULT_CONFIG_ID
        )
    return made.slug


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stored_release(server: RunningShoal, version: str, organization_slug: str = "default") -> Release | None:
    with server.engine.connect() as conn:
        organization_id = conn.execute(
            select(organization.c.id).where(organization.c.slug == organization_slug)
        ).scalar_one()
        return releases.get_release(conn, organization_id, version)


def stored_commits(server: RunningShoal, version: str, organization_slug: str = "default") -> list[Commit]:
    found = stored_release(server, version, organization_slug)
    assert found is not None, f"no release {version}"
    with server.engine.connect() as conn:
        return commits.release_commits(conn, found.id)


def stored_deploys(server: RunningShoal, version: str) -> list[Deploy]:
    found = stored_release(server, version)
    assert found is not None
    with server.engine.connect() as conn:
        return releases.deploy_page(conn, found.id, offset=0, limit=100)[0]


def release_projects(server: RunningShoal, version: str) -> list[str]:
    found = stored_release(server, version)
    assert found is not None
    with server.engine.connect() as conn:
        return [p.slug for p in releases.release_projects(conn, [found.id])[found.id]]


def files_of(commit: Commit) -> list[tuple[str, str]]:
    return [(f.filename, f.type) for f in commit.files]


# --------------------------------------------------------------------------------------- commands


def test_info_shows_the_tokens_user_and_scopes(server: RunningShoal, token: str, home: Path) -> None:
    shown = ok(cli(cli_env(server, token, home), "info"))
    assert f"Sentry Server: {server.url}" in shown
    assert "User: admin@example.com" in shown
    assert "- project:releases" in shown
    unknown = cli(cli_env(server, "sntryu_" + "0" * 64, home), "info")
    assert unknown.returncode == 1
    assert "sentry reported an error: Invalid token (http status: 401)" in unknown.stderr


def test_releases_new_list_info_finalize_and_delete(server: RunningShoal, token: str, home: Path) -> None:
    env, version = cli_env(server, token, home), unique("cli")
    assert ok(cli(env, "releases", "new", version)).strip() == f"Created release {version}"
    made = stored_release(server, version)
    assert made is not None and made.date_started is not None and made.date_released is None
    assert release_projects(server, version) == ["my-project"]
    # Again: the server answers 208, which sentry-cli takes as success.
    ok(cli(env, "releases", "new", version))

    listed = ok(cli(env, "releases", "list"))
    assert any(version in line and "(unreleased)" in line for line in listed.splitlines()), listed
    assert version in ok(cli(env, "releases", "info", version))

    assert ok(cli(env, "releases", "finalize", version)).strip() == f"Finalized release {version}"
    finalized = stored_release(server, version)
    assert finalized is not None and finalized.date_released is not None
    listed = ok(cli(env, "releases", "list"))
    assert any(version in line and " ago" in line for line in listed.splitlines()), listed

    assert ok(cli(env, "releases", "delete", version)).strip() == f"Deleted release {version}!"
    assert stored_release(server, version) is None
    assert cli(env, "releases", "info", version).returncode == 1


def test_set_commits_auto_without_repositories_sends_the_local_commits_with_authors_and_files(
    server: RunningShoal, token: str, home: Path, tmp_path: Path
) -> None:
    repo = git_repo(tmp_path, home)
    third, second, first = two_authors_history(repo)
    env, version = cli_env(server, token, home, new_project(server)), unique("auto")
    ok(cli(env, "releases", "new", version, cwd=repo.path))
    said = ok(cli(env, "releases", "set-commits", version, "--auto", cwd=repo.path))
    assert "Proceeding to find commits from local git tree" in said

    stored = stored_commits(server, version)
    assert [c.key for c in stored] == [third, second, first]
    assert [(c.author_name, c.author_email) for c in stored] == [ANN, DEV, ANN]
    assert [c.message for c in stored] == [
        "third: remove b\n",
        "second: change a, add c\n",
        "first: add a and b\n",
    ]
    assert [files_of(c) for c in stored] == [
        [("b.py", "D")],
        [("a.py", "M"), ("c.py", "A")],
        [("a.py", "A"), ("b.py", "A")],
    ]
    # The author time, an instant whatever its offset; the repository is the remote's name.
    assert [c.date_added for c in stored] == [repo.clock, repo.clock - 60, repo.clock - 120]
    assert {c.repository.name for c in stored} == {"origin"}
    assert {c.repository.provider for c in stored} == {None}


def test_set_commits_local_starts_where_the_previous_release_ended(
    server: RunningShoal, token: str, home: Path, tmp_path: Path
) -> None:
    repo = git_repo(tmp_path, home)
    third, second, first = two_authors_history(repo)
    env = cli_env(server, token, home, new_project(server))
    before, after = unique("local-1"), unique("local-2")
    ok(cli(env, "releases", "new", before, cwd=repo.path))
    ok(cli(env, "releases", "set-commits", before, "--local", cwd=repo.path))
    assert [c.key for c in stored_commits(server, before)] == [third, second, first]

    fourth = repo.commit(DEV, "fourth: change c", {"c.py": "c = 2\n"})
    ok(cli(env, "releases", "new", after, cwd=repo.path))
    ok(cli(env, "releases", "set-commits", after, "--local", cwd=repo.path))
    stored = stored_commits(server, after)
    assert [(c.key, c.author_email, files_of(c)) for c in stored] == [(fourth, DEV[1], [("c.py", "M")])]
    assert fourth in ok(cli(env, "releases", "info", after, "--show-commits"))


def test_set_commits_with_a_commit_range_stores_the_ref(tmp_path: Path, home: Path) -> None:
    # A server of its own: a registered repository changes what `--auto` does for everyone else.
    server = start_shoal(tmp_path / "data")
    try:
        admin = Api(server, create_token(server, "--scopes", "org:read org:write"))
        registered = admin.post(
            "organizations/default/repos/", {"name": "acme/web", "url": "https://github.com/acme/web"}
        )
        assert registered.status == 201, registered.body
        env, version = cli_env(server, create_token(server), home), unique("range")
        start, end = "abc" + "0" * 37, "def" + "1" * 37
        ok(cli(env, "releases", "new", version, cwd=tmp_path))
        said = ok(
            cli(env, "releases", "set-commits", version, "--commit", f"acme/web@{start}..{end}", cwd=tmp_path)
        )
        assert "acme/web" in said
        found = stored_release(server, version)
        assert found is not None
        with server.engine.connect() as conn:
            assert commits.release_refs(conn, found.id) == [RefInput("acme/web", end, start)]
        head = stored_commits(server, version)
        assert [(c.key, c.repository.name) for c in head] == [(end, "acme/web")]
    finally:
        server.stop()


def test_deploys_new_and_the_releases_deploys_alias(server: RunningShoal, token: str, home: Path) -> None:
    env, version = cli_env(server, token, home), unique("deploy")
    ok(cli(env, "releases", "new", version))
    assert "Created new deploy" in ok(cli(env, "deploys", "new", "--release", version, "-e", "production"))
    ok(cli(env, "releases", "deploys", version, "new", "-e", "staging", "-n", "canary"))
    deploys = stored_deploys(server, version)
    assert [(d.environment, d.name) for d in deploys] == [("staging", "canary"), ("production", None)]
    assert all(d.date_finished > 0 for d in deploys)
    listed = ok(cli(env, "deploys", "list", "--release", version))
    assert "production" in listed and "canary" in listed


def test_sourcemaps_upload_says_it_is_not_supported(
    server: RunningShoal, token: str, home: Path, tmp_path: Path
) -> None:
    (tmp_path / "app.js").write_text("console.log(1);\n//# sourceMappingURL=app.js.map\n")
    (tmp_path / "app.js.map").write_text('{"version":3,"sources":[],"names":[],"mappings":""}')
    refused = cli(
        cli_env(server, token, home), "sourcemaps", "upload", "--release", unique("maps"), str(tmp_path)
    )
    assert refused.returncode == 1
    assert "sourcemaps upload is not supported" in refused.stderr
    assert "501" in refused.stderr


# ------------------------------------------------------------------------------ the chapter's CI


def run_snippet(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As a GitHub Actions `run:` step runs it: bash --noprofile --norc -eo pipefail."""
    (cwd.parent / "step.sh").write_text(script)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(cwd.parent / "step.sh")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_chapters_ci_snippet_runs_unmodified_with_sentry_cli(
    server: RunningShoal, token: str, home: Path, tmp_path: Path
) -> None:
    repo = git_repo(tmp_path, home)
    history = two_authors_history(repo)
    env = {k: v for k, v in cli_env(server, token, home).items() if k != "SENTRY_LOG_LEVEL"}
    done = run_snippet(SENTRY_CLI_SNIPPET, repo.path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    version = repo.git("rev-parse", "--short", "HEAD")
    found = stored_release(server, version)
    assert found is not None and found.date_released is not None
    assert [c.key for c in stored_commits(server, version)] == history
    assert {(c.author_name, c.author_email) for c in stored_commits(server, version)} == {ANN, DEV}


@pytest.fixture(scope="module")
def npm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where `npm install @sentry/cli` put the npm package (its binary comes as an
    optional dependency for this platform); `npx @sentry/cli` below it finds it there."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so `npx @sentry/cli` cannot run")
    base = tmp_path_factory.mktemp("npm")
    env = {"PATH": os.environ["PATH"], "HOME": str(base / "home")}
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-save", "@sentry/cli"],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm install @sentry/cli did not finish in 300 s (no registry?)")
    binary = base / "node_modules" / ".bin" / "sentry-cli"
    if done.returncode != 0 or not binary.exists():
        pytest.skip(f"npm install @sentry/cli failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return base


def test_the_chapters_ci_snippet_runs_unmodified_with_npx(server: RunningShoal, npm_dir: Path) -> None:
    """Character for character, with exactly the environment the chapter's workflow sets: an
    organization token (it carries Shoal's URL, so no SENTRY_URL), the org and the project."""
    with write_transaction(server.engine) as conn:
        organization_id = projects.create_organization(conn, "marketflow", "MarketFlow")
        projects.create_project(conn, organization_id, "marketflow-api", "python", DEFAULT_CONFIG_ID)
    home = npm_dir / "home"
    repo = git_repo(npm_dir, home)
    history = two_authors_history(repo)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "SENTRY_AUTH_TOKEN": create_token(server, "--org", "marketflow"),
        "SENTRY_ORG": "marketflow",
        "SENTRY_PROJECT": "marketflow-api",
    }
    done = run_snippet(CHAPTER_SNIPPET, repo.path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    version = repo.git("rev-parse", "--short", "HEAD")
    found = stored_release(server, version, "marketflow")
    assert found is not None and found.date_released is not None
    assert [c.key for c in stored_commits(server, version, "marketflow")] == history
