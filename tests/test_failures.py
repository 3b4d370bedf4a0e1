"""Failures, interruptions and bad input, end to end: real ``pytest benchmarks`` and ``python -m flowers``
processes, as a user or CI runs them.

* Ctrl-C / SIGTERM during training: the process stops, an existing ``--benchmark-json`` file is never
  left truncated (``flowers/training/pytest_plugin/signals.py``, loaded by ``benchmarks/conftest.py`` only),
  and a partial run is flagged ``"complete": false``.
* A variant whose loss becomes NaN fails alone; the others' results are saved; report and check show it.
* Bad image folders (a folder without class sub-folders, unreadable images) and bad options: a one-line error.
* Unusable and hostile JSON: ``test_failures_json.py``.

Covered elsewhere, not repeated here: each bad-data case in tests/test_data.py; a NaN loss in
tests/test_train.py; profiles mixed in one report history (a warning, rows kept apart:
tests/test_report.py::test_mixed_profiles_warn_and_are_not_mixed) and in check (exit 2:
tests/test_check_cli.py::test_profiles_must_match); two reports written into one folder at once
(tests/test_report_inputs.py::test_two_reports_into_one_folder_at_once_stay_consistent); HTML escaping
(tests/test_report_inputs.py::test_hostile_json_is_text_in_html_and_markdown).

Every run uses ``-k basic_cnn`` (plus one other variant where needed) and few epochs: under three
minutes in all on 2 busy CPU cores, most of it TensorFlow starting in each subprocess.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import suite

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_data

ROOT = Path(__file__).resolve().parent.parent
ONE_RUN = ROOT / "tests" / "fixtures" / "report" / "one_run.json"
OLD_BYTES = b'{"previous": "results", "kept": true}\n'
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1", COLUMNS="400")


def bench(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    """``pytest benchmarks ARGS`` in a subprocess from the repository root; stdout+stderr as text."""
    return suite.run(*args, env=env or ENV, timeout=timeout, stderr=subprocess.STDOUT)


def flowers(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return suite.flowers(*args, cwd=cwd, env=ENV, timeout=120)


def case_of(data: dict, variant: str) -> dict:
    (bench_,) = [b for b in data["benchmarks"] if b["extra_info"]["variant"] == variant]
    return bench_["extra_info"]


def summary_line(output: str, nodeid_part: str) -> str:
    """The short-summary line (FAILED/ERROR) of the case whose id contains ``nodeid_part``."""
    lines = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR ")) and nodeid_part in line]
    assert len(lines) == 1, output[-3000:]
    return lines[0]


# ------------------------------------------------------------------------------------------------
# Ctrl-C and SIGTERM
# ------------------------------------------------------------------------------------------------


def _restore_sigint():  # a child of a shell job may inherit SIGINT ignored; a user's Ctrl-C is not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("signame, during", [("SIGINT", "first case"), ("SIGTERM", "second case")])
def test_interrupt_never_truncates_the_json(tmp_path, signame, during):
    out = tmp_path / "out.json"
    out.write_bytes(OLD_BYTES)
    # Two seeds, so that SIGTERM can come after one case finished (that case is saved) and SIGINT
    # in the first case (nothing finished, so nothing is saved and the old file stays).  The
    # signal comes after epoch 1; epoch 2 takes about a second here.
    proc = subprocess.Popen(
        suite.command(
            "--profile", "smoke", "-k", "basic_cnn", "--seeds", "2", "--epochs", "5", "--benchmark-json", out
        ),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_restore_sigint,
    )
    try:
        lines, wanted = [], 1 if during == "first case" else 2
        for line in proc.stdout:
            lines.append(line)
            if "basic_cnn  epoch 1/5 " in line:
                wanted -= 1
                if not wanted:
                    break
        assert not wanted, "".join(lines)[-3000:]
        assert out.read_bytes() == OLD_BYTES  # not truncated when pytest started
        sent = time.monotonic()
        proc.send_signal(getattr(signal, signame))
        rest = proc.stdout.read()
        code = proc.wait(timeout=60)
        stopped = time.monotonic() - sent
    finally:
        proc.kill()
    output = "".join(lines) + rest
    print(f"{signame} during the {during}: the process ended {stopped:.1f} s after it")
    assert stopped < 15, f"took {stopped:.1f}s to stop"  # the rest of epoch 2, the save, pytest's ending
    assert code == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert "KeyboardInterrupt" in rest
    assert "epoch 3/5 " not in rest  # training did not go on (epoch 2 may have been under way)
    assert not list(tmp_path.glob(".out.json.*"))  # no temp file left behind
    data = out.read_bytes()
    if during == "first case":
        assert data == OLD_BYTES  # nothing finished: the old results are untouched, byte for byte
        return
    run = json.loads(data)  # a finished case: the file was replaced by complete, valid JSON ...
    assert run["flowers"]["complete"] is False  # ... flagged as a partial run
    assert [b["extra_info"]["seed"] for b in run["benchmarks"]] == [0]
    assert [(c["seed"], c["status"]) for c in run["flowers"]["cases"]] == [(0, "ok")]

    # check: a baseline variant absent from the partial run is missing, and the run is called interrupted
    base = copy.deepcopy(run)
    base["flowers"]["complete"] = True
    extra = copy.deepcopy(base["benchmarks"][0])
    extra["name"] = extra["extra_info"]["variant"] = "mobilenet_v2_transfer"
    base["benchmarks"].append(extra)
    (tmp_path / "base.json").write_text(json.dumps(base))
    checked = flowers("check", tmp_path / "base.json", out, "--metrics", "accuracy,loss")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "out.json is from an interrupted run" in checked.stdout
    assert re.search(r"mobilenet_v2_transfer .* missing .*absent from the current run", checked.stdout)
    assert "FAIL: 1 missing of 2 variants: mobilenet_v2_transfer" in checked.stdout
    # report: says so too
    report = flowers("report", out, "-o", tmp_path / "report", "-q")
    assert report.returncode == 0 and "was interrupted" in report.stderr
    assert "the run was interrupted" in (tmp_path / "report" / "report.md").read_text()


@pytest.mark.slow
def test_the_process_ends_within_seconds_of_the_summary_line():
    """Nothing holds the interpreter after the session: no thread or pool, and no full garbage
    collection over TensorFlow's objects (before gc.freeze in flowers/training/pytest_plugin/signals.py: 3.7 s here
    on 2 shared cores, 20 s on a busier machine)."""
    proc = subprocess.Popen(
        suite.command("--profile", "smoke", "-k", "basic_cnn", "--epochs", "1"),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines, summary = [], None
        for line in proc.stdout:  # to the end: the process closes its output when it exits
            lines.append(line)
            if re.fullmatch(r"=+ .* in [\d.]+s( \(.*\))? =+", line.strip()):
                summary = time.monotonic()
        code = proc.wait(timeout=60)
        lingered = time.monotonic() - summary if summary else None
    finally:
        proc.kill()
    assert code == 0 and summary, "".join(lines)[-3000:]
    print(f"the process ended {lingered:.2f} s after pytest's summary line")
    assert lingered < 3


OTHER_PROJECT_TEST = """
import os, time

def test_waits(benchmark):
    benchmark(sum, [1, 2, 3])
    print("waiting", os.getpid(), flush=True)
    time.sleep(60)
"""


def test_other_projects_pytest_runs_are_left_alone(tmp_path):
    """Installed beside another project, flowers-bench does nothing in that project's pytest session:
    no options or output of ours, SIGTERM kills it the default way, and pytest-benchmark's JSON is its own."""
    (tmp_path / "test_other.py").write_text(OTHER_PROJECT_TEST)
    out = tmp_path / "other.json"
    cmd = [sys.executable, "-m", "pytest", "test_other.py", "-s", "-p", "no:cacheprovider"]
    helped = subprocess.run([*cmd, "--help"], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and "--profile" not in helped.stdout and "flowers" not in helped.stdout.lower()
    proc = subprocess.Popen(
        [*cmd, "--benchmark-json", str(out)],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "waiting" in line:
                break
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
    output = "".join(lines) + rest
    assert code == -signal.SIGTERM, output  # the default action: killed at once, no pytest summary
    assert "flowers" not in output.lower() and "KeyboardInterrupt" not in output
    assert not out.exists()  # pytest-benchmark never got to save, and opened nothing at start-up


# ------------------------------------------------------------------------------------------------
# NaN loss: the variant fails, the others run
# ------------------------------------------------------------------------------------------------

NAN_PLUGIN = '''
"""Loaded with -p: basic_cnn gets a learning rate of 1e6 (the command line sets one for all)."""
import dataclasses


def pytest_configure(config):
    from flowers import get_variant, register

    register(dataclasses.replace(get_variant("basic_cnn"), learning_rate=1e6), override=True)
'''


@pytest.mark.slow
def test_nan_loss_fails_that_variant_and_the_others_run(tmp_path):
    (tmp_path / "huge_lr.py").write_text(NAN_PLUGIN)
    out = tmp_path / "out.json"
    env = dict(ENV, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    result = bench(
        "-p",
        "huge_lr",
        "--profile",
        "smoke",
        "--epochs",
        "2",
        "--benchmark-json",
        out,
        "-k",
        "basic_cnn or mobilenet_v2_transfer",
        env=env,
    )
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:]
    line = summary_line(result.stdout, "basic_cnn")
    assert re.search(r"basic_cnn: loss became (nan|inf) in epoch 1; lower the learning rate$", line), line
    run = json.loads(out.read_text())
    assert run["flowers"]["complete"] is True
    failed, ok = case_of(run, "basic_cnn"), case_of(run, "mobilenet_v2_transfer")
    assert failed["status"] == "failed" and failed["failed_epoch"] == 1 and "in epoch 1" in failed["error"]
    assert ok["status"] == "ok" and 0 <= ok["test_accuracy"] <= 1 and len(ok["history"]["loss"]) == 2
    statuses = {c["variant"]: c["status"] for c in run["flowers"]["cases"]}
    assert statuses == {"basic_cnn": "failed", "mobilenet_v2_transfer": "ok"}

    # report: the failed variant is a row marked failed, with the reason
    report = flowers("report", out, "-o", tmp_path / "report", "-q")
    assert report.returncode == 0, report.stderr
    md = (tmp_path / "report" / "report.md").read_text()
    (row,) = [line for line in md.splitlines() if line.startswith("| basic_cnn ")]
    assert "**FAILED**" in row and re.search(r"FAILED: loss became \w+ in epoch 1", row)
    # check against a baseline where basic_cnn was fine: missing (a failure), mobilenet compared
    base = json.loads(out.read_text())
    base["benchmarks"][[b["extra_info"]["variant"] for b in base["benchmarks"]].index("basic_cnn")]["extra_info"] = {
        **ok,
        "variant": "basic_cnn",
    }
    (tmp_path / "base.json").write_text(json.dumps(base))
    checked = flowers("check", tmp_path / "base.json", out, "--metrics", "accuracy,loss")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert re.search(r"basic_cnn .* missing .*failed: seed=0: loss became \w+ in epoch 1", checked.stdout)
    assert re.search(r"mobilenet_v2_transfer +test_accuracy .* ok ", checked.stdout)
    assert "FAIL: 1 missing of 2 variants: basic_cnn" in checked.stdout


# ------------------------------------------------------------------------------------------------
# Bad data folder and bad options
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "bad"
    return root, make_data.write_bad_folder(root)


@pytest.mark.slow
def test_bad_folder_is_trained_on_its_good_images(bad_folder, tmp_path):
    root, expected = bad_folder
    out = tmp_path / "out.json"
    result = bench("--profile", "smoke", "--data", root, "-k", "basic_cnn", "--benchmark-json", out)
    assert result.returncode == 0, result.stdout[-3000:]
    (warning,) = [line for line in result.stdout.splitlines() if "DataWarning" in line]
    assert "skipped 3 unreadable" in warning and all(name in warning for name in expected["skipped"])
    info = case_of(json.loads(out.read_text()), "basic_cnn")
    assert info["status"] == "ok"
    assert info["dataset"]["skipped"] == {"count": 3, "examples": expected["skipped"]}
    assert sum(info["dataset"]["splits"].values()) == expected["good"] + len(expected["kept"])


def test_strict_data_fails_with_one_line_naming_the_first_bad_file(bad_folder):
    root, expected = bad_folder
    result = bench("--profile", "smoke", "--data", root, "-k", "basic_cnn", "--strict-data")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:]
    line = summary_line(result.stdout, "basic_cnn")
    assert f"unreadable image: {root / expected['skipped'][0]} (" in line
    assert line.endswith("remove it or run without --strict-data")


# option -> (its arguments, its one-line error): each stops pytest when it starts (exit 4), before any case runs
USAGE_ERRORS = {
    "unknown profile": (["--profile", "nope"], "--profile nope: unknown profile; choose from paper, smoke, lite"),
    "epochs below 1": (["--epochs", "0"], "--epochs 0: must be at least 1"),
    "seeds below 1": (["--seeds", "0"], "--seeds 0: must be at least 1"),
    "batch size not a number": (["--batch-size", "x"], "--batch-size x: not a whole number"),
    "image size below a selected variant's": (
        ["--image-size", "16", "-k", "basic_cnn or vgg16"],
        "--image-size 16: vgg16_transfer needs at least 32 px; use --image-size 32 or leave it out with -k",
    ),
    "learning rate not positive": (["--learning-rate", "0"], "--learning-rate 0: must be a positive number, e.g. 1e-4"),
    "learning rate not a number": (["--learning-rate", "fast"], "--learning-rate fast: not a number"),
    "variants file that does not import": (
        ["--variants-from", "{broken}"],
        "--variants-from {broken}: SyntaxError: '(' was never closed (broken.py, line 1)",
    ),
    "unknown data name": (
        ["--data", "imagenet21k"],
        "unknown data 'imagenet21k': expected tf_flowers, synthetic or a folder",
    ),
    "unknown weights": (
        ["--weights", "pretrained"],
        "--weights pretrained: not imagenet, none, random-calibrated or an existing folder of weight files",
    ),
    "shard beyond the count": (["--shard", "3/2"], "--shard 3/2: K must be between 1 and N (here N = 2)"),
    "a switch and its opposite": (
        ["--jit-compile", "--no-jit-compile"],
        "--jit-compile and --no-jit-compile: give one of them",
    ),
}


@pytest.mark.parametrize("name", list(USAGE_ERRORS))
def test_a_bad_option_is_one_usage_error_before_anything_runs(name, tmp_path):
    args, message = USAGE_ERRORS[name]
    broken = tmp_path / "broken.py"
    broken.write_text("register(Variant(\n")
    args = [a.format(broken=broken) for a in args]
    out = tmp_path / "out.json"
    out.write_bytes(OLD_BYTES)
    result = bench(*([] if "--profile" in args else ["--profile", "smoke"]), *args, "--benchmark-json", out)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout[-3000:]
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert errors == [f"ERROR: {message.format(broken=broken)}"], result.stdout[-3000:]
    assert not re.search(r"passed|failed|PASSED|FAILED|[Ww]arning", result.stdout), result.stdout[-3000:]
    assert out.read_bytes() == OLD_BYTES  # nothing ran, nothing was saved


def test_weights_a_variant_cannot_use_fail_that_case_in_one_line(tmp_path):
    """What depends on the variant (the weight file of its backbone) fails that case, not the session."""
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out.json"
    result = bench(
        "--profile", "smoke", "--weights", tmp_path / "empty", "-k", "vgg16_transfer", "--benchmark-json", out
    )
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:]
    message = (
        f"--weights {tmp_path / 'empty'}: no vgg16 weights there; expected a file named vgg16_imagenet_notop.weights.h5"
    )
    assert message in summary_line(result.stdout, "vgg16_transfer")
    run = json.loads(out.read_text())
    info = case_of(run, "vgg16_transfer")
    assert info["status"] == "failed" and message in info["error"] and "\n" not in info["error"]
    assert [c.get("traceback") for c in run["flowers"]["cases"]] == [None]  # a user's mistake: one line only


BUGGY_VARIANT = """
from flowers import Variant, register


def broken_head(x, num_classes):
    return {}["no such key"]  # a bug, not a user's mistake


register(Variant("buggy", "a head with a bug", head=broken_head))
"""


def test_a_bug_keeps_its_traceback_in_the_terminal_and_the_record(tmp_path):
    """Only a flowers.errors.UserError is a one-line failure; any other exception is a bug."""
    (tmp_path / "buggy.py").write_text(BUGGY_VARIANT)
    out = tmp_path / "out.json"
    result = bench(
        "--profile", "smoke", "--variants-from", tmp_path / "buggy.py", "-k", "buggy", "--benchmark-json", out
    )
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:]
    assert "def broken_head(x, num_classes):" in result.stdout and "KeyError" in result.stdout  # the traceback
    (case,) = json.loads(out.read_text())["flowers"]["cases"]
    assert case["status"] == "failed" and case["error"] == "KeyError: 'no such key'"
    assert "broken_head" in case["traceback"] and case["traceback"].rstrip().endswith("KeyError")
