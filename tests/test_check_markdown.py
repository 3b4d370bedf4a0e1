"""``flowers check --markdown FILE`` (the verdict for a job summary or a pull-request comment) and
``--no-baseline-ok`` (the first night of a new baseline)."""

from __future__ import annotations

from pathlib import Path

from flowers import check, cli
from flowers.check import markdown
from flowers.results import load_run
from tests.factory import baseline, night, save


def runs(tmp_path: Path, **accuracy: float) -> tuple[Path, Path]:
    return save(tmp_path / "base.json", baseline()), save(tmp_path / "out.json", night(2, **accuracy))


def test_markdown_puts_the_summary_and_the_failing_rows_first(tmp_path):
    base, cur = runs(tmp_path, resnet50v2_finetune=0.2)
    comp = check.compare(load_run(base), load_run(cur), metrics=("accuracy",))
    text = markdown.render(comp)
    lines = text.splitlines()
    assert lines[0] == "### flowers check: FAIL"
    assert lines[2] == f"**{markdown.md_escape(check.table.summary(comp))}**"
    failing = [line for line in lines if "**REGRESSED**" in line]
    assert len(failing) == 2  # once in the failing table, once among all rows
    assert failing[0].startswith("| resnet50v2_finetune | test_accuracy |")
    assert "<details><summary>All 5 rows</summary>" in text
    # every table row has the header's 8 cells
    rows = [line for line in lines if line.startswith("| ")]
    assert all(line.count(" | ") == 7 for line in rows)


def test_markdown_escapes_what_a_result_file_says(tmp_path):
    base, cur = runs(tmp_path)
    comp = check.compare(load_run(base), load_run(cur), metrics=("accuracy",))
    comp.rows[0].how = "a | b <script> *x*"
    text = markdown.render(comp)
    assert "a \\| b \\<script\\> \\*x\\*" in text and "<script>" not in text
    assert markdown.render(comp).splitlines()[0] == "### flowers check: PASS"


def test_markdown_file_is_written_and_the_job_summary_appended_to(tmp_path, monkeypatch, capsys):
    base, cur = runs(tmp_path, resnet50v2_finetune=0.2)
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    own = tmp_path / "check.md"
    own.write_text("an older verdict\n")
    code = cli.main(
        ["check", str(base), str(cur), "--metrics", "accuracy", "--markdown", str(own), "--markdown", str(summary)]
    )
    assert code == 1
    verdict = own.read_text()
    assert verdict.startswith("### flowers check: FAIL") and "an older verdict" not in verdict  # replaced
    assert summary.read_text() == "earlier step\n" + verdict  # appended: other steps' summaries stay
    assert capsys.readouterr().out.splitlines()[-1] in verdict  # the same summary line as the text table


def test_no_baseline_ok_says_how_to_adopt_the_run_and_exits_0(tmp_path, capsys):
    cur = save(tmp_path / "out.json", night(1))
    missing = tmp_path / "paper-gpu.json"
    md = tmp_path / "check.md"
    assert cli.main(["check", str(missing), str(cur), "--no-baseline-ok", "--markdown", str(md)]) == 0
    line = (
        f"no baseline {missing} yet: nothing to compare with; adopt this run with: "
        f"flowers check --update-baseline {missing} {cur}"
    )
    assert capsys.readouterr().out == line + "\n"
    assert md.read_text() == line + "\n"
    # the adoption it suggests works, and from then on the night is gated
    assert cli.main(["check", "--update-baseline", str(missing), str(cur)]) == 0
    worse = save(tmp_path / "worse.json", night(2, resnet50v2_finetune=0.2))
    assert cli.main(["check", str(missing), str(worse), "--no-baseline-ok", "--metrics", "accuracy"]) == 1


def test_no_baseline_ok_still_refuses_an_unreadable_run_and_is_off_by_default(tmp_path, capsys):
    bad = tmp_path / "out.json"
    bad.write_text('{"benchmarks": [')
    missing = tmp_path / "paper-gpu.json"
    assert cli.main(["check", str(missing), str(bad), "--no-baseline-ok"]) == 2
    assert cli.main(["check", str(missing), str(save(tmp_path / "ok.json", night(1)))]) == 2
    assert "no such baseline" in capsys.readouterr().err
