"""``pytest benchmarks ARGS`` and ``python -m flowers ARGS`` in a subprocess, as a user runs them: the
command lines the tests share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(*args) -> list[str]:
    """The command line: this repository's benchmarks from any folder, leaving no pytest cache behind."""
    return [sys.executable, "-m", "pytest", str(ROOT / "benchmarks"), "-p", "no:cacheprovider", *map(str, args)]


def run(*args, cwd=ROOT, env=None, timeout=600, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    """Run it and wait; stdout and stderr as text (``stderr=subprocess.STDOUT``: both in stdout)."""
    return subprocess.run(
        command(*args), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=timeout, check=False
    )


def flowers(*args, cwd=ROOT, env=None, timeout=300) -> subprocess.CompletedProcess:
    """``python -m flowers ARGS`` and wait; stdout and stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "flowers", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
