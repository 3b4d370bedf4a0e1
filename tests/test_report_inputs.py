"""Tests of ``flowers report`` on what it must not trust: values from JSON as text in HTML and
Markdown, unusable input (one line, exit 2), storage folders with bad files, two reports written into
one folder at once, and fifty runs.  No test here imports TensorFlow or measures time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from flowers import cli
from flowers import report as rp
from flowers.display import md_escape
from flowers.errors import ResultsError
from flowers.schema import SCHEMA
from tests.factory import FIXTURES, ROOT, fixture, fixture_run, save
from tests.reports import HISTORY, report_md, section, table_rows

# ------------------------------------------------------------------------------------------------
# values from JSON are data
# ------------------------------------------------------------------------------------------------

HOSTILE = "<script>alert('x')</script>"


def hostile_run() -> dict:
    data = fixture_run(
        "2025-01-01T00:00:00+00:00", variants=["basic_cnn", HOSTILE, "a|b *c* [l](http://x) _u_ $\\alpha$"]
    )
    info = data["benchmarks"][0]["extra_info"]
    info["config"]["optimizer"] = '<img src=x onerror="alert(1)">'
    info["config"][HOSTILE] = HOSTILE
    info["dataset"] = dict(info["dataset"], name="<b>bold</b>", hash="</td></tr><script>x()</script>")
    data["benchmarks"][1]["extra_info"].update(status="failed", error="</td><script>alert(2)</script>\nsecond line")
    data["machine_info"]["flowers"]["device"] = "<iframe src=//evil>"
    data["commit_info"]["branch"] = "<style>body{display:none}</style>"
    return data


def test_hostile_json_is_text_in_html_and_markdown(tmp_path):
    path = save(tmp_path / "hostile.json", hostile_run())
    out = tmp_path / "out"
    assert cli.main(["report", str(path), "-o", str(out), "-q"]) == 0
    html = (out / "report.html").read_text()
    for bad in ("<script", "<iframe", "<b>bold", 'onerror="', "</td><script"):
        assert bad not in html, bad
    assert html.count("<img") == html.count('<img src="data:image/png;base64,')  # only our graphs
    assert html.count("<style>") == 1  # ours
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    md = (out / "report.md").read_text()
    assert not re.search(r"(?<!\\)<(/?script|img|iframe|b>|style)", md)
    assert r"\<script\>alert('x')\</script\>" in md
    # A "|" in a name does not add cells: every comparison row has as many cells as the header.
    header = next(line for line in md.splitlines() if line.startswith("| Model |"))
    for line in md.split("## Learning curves")[0].splitlines():
        if line.startswith("| ") and "---" not in line:
            assert len(re.split(r"(?<!\\)\|", line)) == len(re.split(r"(?<!\\)\|", header)), line
    assert r"a\|b \*c\* \[l\](http://x) \_u\_ \$\\alpha\$" in md


def test_md_escape():
    assert md_escape("basic_cnn") == "basic_cnn"
    assert md_escape("_x_ a*b `c` <d> [e] |f| &g; ~h~ $m$") == r"\_x\_ a\*b \`c\` \<d\> \[e\] \|f\| \&g; \~h\~ \$m\$"
    assert md_escape("two\nlines") == "two lines"


# ------------------------------------------------------------------------------------------------
# bad input: one line, exit 2
# ------------------------------------------------------------------------------------------------

BAD = {
    "missing": None,
    "empty": "",
    "truncated": '{"machine_info": {}, "benchmarks": [{"name": "x", "extra',
    "not json": "machine_info: yes\n",
    "not pytest-benchmark": '{"results": [1, 2, 3]}',
    "no extra_info": '{"machine_info": {}, "benchmarks": [{"name": "test_x", "stats": {}}]}',
    "no flowers keys": '{"machine_info": {}, "benchmarks": '
    '[{"name": "t", "extra_info": {"variant": "basic_cnn", "status": "ok"}}]}',
    "no cases": '{"machine_info": {}, "benchmarks": []}',
}


@pytest.mark.parametrize("case", list(BAD))
def test_unusable_input_exits_2_with_one_line(case, tmp_path, capsys):
    path = tmp_path / "bad.json"
    if BAD[case] is not None:
        path.write_text(BAD[case])
    out = tmp_path / "out"
    assert cli.main(["report", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("flowers report: error: ") and "bad.json" in err
    assert not out.exists()  # nothing written


def test_empty_storage_folder_exits_2(tmp_path, capsys):
    (tmp_path / ".benchmarks").mkdir()
    assert cli.main(["report", str(tmp_path / ".benchmarks"), "-o", str(tmp_path / "o")]) == 2
    assert "holds no result files" in capsys.readouterr().err


def test_unreadable_file_in_a_storage_folder_is_skipped_with_a_warning(tmp_path, capsys):
    storage = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    for i, src in enumerate(HISTORY[:2], 1):
        save(storage / f"000{i}_run.json", json.loads(src.read_text()))
    bad = storage / "0003_run.json"
    bad.write_text(HISTORY[2].read_text()[:300])  # truncated, as by a killed run
    md = report_md(tmp_path, tmp_path / ".benchmarks")
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert err.startswith(f"flowers report: warning: skipped {bad}: is not valid JSON"), err
    assert len(table_rows(md, "#")) == 2 and "0003_run.json" not in md


def test_storage_folder_of_unreadable_files_names_them_and_exits_2(tmp_path, capsys):
    storage = tmp_path / ".benchmarks"
    save(storage / "0001_run.json", {"machine_info": {}, "benchmarks": []})
    assert cli.main(["report", str(storage), "-o", str(tmp_path / "o")]) == 2
    *warned, error = capsys.readouterr().err.strip().splitlines()
    assert warned == [
        f"flowers report: warning: skipped {storage / '0001_run.json'}: holds no benchmark cases "
        "(did every case fail to start?); make one with: pytest benchmarks --benchmark-json FILE"
    ]
    assert error.startswith("flowers report: error: ") and "no readable result files" in error
    assert not (tmp_path / "o").exists()


def test_unreadable_file_named_beside_good_ones_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(HISTORY[2].read_text()[:300])
    assert cli.main(["report", str(HISTORY[0]), str(bad), "-o", str(tmp_path / "o")]) == 2
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert err.startswith(f"flowers report: error: {bad}: is not valid JSON"), err
    assert not (tmp_path / "o").exists()


def test_results_of_a_newer_schema_are_refused_in_one_line(tmp_path, capsys):
    data = fixture("one_run.json")
    data["flowers"]["schema"] = SCHEMA + 1
    path = save(tmp_path / "future.json", data)
    assert cli.main(["report", str(path), "-o", str(tmp_path / "o")]) == 2
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert err.startswith(f"flowers report: error: {path}: results schema {SCHEMA + 1} is newer"), err
    assert "upgrade flowers-bench" in err and not (tmp_path / "o").exists()


def test_build_without_runs_raises():
    with pytest.raises(ResultsError):
        rp.build([])


# ------------------------------------------------------------------------------------------------
# concurrency and scale
# ------------------------------------------------------------------------------------------------


def test_two_reports_into_one_folder_at_once_stay_consistent(tmp_path):
    out = tmp_path / "shared"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    inputs = [[str(FIXTURES / "one_run.json")], [str(p) for p in HISTORY]]
    for _ in range(2):
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "flowers", "report", *args, "-o", str(out), "-q"], env=env, cwd=ROOT
            )
            for args in inputs
        ]
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
        md, html = (out / "report.md").read_text(), (out / "report.html").read_text()
        assert html.rstrip().endswith("</html>")
        sources = re.search(r"from \d+ runs?: (.*)\.", md).group(1)
        assert sources in html  # both pages come from the same process
        linked = set(re.findall(r"fig-[0-9a-f]{16}\.png", md))
        assert linked and all((out / name).exists() for name in linked)
        assert {p.name for p in out.glob("fig-*.png")} == linked
        assert not list(out.glob(".*.tmp"))


def test_fifty_runs_of_five_variants_render(tmp_path):
    """Scale check (the measured time is in the PR notes, not asserted: no timed tests)."""
    paths = []
    for i in range(50):
        data = fixture_run(f"2025-01-01T00:{i:02d}:00+00:00", epochs=3 + (i // 10), seed_base=i, commit=f"{i:040x}")
        paths.append(save(tmp_path / "runs" / f"{i:04d}.json", data))
    md = report_md(tmp_path, tmp_path / "runs")
    assert len(table_rows(md, "#")) == 50
    assert section(md, "History").count("**epochs** ") == 4  # 3 -> 4 -> ... -> 7, every 10 runs
    comparison = section(md, "Comparison")  # the first run and the newest five
    assert "44 older runs of this profile are in the history only" in comparison
    assert [line.split("**")[1] for line in comparison.splitlines() if line.startswith("- **#")] == [
        "#1",
        "#46",
        "#47",
        "#48",
        "#49",
        "#50",
    ]


# ------------------------------------------------------------------------------------------------
# a real browser
# ------------------------------------------------------------------------------------------------
