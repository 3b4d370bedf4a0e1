"""Live progress: tqdm bars on a terminal only; lines either way; the benchmarks' bars without -s."""

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowers.progress import Progress

ROOT = Path(__file__).resolve().parent.parent


def progress_into(buffer: io.StringIO, isatty: bool) -> tuple[Progress, list[str]]:
    lines = []
    return Progress(lines.append, lambda: contextlib.redirect_stdout(buffer), isatty=isatty), lines


def test_bar_on_a_terminal_shows_count_rate_and_eta_and_erases_itself():
    buffer = io.StringIO()
    progress, _ = progress_into(buffer, isatty=True)
    bar = progress.bar(4, "basic_cnn epoch 1/2")
    for _ in range(4):
        bar.update()
    bar.close()
    text = buffer.getvalue()
    assert "basic_cnn epoch 1/2" in text and "0/4" in text and "?batch/s" in text  # count, rate, ETA slot
    assert text.rstrip(" ").endswith("\r")  # erased: the epoch's one line follows in its place


def test_no_bar_when_not_a_terminal_but_lines_still_show():
    buffer = io.StringIO()
    progress, lines = progress_into(buffer, isatty=False)
    bar = progress.bar(100, "feature cache", unit="image")
    for _ in range(100):
        bar.update()
    bar.close()
    progress("basic_cnn  epoch 1/2  loss 1.0")
    assert buffer.getvalue() == "" and lines == ["basic_cnn  epoch 1/2  loss 1.0"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/script").exists(), reason="needs util-linux script for a terminal")
def test_benchmark_in_a_terminal_shows_bars_without_dash_s_and_piped_one_line_per_epoch(tmp_path):
    args = [sys.executable, "-m", "pytest", "benchmarks", "-p", "no:cacheprovider", "--profile", "smoke",
            "-k", "vgg16_transfer", "--epochs", "2"]
    env = {**os.environ, "COLUMNS": "120"}
    typescript = tmp_path / "typescript"
    subprocess.run(["script", "-qec", " ".join(args), str(typescript)], cwd=ROOT, env=env, timeout=600,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    shown = typescript.read_text(errors="replace")
    assert "vgg16_transfer feature cache:" in shown and "image/s" in shown
    assert "vgg16_transfer epoch 1/2:" in shown and "vgg16_transfer  epoch 2/2  " in shown
    piped = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0, piped.stdout[-2000:]
    assert "\r" not in piped.stdout and "feature cache:" not in piped.stdout
    assert [line.split("  ")[1:3] for line in piped.stdout.splitlines() if "  epoch " in line] == [
        ["vgg16_transfer", "epoch 1/2"], ["vgg16_transfer", "epoch 2/2"]]
