"""Tests of ``flowers report``: golden files, what the tables and graphs show, failed and missing variants.

Golden files: ``tests/golden/report_*.md`` hold the expected ``report.md`` for the hand-made fixtures in
``tests/fixtures/report/``.  Graph file names (content hashes, which depend on the matplotlib and
FreeType versions) and the package version are normalised before comparing.  After an intended change
of the report, regenerate them and review the diff:

    FLOWERS_UPDATE_GOLDEN=1 python -m pytest tests/test_report.py -k golden

Untrusted and unusable input: ``test_report_inputs.py``; a real browser: ``test_report_browser.py``.
No test here imports TensorFlow or measures time.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
from pathlib import Path

from flowers import __version__, cli
from flowers import report as rp
from flowers.registry import original
from flowers.results import load_run, load_runs
from tests.factory import FIXTURES, fixture_run, save
from tests.reports import HISTORY, VARIANTS, report_md, section, table_rows

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("FLOWERS_UPDATE_GOLDEN") == "1"


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    text = re.sub(r"fig-[0-9a-f]{16}\.png", "fig-HASH.png", text)
    return text.replace(f"flowers report {__version__}", "flowers report VERSION")


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
