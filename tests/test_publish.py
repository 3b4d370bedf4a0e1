"""The nightly's publish job (.ci/publish-nightly, run by `tox -e publish`) against a real git
remote on disk: the runs land on the results branch (made on the first night), a push that lost a
race with another night is rebased and pushed again (neither night is lost), and the site holds
the trends and each series' report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factory import night, save

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "publish-nightly"
BRANCH = "benchmark-results"
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def clone(origin: Path, where: Path, day: int) -> Path:
    """A checkout of the project (as actions/checkout makes) with night ``day``'s run downloaded."""
    git(where.parent, "clone", "--quiet", str(origin), where.name)
    save(where / "nightly" / "nightly-smoke-cpu-report" / "out.json", night(day))
    return where


def publish(checkout: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "REPO_URL": "https://github.com/o/r"}
    return subprocess.run(
        ["bash", str(SCRIPT), "nightly"],
        cwd=checkout,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )


@pytest.fixture
def origin(tmp_path) -> Path:
    """A bare remote whose main branch holds one commit."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "--quiet", "-b", "main")
    (seed / "README.md").write_text("project\n")
    git(seed, "add", "README.md")
    git(seed, "commit", "--quiet", "-m", "start")
    git(tmp_path, "clone", "--quiet", "--bare", str(seed), "origin.git")
    return tmp_path / "origin.git"


def branch_files(origin: Path) -> list[str]:
    return git(origin, "ls-tree", "-r", "--name-only", BRANCH).split()


def test_first_nights_make_the_branch_and_the_site(origin, tmp_path):
    first = clone(origin, tmp_path / "a", 1)
    result = publish(first)
    assert result.returncode == 0, result.stdout + result.stderr
    assert branch_files(origin) == ["smoke-cpu/20260101T021700Z_0101010101.json"]
    assert git(origin, "ls-tree", "--name-only", "main").split() == ["README.md"]  # main untouched
    assert (first / "site" / "index.html").exists() and (first / "site" / "smoke-cpu" / "report.html").exists()
    assert not (first / "smoke-cpu").exists()  # the store is a worktree of its own, removed afterwards
    second = clone(origin, tmp_path / "b", 2)
    assert publish(second).returncode == 0
    assert len(branch_files(origin)) == 2
    assert "2 nights" in (second / "site" / "index.html").read_text()


def test_a_push_that_lost_a_race_is_rebased_and_neither_night_is_lost(origin, tmp_path):
    late, early = clone(origin, tmp_path / "late", 3), clone(origin, tmp_path / "early", 4)
    assert publish(clone(origin, tmp_path / "first", 2)).returncode == 0  # the branch exists
    # While `late` pushes, `early` publishes first: git runs the pre-push hook after reading the
    # remote's refs, so late's first push is rejected.
    hook = late / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\nrm -f \"$0\"\nunset $(env | sed -n 's/^\\(GIT_[A-Z_]*\\)=.*/\\1/p')\n"
        f"cd {early} && PYTHON={sys.executable} bash {SCRIPT} nightly >/dev/null 2>&1\n"
    )
    hook.chmod(0o755)
    result = publish(late)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "moved meanwhile; rebasing" in result.stdout
    assert [f.split("/")[1][:8] for f in branch_files(origin)] == ["20260102", "20260103", "20260104"]


def test_a_night_already_stored_is_refused(origin, tmp_path):
    assert publish(clone(origin, tmp_path / "a", 5)).returncode == 0
    again = publish(clone(origin, tmp_path / "b", 5))
    assert again.returncode != 0 and "already stored as" in again.stderr
    assert len(branch_files(origin)) == 1
