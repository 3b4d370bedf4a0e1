"""Tests of ``flowers report``: golden files, escaping, failed/missing variants, bad input, a real browser.

Golden files: ``tests/golden/report_*.md`` hold the expected ``report.md`` for the hand-made fixtures in
``tests/fixtures/report/``.  Graph file names (content hashes, which depend on the matplotlib and
FreeType versions) and the package version are normalised before comparing.  After an intended change
of the report, regenerate them and review the diff:

    FLOWERS_UPDATE_GOLDEN=1 python -m pytest tests/test_report.py -k golden

The browser test needs Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) and
is skipped when it is not installed.  Set ``FLOWERS_KEEP_SCREENSHOTS=DIR`` to keep its screenshots.
No test here imports TensorFlow or measures time.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest

from flowers import __version__, cli
from flowers import report as rp
from flowers.display import md_escape
from flowers.errors import ResultsError
from flowers.registry import original
from flowers.results import load_run, load_runs
from flowers.schema import SCHEMA
from tests.factory import FIXTURES, ROOT, fixture, fixture_run, save
from tests.factory import VARIANTS as FACTORY_VARIANTS

GOLDEN = Path(__file__).resolve().parent / "golden"
HISTORY = [FIXTURES / f"history_{i}.json" for i in (1, 2, 3)]
UPDATE = os.environ.get("FLOWERS_UPDATE_GOLDEN") == "1"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
VARIANTS = [*FACTORY_VARIANTS, "mobilenet_v2_transfer"]


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    text = re.sub(r"fig-[0-9a-f]{16}\.png", "fig-HASH.png", text)
    return text.replace(f"flowers report {__version__}", "flowers report VERSION")


def report_md(tmp_path: Path, *paths: Path | str) -> str:
    out = tmp_path / "out"
    assert cli.main(["report", *map(str, paths), "-o", str(out), "-q"]) == 0
    return (out / "report.md").read_text()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    text = normalise(text)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"{path} missing; regenerate with FLOWERS_UPDATE_GOLDEN=1"
    expected = path.read_text()
    assert text == expected, f"report.md differs from {path}; if intended, regenerate with FLOWERS_UPDATE_GOLDEN=1"


def table_rows(md: str, first_word: str) -> list[list[str]]:
    """The cells of the Markdown table rows whose first cell's first word is ``first_word``
    (``"#"``: the history table's rows)."""
    rows = []
    for line in md.splitlines():
        if line.startswith("| ") and line.endswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            word = cells[0].split(" ")[0] if cells else ""
            if word == first_word or (first_word == "#" and re.fullmatch(r"#\d+", word)):
                rows.append(cells)
    return rows


# ------------------------------------------------------------------------------------------------
# golden files
# ------------------------------------------------------------------------------------------------


def test_golden_one_run(tmp_path):
    check_golden("report_one_run.md", report_md(tmp_path, FIXTURES / "one_run.json"))


def test_golden_history_of_three_runs(tmp_path):
    check_golden("report_history.md", report_md(tmp_path, *HISTORY))


def test_golden_three_seeds(tmp_path):
    check_golden("report_seeds.md", report_md(tmp_path, FIXTURES / "seeds.json"))


def test_golden_failed_and_missing(tmp_path):
    check_golden("report_failed.md", report_md(tmp_path, FIXTURES / "one_run.json", FIXTURES / "failed.json"))


# ------------------------------------------------------------------------------------------------
# content
# ------------------------------------------------------------------------------------------------


def test_one_run_writes_md_html_and_a_graph_per_variant(tmp_path):
    out = tmp_path / "r"
    assert cli.main(["report", str(FIXTURES / "one_run.json"), "-o", str(out), "-q"]) == 0
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    run = load_run(FIXTURES / "one_run.json")
    for case in run.cases:
        (row,) = table_rows(md, case.variant)
        assert f"{case.info['test_accuracy']:.4f}" in row
    # Every image the Markdown links exists beside it; one learning-curve graph per variant + overlay.
    linked = re.findall(r"\]\((fig-[0-9a-f]{16}\.png)\)", md)
    assert len(linked) == len(run.cases) + 1
    assert all((out / name).stat().st_size > 1000 for name in linked)
    assert sorted(p.name for p in out.glob("fig-*.png")) == sorted(set(linked))
    # The HTML is self-contained: graphs inlined, nothing fetched.
    assert "data:image/png;base64," in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert 'src="fig-' not in html and "<link" not in html
    # The original's numbers and the difference beside ours; VGG16 note; efficiency columns.
    (vgg,) = table_rows(md, "vgg16_transfer")
    assert vgg[1:7] == ["0.1204", "0.8474", "-0.7270", "0.9667", "0.4091", "+0.5576"]
    assert original("vgg16_transfer").note.text.split(";")[0].replace("[", "\\[").replace("]", "\\]") in md
    assert "| efficiency | peak memory | feature cache |" in md
    (basic,) = table_rows(md, "basic_cnn")
    assert "14.4% (9.2 / 64 GFLOP/s)" in basic and "1.1 GiB" in basic and "off" in basic


def test_efficiency_columns_only_when_recorded(tmp_path):
    md = report_md(tmp_path, *HISTORY)
    assert "efficiency" not in md.lower() and "feature cache" not in md


def test_time_breakdown_table_and_stacked_bar_when_recorded(tmp_path):
    data = fixture_run("2026-11-27T10:00:00", variants=VARIANTS[:2])
    parts = {
        "data_load": 1.5,
        "setup": 0.5,
        "feature_cache": 3.0,
        "first_epoch": 4.0,
        "later_epochs": 6.0,
        "evaluation": 0.5,
        "bookkeeping": 0.5,
    }
    for i, bench in enumerate(data["benchmarks"]):
        bench["extra_info"].update(
            breakdown=dict(parts), data_cached=i > 0, wall_seconds=16.2, steady_images_per_second=120.0 + i
        )
    out = tmp_path / "r"
    assert cli.main(["report", str(save(tmp_path / "b.json", data)), "-o", str(out), "-q"]) == 0
    md, html = (out / "report.md").read_text(), (out / "report.html").read_text()
    assert "## Where the time goes" in md and "Where the time goes</h2>" in html
    first, second = (row for row in table_rows(md, VARIANTS[0]) + table_rows(md, VARIANTS[1]) if len(row) == 11)
    assert first[1:] == ["1.5 s", "0.5 s", "3.0 s", "4.0 s", "6.0 s", "0.5 s", "0.5 s", "16.0 s", "16.2 s", "120.0"]
    assert second[1] == "cached" and second[-1] == "121.0"  # the second case found the data loaded
    graph = re.search(r"\]\((fig-[0-9a-f]{16}\.png)\)", md[md.index("## Where the time goes") :]).group(1)
    assert (out / graph).stat().st_size > 1000


def test_results_without_a_breakdown_have_no_time_section(tmp_path):
    md = report_md(tmp_path, FIXTURES / "one_run.json", *HISTORY)
    assert "Where the time goes" not in md


def test_history_shows_what_changed(tmp_path):
    runs = load_runs(HISTORY)
    first = rp.changes(runs[0], runs[1])
    assert [(c.kind, c.key, c.old, c.new, c.scope) for c in first] == [("config", "epochs", "2", "3", "")]
    second = rp.changes(runs[1], runs[2])
    assert [c.kind for c in second] == ["data", "commit"]
    assert "ab12cd34ef56" in second[0].old and "99ff88ee77dd" in second[0].new
    md = report_md(tmp_path, *HISTORY)
    (r1,), (r2,), (r3,) = (table_rows(md, f"#{i}") for i in (1, 2, 3))
    assert r1[3] == "first run"
    assert r2[3] == "**epochs** 2 → 3"
    assert r3[3].startswith("**data fingerprint**") and "**commit** 1a2b3c4d5e → f0e1d2c3b4" in r3[3]
    assert "epochs" not in r3[3] and "learning_rate" not in md.split("## History")[1].split("## Learning")[0]


def test_config_change_for_some_variants_names_them(tmp_path):
    a, b = fixture_run("2025-01-01T00:00:00+00:00"), fixture_run("2025-01-02T00:00:00+00:00")
    b["benchmarks"][1]["extra_info"]["config"]["learning_rate"] = 0.001
    b["benchmarks"][1]["extra_info"]["config"]["new_option"] = True
    ra, rb = load_run(save(tmp_path / "a.json", a)), load_run(save(tmp_path / "b.json", b))
    got = [(c.key, c.old, c.new, c.scope) for c in rp.changes(ra, rb)]
    assert got == [
        ("learning_rate", "0.0001", "0.001", "vgg16_transfer"),
        ("new_option", "(absent)", "true", "vgg16_transfer"),
    ]


def test_facts_recorded_in_only_one_run_are_named_not_compared(tmp_path):
    a, b = fixture_run("2025-01-01T00:00:00+00:00"), fixture_run("2025-01-02T00:00:00+00:00")
    del a["benchmarks"][0]["extra_info"]["identity"]
    ra, rb = load_run(save(tmp_path / "a.json", a)), load_run(save(tmp_path / "b.json", b))
    assert [(c.kind, c.key, c.new) for c in rp.changes(ra, rb)] == [
        ("model", "basic_cnn", "layers, head and preprocessing not recorded in the previous run")
    ]
    assert [c.new for c in rp.changes(rb, ra)] == ["layers, head and preprocessing not recorded in this run"]


def test_changed_package_versions_are_named_like_config_keys(tmp_path):
    a, b = fixture_run("2025-01-01T00:00:00+00:00"), fixture_run("2025-01-02T00:00:00+00:00")
    packages = {"keras": "3.14.0", "numpy": "2.3.0", "pytest": "9.0.3", "pytest-benchmark": "5.3.0"}
    a["machine_info"].setdefault("flowers", {})["packages"] = packages
    b["machine_info"].setdefault("flowers", {})["packages"] = {
        **packages,
        "keras": "3.15.1",
        "pytest": "9.2.0",
        "tensorflow-cpu": "2.21.0",
    }
    ra, rb = load_run(save(tmp_path / "a.json", a)), load_run(save(tmp_path / "b.json", b))
    got = [(c.kind, c.key, c.old, c.new) for c in rp.changes(ra, rb)]
    assert got == [("environment", "keras", "3.14.0", "3.15.1"), ("environment", "pytest", "9.0.3", "9.2.0")]
    history = report_md(tmp_path, tmp_path / "a.json", tmp_path / "b.json").split("## History")[1]
    assert "**keras** 3.14.0 → 3.15.1" in history and "**pytest** 9.0.3 → 9.2.0" in history


def test_three_seeds_give_mean_and_student_t_interval(tmp_path):
    from scipy import stats

    accs = [0.7333, 0.7667, 0.8]
    mean = sum(accs) / 3
    sd = math.sqrt(sum((a - mean) ** 2 for a in accs) / 2)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    md = report_md(tmp_path, FIXTURES / "seeds.json")
    (row,) = table_rows(md, "basic_cnn")
    assert row[4] == f"{mean:.4f} ± {half:.4f}"
    assert row[7] == "3"  # n
    (vgg,) = table_rows(md, "vgg16_transfer")
    assert vgg[4] == "0.9667" and vgg[7] == "1"
    assert "mean of 3 seeds" in md


def section(md: str, heading: str) -> str:
    """The text of the section ``## heading`` (up to the next section of its level)."""
    return md.split(f"\n## {heading}\n")[1].split("\n## ")[0]


def test_failed_and_missing_variants_are_shown_not_dropped(tmp_path):
    md = report_md(tmp_path, FIXTURES / "one_run.json", FIXTURES / "failed.json")
    results = section(md, "Results")
    for variant in VARIANTS:  # a row for each run compared
        assert [row[0].split()[1] for row in table_rows(results, variant)] == ["#1", "#2"], f"{variant} dropped"

    def latest(variant):
        (row,) = [row for row in table_rows(results, variant) if row[0].split()[1] == "#2"]
        return row

    nan = latest("resnet50v2_finetune")
    assert "**FAILED**" in nan[0] and "loss became NaN at epoch 2" in nan[7]
    oom = latest("resnet50v2_finetune_aug")
    assert "**FAILED**" in oom[0] and "out of memory" in oom[7]  # only in the run-level flowers.cases
    gone = latest("mobilenet_v2_transfer")
    assert "**MISSING**" in gone[0] and "present in #1" in gone[7]
    # the comparison view: the failed and missing variants of #2 named, nothing compared for them
    (acc,) = table_rows(section(md, "Comparison"), "mobilenet_v2_transfer")[:1]
    assert acc[2] == "*missing*" and acc[3] == ""
    assert "was interrupted" in md
    (history,) = table_rows(md, "#2")
    assert history[4:] == [
        "0.7333 [0.559, 0.878] · 0.6512 · 3.1 s",  # accuracy [95% interval of the mean] · loss · train time
        "*missing*",
        "**FAILED**",
        "**FAILED**",
        "*missing*",
    ]
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count('<tr class="missing') == 2 and html.count('<tr class="failed') == 2


def test_skipped_and_partly_failed_seeds(tmp_path):
    data = fixture_run("2025-01-01T00:00:00+00:00", variants=["basic_cnn", "vgg16_transfer"])
    second = copy.deepcopy(data["benchmarks"][0])
    second["name"] = "test_variant[basic_cnn-seed=1]"
    second["extra_info"].update(seed=1, status="failed", error="loss became NaN at epoch 1")
    data["benchmarks"].append(second)
    data["flowers"]["cases"].append(
        {
            "name": "test_variant[mobilenet_v2_transfer-seed=0]",
            "variant": "mobilenet_v2_transfer",
            "seed": 0,
            "status": "skipped",
            "error": "needs ImageNet weights",
        }
    )
    md = report_md(tmp_path, save(tmp_path / "run.json", data))
    (basic,) = table_rows(md, "basic_cnn")
    assert "**PARTIAL**" in basic[0] and basic[7] == "1" and "FAILED (seed 1): loss became NaN" in basic[8]
    (mobile,) = table_rows(md, "mobilenet_v2_transfer")
    assert "**SKIPPED**" in mobile[0] and "SKIPPED: needs ImageNet weights" in mobile[8]


def test_mixed_profiles_warn_and_are_not_mixed(tmp_path, capsys):
    a = save(tmp_path / "a.json", fixture_run("2025-01-01T00:00:00+00:00", profile="smoke"))
    b = save(tmp_path / "b.json", fixture_run("2025-01-02T00:00:00+00:00", profile="paper"))
    c = save(tmp_path / "c.json", fixture_run("2025-01-03T00:00:00+00:00", profile="smoke", epochs=4))
    assert cli.main(["report", str(a), str(b), str(c), "-o", str(tmp_path / "out"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "mix profiles" in err and len(err.strip().splitlines()) == 1
    md = (tmp_path / "out" / "report.md").read_text()
    assert "> **Warning:** these results mix profiles (smoke: 2 runs, paper: 1 run)" in md
    assert "## Profile smoke" in md and "## Profile paper" in md
    smoke, paper = md.split("## Profile paper")
    assert "### History" in smoke and "### History" not in paper  # paper's single run is not in smoke's history
    (changed,) = table_rows(smoke, "#2")
    assert changed[3] == "**epochs** 3 → 4"


def test_storage_folder_and_duplicate_runs(tmp_path, capsys):
    storage = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    for i, src in enumerate(HISTORY, 1):
        save(storage / f"000{i}_run.json", json.loads(src.read_text()))
    md = report_md(tmp_path, tmp_path / ".benchmarks", HISTORY[2])  # the latest also given as out.json
    assert "counted once" in capsys.readouterr().err
    assert len(table_rows(md, "#")) == 3


def test_default_inputs_out_json_then_benchmarks(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", "-o", "r"]) == 2
    assert "neither out.json nor .benchmarks" in capsys.readouterr().err
    save(tmp_path / ".benchmarks" / "m" / "0001.json", json.loads(HISTORY[0].read_text()))
    assert cli.main(["report", "-o", "r", "-q"]) == 0
    assert "from 1 run: 0001.json" in (tmp_path / "r" / "report.md").read_text()
    shutil.copy(FIXTURES / "seeds.json", tmp_path / "out.json")
    assert cli.main(["report", "-o", "r", "-q"]) == 0
    assert "from 1 run: out.json" in (tmp_path / "r" / "report.md").read_text()


def test_graphs_are_named_by_content_and_stale_ones_removed(tmp_path):
    out = tmp_path / "r"
    assert cli.main(["report", str(FIXTURES / "one_run.json"), "-o", str(out), "-q"]) == 0
    first = sorted(p.name for p in out.glob("fig-*.png"))
    assert cli.main(["report", str(FIXTURES / "one_run.json"), "-o", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.glob("fig-*.png")) == first  # same content, same names
    (out / "notes.png").write_bytes(b"mine")
    assert cli.main(["report", str(FIXTURES / "seeds.json"), "-o", str(out), "-q"]) == 0
    now = {p.name for p in out.glob("fig-*.png")}
    assert now == set(re.findall(r"fig-[0-9a-f]{16}\.png", (out / "report.md").read_text()))
    assert set(first) - now  # the first report's graphs that the new one does not show are gone
    assert (out / "notes.png").exists()  # only our own graphs are ever removed
    assert not list(out.glob(".*.tmp"))


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


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)"
)
def test_html_in_headless_chromium(tmp_path):
    from PIL import Image

    out = tmp_path / "r"
    assert (
        cli.main(["report", str(FIXTURES / "one_run.json"), str(FIXTURES / "failed.json"), "-o", str(out), "-q"]) == 0
    )
    url = (out / "report.html").resolve().as_uri()
    dom = chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    comparison = dom.stdout.split('class="cards comparison"')[1].split("</table>")[0]
    rows = re.findall(
        r'<tr class="(ok|partial|failed|skipped|missing)[^"]*">\s*<td class="variant sticky">([^<]+) '
        r'<span class="run">(#\d)</span>',
        comparison,
    )
    assert [(v, run) for _, v, run in rows] == [(v, run) for v in VARIANTS for run in ("#1", "#2")]
    assert rows[-1] == ("missing", "mobilenet_v2_transfer", "#2")
    assert dom.stdout.count('<table class="cards sidebyside">') == 3  # accuracy, loss, throughput
    assert dom.stdout.count("<img") >= 4 and "<h2>History</h2>" in dom.stdout
    history = dom.stdout.split('class="cards history"')[1].split("</table>")[0]
    assert re.findall(r'<td class="variant sticky"><b>(#\d+)</b>', history) == ["#1", "#2"]
    keep = os.environ.get("FLOWERS_KEEP_SCREENSHOTS")
    for width, height in ((1280, 900), (390, 844)):
        shot = tmp_path / f"report-{width}.png"
        result = chromium(tmp_path, f"--screenshot={shot}", f"--window-size={width},{height}", url)
        assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
        assert shot.stat().st_size > 20_000
        with Image.open(shot) as im:
            assert im.size == (width, height)
            rgb = im.convert("RGB")
            for top in range(0, height - 99, 100):  # painted all the way down, not a blank band
                colours = rgb.crop((0, top, width, top + 100)).getcolors(maxcolors=1_000_000)
                assert colours is None or len(colours) > 10, f"blank band at y={top} in the {width}px screenshot"
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)


def measuring_page(report_html: str, width: int) -> str:
    """A page showing ``report_html`` in a frame ``width`` px wide (headless Chromium's own window is
    at least 500 px) whose script writes, once laid out, each wide table's scroll and visible widths
    and the page's, into <pre id="measured">."""
    return f"""<!doctype html><body style="margin:0">
<iframe id="report" width="{width}" height="900" style="border:0" srcdoc="{escape(report_html, quote=True)}"></iframe>
<pre id="measured"></pre>
<script>
document.getElementById("report").addEventListener("load", event => {{
  const doc = event.target.contentDocument;
  const widths = [...doc.querySelectorAll("table.comparison, table.breakdown, table.sidebyside")].map(table => {{
    const box = table.closest(".scroll");
    return `${{table.classList[table.classList.length - 1]}} ${{box.scrollWidth}} ${{box.clientWidth}}`;
  }});
  widths.push(`page ${{doc.documentElement.scrollWidth}} ${{doc.documentElement.clientWidth}}`);
  document.getElementById("measured").textContent = widths.join("\\n");
}});
</script></body>"""


def widest_run() -> dict:
    """The widest Results and time tables a run makes: every column (efficiency, peak memory, the
    feature cache, a time breakdown), long feature-cache layer names and 3 seeds a variant (mean ± CI)."""
    data = fixture("one_run.json")
    parts = {
        "data_load": 95.0,
        "setup": 2.5,
        "feature_cache": 3.25,
        "first_epoch": 37.1,
        "later_epochs": 67.2,
        "evaluation": 0.2,
        "bookkeeping": 0.1,
    }
    benches = []
    for seed in range(3):
        for bench in copy.deepcopy(data["benchmarks"]):
            info = bench["extra_info"]
            info.update(
                seed=seed,
                test_accuracy=info["test_accuracy"] - 0.03 * seed,
                test_loss=info["test_loss"] + 0.021 * seed,
                breakdown=dict(parts),
                data_cached=False,
                wall_seconds=205.35,
                steady_images_per_second=12345.6,
            )
            info["config"] = dict(info["config"], seed=seed)
            if info.get("feature_cache", {}).get("enabled"):
                info["feature_cache"]["layer"] = "conv3_block4_out_of_a_long_backbone"
            bench["name"] = f"test_variant[{info['variant']}-seed={seed}]"
            benches.append(bench)
    data["benchmarks"] = benches
    data["flowers"]["cases"] = [
        {
            "name": b["name"],
            "variant": b["extra_info"]["variant"],
            "seed": b["extra_info"]["seed"],
            "status": "ok",
            "error": None,
        }
        for b in benches
    ]
    return data


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run installs it)"
)
@pytest.mark.parametrize("runs", [1, 3])
@pytest.mark.parametrize("width", [1280, 390])
def test_results_and_time_tables_fit_the_page_without_a_sideways_scroll(tmp_path, width, runs):
    """One run, and three side by side (the comparison view's tables too)."""
    out = tmp_path / "r"
    paths = []
    for i in range(runs):
        data = widest_run()
        data["datetime"] = f"2026-12-0{i + 1}T10:00:00"
        paths.append(str(save(tmp_path / f"wide{i}.json", data)))
    assert cli.main(["report", *paths, "-o", str(out), "-q"]) == 0
    page = (out / "report.html").read_text()
    assert "± " in page and "conv3_block4_out_of_a_long_backbone" in page and "Where the time goes</h2>" in page
    measured = tmp_path / "measured.html"
    measured.write_text(measuring_page(page, width))
    dom = chromium(
        tmp_path, "--dump-dom", "--window-size=1400,1000", "--virtual-time-budget=5000", measured.resolve().as_uri()
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="measured">([^<]+)</pre>', dom.stdout)
    assert found, dom.stdout[-2000:]
    sizes = {
        name: (int(scroll), int(client))
        for name, scroll, client in (line.split() for line in found.group(1).splitlines())
    }
    assert sizes["page"] == (width, width), sizes  # the page itself never scrolls sideways
    if width == 1280:  # on a phone the Results are cards and the time table may scroll in its box
        assert sizes["comparison"][0] <= sizes["comparison"][1], sizes
        assert sizes["breakdown"][0] <= sizes["breakdown"][1], sizes
    else:
        assert sizes["comparison"][0] <= sizes["comparison"][1], sizes
    if runs > 1:  # the comparison view's tables: cards on a phone
        assert sizes["sidebyside"][0] <= sizes["sidebyside"][1], sizes
