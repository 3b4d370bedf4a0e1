"""Where ``flowers check``'s verdict goes: check.md and the job summary, the pull-request comment
(the github-script step run by node with a stand-in for GitHub's API), the jobs' write permissions,
and the nightly's history and pages."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from flowers import cli
from tests.workflows import CHECK_ENVS, CI, NIGHTLY, ROOT, commands, load, tox_commands, tox_ini


def raw_check_command(env: str) -> list[str]:
    """The env's flowers check command as written in tox.ini (substitutions not resolved)."""
    raw = tox_ini().get(f"testenv:{env}", "commands")
    return shlex.split(next(line.strip() for line in raw.splitlines() if line.strip().startswith("flowers check")))


@pytest.mark.parametrize("env", CHECK_ENVS)
def test_every_check_env_writes_its_verdict_to_check_md_and_the_job_summary(env):
    argv = raw_check_command(env)
    markdown = [argv[i + 1] for i, a in enumerate(argv) if a == "--markdown"]
    assert markdown == ["check.md", "{env:GITHUB_STEP_SUMMARY:check.md}"]
    assert "GITHUB_STEP_SUMMARY" in tox_ini().get("testenv", "passenv").split(",")  # tox passes it through
    assert "check.md" in tox_commands(env)[0]  # a stale verdict is removed before the run
    # Only the GPU baseline may not exist yet (its first night passes and says how to adopt the run).
    assert ("--no-baseline-ok" in argv) == (env != "check")


def fake_github_run(script: str, verdict: Path, comments: list[dict]) -> str:
    """Run the github-script ``script`` under node with a stand-in for GitHub's API over ``comments``
    (edited in place); returns what the script returned."""
    harness = """
    const {createRequire} = require('module');
    const [script, file, comments] = [process.argv[1], process.argv[2], JSON.parse(process.argv[3])];
    const api = {
      listComments: async () => ({data: comments}),
      updateComment: async ({comment_id, body}) => { comments.find((c) => c.id === comment_id).body = body; },
      createComment: async ({body}) => { const c = {id: comments.length + 1, body, user: {type: 'Bot'}};
                                         comments.push(c); return {data: c}; },
    };
    const github = {rest: {issues: api}, paginate: async (f, args) => (await f(args)).data};
    const context = {repo: {owner: 'o', repo: 'r'}, issue: {number: 7}, serverUrl: 'https://github.com', runId: 42};
    process.env.VERDICT = file;
    const run = new (Object.getPrototypeOf(async function () {}).constructor)('github', 'context', 'require', script);
    run(github, context, createRequire(process.cwd() + '/')).then((out) => {
      console.log(JSON.stringify({out, comments}));
    });
    """
    result = subprocess.run(
        ["node", "-e", harness, script, str(verdict), json.dumps(comments)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    comments[:] = data["comments"]
    return data["out"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the github-script step")
def test_the_job_summary_and_the_pull_request_comment_receive_the_verdict(tmp_path, monkeypatch):
    from tests.factory import baseline, night, save

    # tox -e check's own command line, on a run where a variant regressed
    save(tmp_path / "benchmarks" / "baselines" / "smoke-cpu.json", baseline())
    save(tmp_path / "out.json", night(2, resnet50v2_finetune=0.2))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{env:GITHUB_STEP_SUMMARY:check.md}", str(summary)) for a in raw_check_command("check")]
    argv = [a.replace("{env:FLOWERS_CHECK_METRICS:accuracy,loss}", "accuracy,loss") for a in argv]
    assert cli.main(argv[1:]) == 1
    verdict = (tmp_path / "check.md").read_text()
    assert verdict.startswith("### flowers check: FAIL") and "resnet50v2_finetune" in verdict
    assert summary.read_text() == verdict

    # ci.yml: the smoke job uploads check.md; the comment job downloads it and hands it to the script
    wf = load(CI)
    upload = next(s for s in wf["jobs"]["smoke-check"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert "check.md" in upload["with"]["path"].split() and "if" in upload
    job = wf["jobs"]["pr-comment"]
    download = next(s for s in job["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["name"] == upload["with"]["name"]
    comment = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))
    assert comment["env"]["VERDICT"] == download["with"]["path"].rstrip("/") + "/check.md"

    # the script posts one comment, then edits it on the next push
    comments = [{"id": 1, "body": "a reviewer's comment", "user": {"type": "User"}}]
    assert fake_github_run(comment["with"]["script"], tmp_path / "check.md", comments) == "created comment 2"
    assert comments[1]["body"].startswith("<!-- flowers-check verdict -->\n" + verdict.strip())
    (tmp_path / "check.md").write_text("### flowers check: PASS\n")
    assert fake_github_run(comment["with"]["script"], tmp_path / "check.md", comments) == "updated comment 2"
    assert len(comments) == 2 and "### flowers check: PASS" in comments[1]["body"]
    assert comments[0]["body"] == "a reviewer's comment"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the github-script step")
def test_a_changed_fact_fails_ci_whatever_the_metrics_and_the_comment_says_how_to_accept_it(tmp_path, monkeypatch):
    from tests.factory import baseline, night, save

    save(tmp_path / "benchmarks" / "baselines" / "smoke-cpu.json", baseline())
    swapped = night(2)
    resnet = next(b for b in swapped["benchmarks"] if b["extra_info"]["variant"] == "resnet50v2_finetune")
    for bench in swapped["benchmarks"]:
        if bench["extra_info"]["variant"] == "vgg16_transfer":
            bench["extra_info"]["identity"]["preprocessing"] = resnet["extra_info"]["identity"]["preprocessing"]
    save(tmp_path / "out.json", swapped)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{env:GITHUB_STEP_SUMMARY:check.md}", "check.md") for a in raw_check_command("check")]
    argv = [a.replace("{env:FLOWERS_CHECK_METRICS:accuracy,loss}", "accuracy,loss") for a in argv]
    assert cli.main(argv[1:]) == 1  # the scores are the baseline's own: the facts fail it
    verdict = (tmp_path / "check.md").read_text()
    changed = "preprocessing keras.applications.vgg16:preprocess_input → keras.applications.resnet_v2:preprocess_input"
    assert f"| **CHANGED** | {changed}" in verdict
    accept = "pytest benchmarks --profile smoke --update-baseline benchmarks/baselines/smoke-cpu.json -k vgg16_transfer"
    assert f"`{accept}`" in verdict

    script = next(s for s in load(CI)["jobs"]["pr-comment"]["steps"] if "github-script" in s.get("uses", ""))
    comments: list[dict] = []
    fake_github_run(script["with"]["script"], tmp_path / "check.md", comments)
    assert changed in comments[0]["body"] and accept in comments[0]["body"]
    # a verdict too long for a comment is cut, and keeps the command
    long = tmp_path / "long.md"
    long.write_text(verdict.replace("<details>", "x" * 70000 + "\n<details>", 1))
    fake_github_run(script["with"]["script"], long, comments)
    assert "(cut; the whole verdict is in the job summary)" in comments[0]["body"] and accept in comments[0]["body"]


def test_the_pull_request_comment_says_when_there_is_no_verdict(tmp_path):
    script = next(s for s in load(CI)["jobs"]["pr-comment"]["steps"] if "github-script" in s.get("uses", ""))
    if shutil.which("node") is None:
        pytest.skip("needs node to run the github-script step")
    comments: list[dict] = []
    fake_github_run(script["with"]["script"], tmp_path / "missing.md", comments)
    assert "flowers check: no verdict" in comments[0]["body"]


def write_permissions(job: dict) -> set[str]:
    return {k for k, v in (job.get("permissions") or {}).items() if v == "write"}


def test_only_the_jobs_that_need_it_may_write():
    for path in (CI, NIGHTLY):
        assert load(path)["permissions"] == {"contents": "read"}, path.name
    ci, nightly = load(CI)["jobs"], load(NIGHTLY)["jobs"]
    assert {n: write_permissions(j) for n, j in ci.items() if write_permissions(j)} == {"pr-comment": {"pull-requests"}}
    assert ci["pr-comment"]["needs"] == "smoke-check" and "pull_request" in ci["pr-comment"]["if"]
    assert {n: write_permissions(j) for n, j in nightly.items() if write_permissions(j)} == {
        "publish": {"contents"},
        "pages": {"pages", "id-token"},
    }


def test_the_nightly_keeps_its_history_and_publishes_it():
    jobs = load(NIGHTLY)["jobs"]
    publish = jobs["publish"]
    assert set(publish["needs"]) == {"smoke-cpu", "lite-cpu", "paper-gpu-merge"} and "!cancelled()" in publish["if"]
    assert publish["concurrency"]["cancel-in-progress"] is False  # writers of the branch wait, never cancel
    download = next(s for s in publish["steps"] if "download-artifact" in s.get("uses", ""))
    uploads = [
        s["with"]["name"]
        for j in ("smoke-cpu", "lite-cpu", "paper-gpu-merge")
        for s in jobs[j]["steps"]
        if "upload-artifact" in s.get("uses", "")
    ]
    pattern = re.escape(download["with"]["pattern"]).replace(r"\*", ".*")
    assert all(re.fullmatch(pattern, name) for name in uploads)
    runs = [line for s in publish["steps"] if "run" in s for line in commands(s["run"])]
    assert "tox -e publish -- " + download["with"]["path"].rstrip("/") in runs
    assert tox_commands("publish") == ["bash .ci/publish-nightly {posargs:nightly}"]
    site = next(s for s in publish["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert site["with"]["path"].rstrip("/") == "site"  # publish-nightly's SITE default
    assert jobs["pages"]["needs"] == "publish" and jobs["pages"]["environment"]["name"] == "github-pages"
