"""Every path of this repository that its docs, README, code, tests and workflows name exists: a
file moved or renamed takes its mentions along."""

from __future__ import annotations

import re
import subprocess

from tests.factory import ROOT

TOP = r"(?:benchmarks|scripts|tests|docs|flowers|\.github|\.ci)"  # the folders whose files are named
NAMED = re.compile(rf"(?<![\w/.-])({TOP}/[\w/.-]*\w\.(?:py|md|json|yml|j2|js|png))")
# Named before they exist: the baselines a first night is adopted as, and the placeholder of a script's name
NOT_YET = {"benchmarks/baselines/lite-cpu.json", "benchmarks/baselines/paper-gpu.json", "scripts/NAME.py"}
TEXT = (".py", ".md", ".yml", ".toml", ".ini", ".js")


def test_every_named_path_exists():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    missing = [
        f"{name}: {path}"
        for name in tracked
        if name.endswith(TEXT) or name.startswith(".ci/")
        for path in NAMED.findall((ROOT / name).read_text(errors="replace"))
        if path not in NOT_YET and not (ROOT / path).exists()
    ]
    assert not missing, "named but missing:\n" + "\n".join(missing)
