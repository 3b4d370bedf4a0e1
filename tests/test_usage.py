"""What a new user meets first: help texts, errors on unwritable outputs, what a run leaves behind."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowers import cli
from flowers.training import profiles
from flowers.training.pytest_plugin.options import OPTIONS
from tests import suite

ROOT = Path(__file__).resolve().parent.parent
ONE_RUN = ROOT / "tests" / "fixtures" / "report" / "one_run.json"
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def benchmarks(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return suite.run(*args, cwd=cwd, env=ENV, timeout=300)


def test_pytest_help_describes_each_profile_from_its_own_settings():
    helped = benchmarks("--help")
    assert helped.returncode == 0, helped.stderr
    text = " ".join(helped.stdout.split())  # argparse wraps lines
    for name in profiles.PROFILES:
        assert profiles.describe(name) in text
    assert (
        "smoke (synthetic, 32 px, random-calibrated weights, 8 epochs, batch 32, XLA off; "
        "resnet50v2_finetune: XLA auto; resnet50v2_finetune_aug: 3 epochs, XLA auto)" in text
    )
    epochs = "paper 10, smoke 8 (resnet50v2_finetune_aug 3), lite 10 (resnet50v2_finetune 2, resnet50v2_finetune_aug 1)"
    assert f"--epochs=N training epochs (default: the profile's: {epochs})" in text


def test_pytest_help_shows_each_option_once_with_its_default():
    helped = benchmarks("--help")
    assert helped.returncode == 0, helped.stderr
    section = helped.stdout.split("\nflowers-bench:\n", 1)[1].split("\n\n", 1)[0]
    entries = re.split(r"^  (?=--)", section, flags=re.MULTILINE)[1:]  # one per flag, as argparse wraps it
    shown = {entry.split()[0].split("=")[0]: "".join(entry.split()) for entry in entries}  # wrapped at hyphens too
    flags = [flag for option in OPTIONS.values() for flag in (option.flag, *(option.negative or ())[:1])]
    assert list(shown) == flags and len(entries) == len(flags)
    for option in OPTIONS.values():
        assert shown[option.flag].endswith("".join(f"(default: {option.shown})".split())), option.flag


def test_reading_the_profiles_imports_no_tensorflow():
    code = "import sys, flowers.training.profiles as p; p.describe('paper'); print('tensorflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("command", [[], ["report"], ["check"], ["merge"], ["store"], ["trends"]])
def test_flowers_help_is_plain_text(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([*command, "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "flowers" in shown and "``" not in shown and ":mod:" not in shown and ":func:" not in shown


@pytest.mark.parametrize(
    "command",
    [
        ["report", ONE_RUN, "-q", "-o", "{blocked}"],
        ["merge", ONE_RUN, "-o", "{blocked}/out.json"],
        ["check", "{blocked}/base.json", ONE_RUN, "--update-baseline", "--force"],
    ],
)
def test_an_output_that_cannot_be_written_exits_2_with_one_line(command, tmp_path, capsys):
    blocked = tmp_path / "a-file"  # a path under a file: no folder can be made there
    blocked.write_text("x")
    argv = [str(arg).replace("{blocked}", str(blocked / "x")) for arg in command]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flowers {command[0]}: error: ") and err.count("\n") == 1, err
    assert str(blocked) in err


@pytest.mark.slow
def test_a_pytest_run_leaves_no_empty_benchmark_storage_folder(tmp_path):
    """pytest-benchmark makes .benchmarks/ at the start of every session; unused, it is removed
    again, and one that was there before the session is kept."""
    done = benchmarks("--collect-only", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (tmp_path / ".benchmarks").exists()
    (tmp_path / ".benchmarks").mkdir()
    assert benchmarks("--collect-only", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".benchmarks").is_dir()


@pytest.mark.skipif(not shutil.which("git") or not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_the_readmes_venv_and_toxs_redirect_file_are_ignored(tmp_path):
    for name in (".venv", ".venv/bin/python", ".benchmarks/x.json"):
        done = subprocess.run(["git", "check-ignore", "-q", "--no-index", name], cwd=ROOT, check=False)
        assert done.returncode == 0, f"{name} is not git-ignored"
