"""The workflow files and tox.ini as the workflow tests read them (tests/test_workflows.py,
tests/test_verdict.py): YAML loaded, tox envs and their commands with substitutions resolved."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI, NIGHTLY = WORKFLOWS / "ci.yml", WORKFLOWS / "nightly.yml"
CHECK_ENVS = ("check", "nightly-lite", "nightly-gpu", "nightly-gpu-merge")  # the tox envs that run flowers check


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name}: not a YAML mapping"
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def tox_ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini")
    return parser


def tox_envs() -> set[str]:
    return {s.split(":", 1)[1] for s in tox_ini().sections() if s.startswith("testenv:")}


def tox_commands(env: str) -> list[str]:
    """The env's commands with tox substitutions resolved to their defaults."""
    raw = tox_ini().get(f"testenv:{env}", "commands")
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    lines = [re.sub(r"\{env:[A-Za-z_][A-Za-z0-9_]*:([^}]*)\}", r"\1", line) for line in lines]
    return [line.replace("{posargs}", "").strip() for line in lines]


def commands(script: str) -> list[str]:
    """Command lines of a ``run:`` script (continuations joined, comments and blanks dropped)."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job["steps"]:
            yield job_name, step
