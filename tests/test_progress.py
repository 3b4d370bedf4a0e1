"""Live progress: tqdm bars on a terminal only; lines either way; the benchmarks' bars without -s."""

import contextlib
import io
import os
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowers.training.progress import Progress
from tests import suite

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


def run_in_terminal(args: list[str], columns: int, rows: int = 200, timeout: float = 600) -> tuple[str, list[str]]:
    """Run ``args`` in a pseudo-terminal ``columns`` wide; (everything it wrote, the final screen
    as logical lines: a row filled to the last column continues on the next, as the terminal wrapped it)."""
    import fcntl  # POSIX only, as are pseudo-terminals
    import pty
    import termios

    pyte = pytest.importorskip("pyte")  # a terminal emulator: what a user would see
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**env, "TERM": "xterm", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    os.close(slave)
    screen = pyte.Screen(columns, rows)
    stream, written, deadline = pyte.ByteStream(screen), bytearray(), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:  # the terminal closed: the process ended
                    break
                if not chunk:
                    break
                written += chunk
                stream.feed(chunk)
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=5) == 0, "\n".join(screen.display)
    finally:
        proc.kill()
        os.close(master)
    lines, wrapped = [], False
    for row in screen.display:
        lines[-1:] = [lines[-1] + row] if wrapped else [*lines[-1:], row]
        wrapped = len(row.rstrip()) == columns
    return written.decode(errors="replace"), [line.rstrip() for line in lines]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("columns", [80, 120])
def test_on_a_terminal_bars_show_and_leave_exactly_one_line_per_epoch(columns):
    shown, screen = run_in_terminal(
        suite.command("--profile", "smoke", "-k", "basic_cnn or mobilenet_v2_transfer", "--epochs", 2), columns
    )
    # Bars were drawn (without -s), each narrower than the terminal ...
    assert "basic_cnn epoch 1/2:" in shown and "mobilenet_v2_transfer feature cache:" in shown
    assert "mobilenet_v2_transfer epoch 2/2:" in shown and "batch/s]" in shown
    bars = [part for part in shown.replace("\n", "\r").split("\r") if "%|" in part]
    assert bars and max(len(bar) for bar in bars) < columns
    # ... and erased: the screen keeps pytest's lines and one line per epoch, in order, nothing else.
    first = next(i for i, line in enumerate(screen) if line.startswith("collected "))
    last = next(i for i, line in enumerate(screen) if line.endswith("[100%]"))
    run = [line for line in screen[first + 1 : last + 1] if line]
    epoch_lines = [(line.split("  ")[1:3]) for line in run if "  epoch " in line]
    assert epoch_lines == [[name, f"epoch {k}/2"] for name in ("basic_cnn", "mobilenet_v2_transfer") for k in (1, 2)], (
        run
    )
    assert all(
        re.fullmatch(r"  \S+  epoch \d/2  (\S+ \d\.\d{4}  ){4}\d+\.\ds", line) for line in run if "  epoch " in line
    ), run
    others = [line for line in run if "  epoch " not in line]
    assert others[:3] == ["benchmarks/test_variants.py", ".", "benchmarks/test_variants.py"], run
    assert len(others) == 4 and re.fullmatch(r"\. +\[100%\]", others[3]), run


@pytest.mark.slow
def test_piped_output_has_one_line_per_epoch_and_no_bars():
    piped = suite.run("--profile", "smoke", "-k", "vgg16_transfer", "--epochs", 2)
    assert piped.returncode == 0, piped.stdout[-2000:]
    assert "\r" not in piped.stdout and "feature cache:" not in piped.stdout
    assert [line.split("  ")[1:3] for line in piped.stdout.splitlines() if "  epoch " in line] == [
        ["vgg16_transfer", "epoch 1/2"],
        ["vgg16_transfer", "epoch 2/2"],
    ]
