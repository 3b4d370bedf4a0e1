"""``flowers check``: gates, verdicts, exit codes, configuration, baseline updates and bad input.

Runs are built in code by a small factory (dicts shaped like the result schema of
flowers/results.py) and written to tmp_path; nothing here trains a model or imports TensorFlow.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from flowers import check, cli
from flowers.results import load_run
from tests.factory import ACC, ROOT, VARIANTS, make_case, make_run, standard, write

def rows(comp, variant=None, metric=None):
    return [r for r in comp.rows if (variant is None or r.variant == variant) and (metric is None or r.metric == metric)]


def compare_dicts(tmp_path, base, cur, **kw):
    return check.compare(load_run(write(tmp_path, "base.json", base)), load_run(write(tmp_path, "cur.json", cur)), **kw)


@pytest.fixture(autouse=True)
def _away_from_repo(tmp_path, monkeypatch):
    """Work where no pyproject.toml is found upwards, so the built-in defaults apply."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def flowers(monkeypatch, capsys):
    """Call the real ``flowers`` CLI entry point (with only the check command registered)."""
    monkeypatch.setattr(cli, "COMMANDS", {"check": "flowers.check"})

    def call(*argv):
        try:
            code = cli.main(["check", *map(str, argv)])
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return call


# ------------------------------------------------------------------------------------------
# Gates through the command line
# ------------------------------------------------------------------------------------------


def test_variant_removed_is_missing(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(variants=VARIANTS[:-1]))
    code, out, _ = flowers(base, cur)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur))
    gone = rows(comp, variant=VARIANTS[-1])
    assert gone and {r.verdict for r in gone} == {"missing"}
    assert "absent from the current run" in gone[0].how
    assert out.rstrip().splitlines()[-1].endswith(VARIANTS[-1])


@pytest.mark.parametrize("recorded", [True, False], ids=["failed-in-benchmarks", "failed-before-recording"])
def test_failed_variant_is_missing(tmp_path, flowers, recorded):
    benches = standard(variants=VARIANTS[:-1])["benchmarks"]
    failed = make_case(VARIANTS[-1], status="failed", error="loss became NaN at epoch 2 (TerminateOnNaN)")
    if recorded:
        cur = make_run(benches + [failed])
    else:  # pytest-benchmark dropped the failed case: only the run-level record names it
        cur = make_run(benches, unrecorded=[{"name": failed["name"], "variant": VARIANTS[-1], "seed": 0,
                                             "status": "failed", "error": "loss became NaN at epoch 2"}])
    base = write(tmp_path, "base.json", standard())
    cur_path = write(tmp_path, "cur.json", cur)
    code, out, _ = flowers(base, cur_path)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur_path))
    bad = rows(comp, variant=VARIANTS[-1])
    assert {r.verdict for r in bad} == {"missing"}
    assert "failed: seed=0: loss became NaN at epoch 2" in bad[0].how
    assert "loss became NaN" in out


def test_one_failed_seed_of_three_is_missing(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard(seeds=3))
    cur = standard(seeds=3)
    cur["benchmarks"][1] = make_case(VARIANTS[0], seed=1, status="failed", error="out of memory; try --batch-size 16")
    cur["flowers"]["cases"][1]["status"] = "failed"
    cur_path = write(tmp_path, "cur.json", cur)
    code, out, _ = flowers(base, cur_path)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur_path))
    (cases_row,) = rows(comp, variant=VARIANTS[0], metric="cases")
    assert cases_row.verdict == "missing" and "1 of 3 not ok: seed=1: out of memory" in cases_row.how
    # the two good seeds are still compared
    assert rows(comp, variant=VARIANTS[0], metric="test_accuracy")[0].verdict == "ok"


def test_skipped_variant_is_missing_with_its_status(tmp_path):
    cur = make_run(standard(variants=VARIANTS[:1])["benchmarks"],
                   unrecorded=[{"name": "test_variant[vgg16_transfer-seed=0]", "variant": "vgg16_transfer", "seed": 0,
                                "status": "skipped", "error": "no VGG16 weights in --weights-dir"}])
    comp = compare_dicts(tmp_path, standard(variants=VARIANTS[:2]), cur)
    bad = rows(comp, variant="vgg16_transfer")
    assert {r.verdict for r in bad} == {"missing"} and comp.regressed
    assert bad[0].how == "not ok: seed=0: skipped: no VGG16 weights in --weights-dir"


def test_new_variant_is_new_and_passes(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard(variants=VARIANTS[:2]))
    cur = write(tmp_path, "cur.json", standard())
    code, out, _ = flowers(base, cur)
    assert code == 0, out
    comp = check.compare(load_run(base), load_run(cur))
    assert {r.verdict for r in rows(comp, variant=VARIANTS[3])} == {"new"}
    assert "2 new" in out


def test_variant_failed_in_baseline_counts_as_new(tmp_path):
    base = make_run([make_case(status="failed", error="boom")])
    comp = compare_dicts(tmp_path, base, make_run([make_case()]))
    assert {r.verdict for r in comp.rows} == {"new"} and not comp.regressed
    assert "failed in baseline" in comp.rows[0].how


def test_metrics_option_limits_the_gates(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(ips_factor=0.5))
    code, out, _ = flowers(base, cur, "--metrics", "accuracy,loss")
    assert code == 0, out
    assert "train_images_per_second  " not in out
    assert "not checked: train_images_per_second" in out
    code, _, err = flowers(base, cur, "--metrics", "accuracy,speed")
    assert code == 2 and "unknown metric 'speed'" in err


def test_variants_option(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(variants=VARIANTS[:1]))
    assert flowers(base, cur)[0] == 1
    code, out, _ = flowers(base, cur, "--variants", VARIANTS[0])
    assert code == 0 and VARIANTS[1] not in out
    code, _, err = flowers(base, cur, "--variants", "nope")
    assert code == 2 and "'nope' is in neither run" in err


def test_accuracy_lowered_by_0_3_names_every_variant(tmp_path, flowers):
    """The acceptance check: a copy of a run with every test_accuracy lowered by 0.3 fails, naming all."""
    run = standard(seeds=10)
    lowered = copy.deepcopy(run)
    for b in lowered["benchmarks"]:
        b["extra_info"]["test_accuracy"] -= 0.3
    code, out, _ = flowers(write(tmp_path, "out.json", run), write(tmp_path, "low.json", lowered))
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert all(v in last for v in VARIANTS)
    assert out.count("REGRESSED") == len(VARIANTS)
    # the same drop in one seed: against the ten-seed baseline too
    one = copy.deepcopy(lowered)
    one["benchmarks"] = [b for b in one["benchmarks"] if b["extra_info"]["seed"] == 0]
    code, out, _ = flowers(write(tmp_path, "out.json", run), write(tmp_path, "one.json", one))
    assert code == 1 and out.count("REGRESSED") == len(VARIANTS), out


def test_config_change_is_noted(tmp_path):
    cur = standard(variants=VARIANTS[:1])
    cur["benchmarks"][0]["extra_info"]["config"]["epochs"] = 5
    cur["benchmarks"][0]["extra_info"]["dataset"]["hash"] = "ffff"
    comp = compare_dicts(tmp_path, standard(variants=VARIANTS[:1]), cur, metrics=["accuracy"])
    assert "config changed: epochs 2->5" in comp.rows[0].how
    assert "dataset changed: ab12->ffff" in comp.rows[0].how


def test_interrupted_current_run_is_noted(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(complete=False))
    code, out, _ = flowers(base, cur)
    assert code == 0
    assert "interrupted run" in out


def test_folder_means_its_newest_run(tmp_path, flowers):
    store = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    store.mkdir(parents=True)
    write(store, "0001_old.json", standard(acc_shift=-0.3, when="2026-01-01T00:00:00"))
    write(store, "0002_new.json", standard(when="2026-02-01T00:00:00"))
    code, out, _ = flowers(write(tmp_path, "base.json", standard()), tmp_path / ".benchmarks")
    assert code == 0, out
    assert "0002_new.json" in out


# ------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------

PYPROJECT = """
[project]
name = "x"

[tool.flowers.check]
accuracy_tolerance = 0.02

[tool.flowers.check.variants.resnet50v2_finetune]
accuracy_tolerance = 0.5
"""


def test_per_variant_threshold_from_pyproject_found_upwards(tmp_path, flowers, monkeypatch):
    write(tmp_path, "pyproject.toml", PYPROJECT)
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    v = ("basic_cnn", "resnet50v2_finetune")
    base = write(tmp_path, "base.json", standard(seeds=10, variants=v, n_test=300))
    cur = write(tmp_path, "cur.json", standard(seeds=10, variants=v, acc_shift=-0.1, n_test=300))
    code, out, _ = flowers(base, cur)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur), check.load_config())
    assert rows(comp, "basic_cnn", "test_accuracy")[0].verdict == "REGRESSED"
    assert rows(comp, "resnet50v2_finetune", "test_accuracy")[0].verdict == "ok"
    assert "drop>0.5" in rows(comp, "resnet50v2_finetune", "test_accuracy")[0].threshold
    # and --config points elsewhere explicitly
    write(tmp_path, "lax.toml", "[tool.flowers.check]\naccuracy_tolerance = 0.5\n")
    assert flowers(base, cur, "--config", tmp_path / "lax.toml")[0] == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("[tool.flowers.check]\naccuracy_tolerence = 0.1\n", "unknown key 'accuracy_tolerence'"),
        ("[tool.flowers.check]\nfalse_alarm = 1.5\n", "out of range"),
        ("[tool.flowers.check]\nloss_tolerance = 'ten'\n", "must be a number"),
        ("[tool.flowers.check.variants.basic_cnn]\nfalse_alarm = true\n", "must be a number"),
        ("[tool.flowers.check]\nalpha = 0.05\n", "unknown key 'alpha'"),
        ("[tool.flowers.check\n", "cannot be read as TOML"),
    ],
)
def test_bad_config_exits_2(tmp_path, flowers, text, message):
    write(tmp_path, "pyproject.toml", text)
    run = write(tmp_path, "a.json", standard())
    code, out, err = flowers(run, run)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err and "pyproject.toml" in err


def test_repo_pyproject_documents_the_defaults():
    """[tool.flowers.check] in the project's pyproject.toml parses and states the built-in defaults."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table = data["tool"]["flowers"]["check"]
    config = check.parse_config(table)
    assert config.defaults == check.Thresholds()
    assert set(check.THRESHOLD_KEYS) <= set(table)


def test_no_pyproject_means_defaults(tmp_path):
    assert check.find_pyproject(tmp_path) is None or check.find_pyproject(tmp_path).parent != tmp_path
    assert check.Thresholds() == check.Thresholds(0.02, 0.02, 0.10, 0.15, 2.0)


# ------------------------------------------------------------------------------------------
# Unusable input: exit 2 with one line on stderr
# ------------------------------------------------------------------------------------------

GOOD = standard()
NO_EXTRA = copy.deepcopy(GOOD)
for _b in NO_EXTRA["benchmarks"]:
    del _b["extra_info"]
NO_EXTRA.pop("flowers")
EMPTY_EXTRA = copy.deepcopy(NO_EXTRA)
for _b in EMPTY_EXTRA["benchmarks"]:
    _b["extra_info"] = {}
PARTIAL_EXTRA = copy.deepcopy(GOOD)
del PARTIAL_EXTRA["benchmarks"][0]["extra_info"]["config_hash"]  # a missing score reads as an invalid case

BAD_INPUTS = {
    "missing": None,
    "empty": "",
    "whitespace": "  \n",
    "truncated": json.dumps(GOOD)[:300],
    "not-json": "<html>502 Bad Gateway</html>",
    "foreign-json": json.dumps({"name": "some other tool", "results": [1, 2, 3]}),
    "json-list": json.dumps([1, 2, 3]),
    "no-extra-info": json.dumps(NO_EXTRA),
    "empty-extra-info": json.dumps(EMPTY_EXTRA),
    "partial-extra-info": json.dumps(PARTIAL_EXTRA),
    "no-cases": json.dumps(make_run([])),
}


@pytest.mark.parametrize("side", ["baseline", "current"])
@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_unusable_input_exits_2_with_one_line(tmp_path, flowers, kind, side):
    good = write(tmp_path, "good.json", GOOD)
    bad = tmp_path / f"{kind}.json"
    if BAD_INPUTS[kind] is not None:
        bad.write_text(BAD_INPUTS[kind])
    args = (bad, good) if side == "baseline" else (good, bad)
    code, out, err = flowers(*args)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flowers check: error: ") and str(bad) in lines[0]


def test_missing_baseline_says_how_to_make_one(tmp_path, flowers):
    code, _, err = flowers(tmp_path / "benchmarks/baselines/smoke-cpu.json", write(tmp_path, "out.json", GOOD))
    assert code == 2 and "--update-baseline" in err


def test_profiles_must_match(tmp_path, flowers):
    code, out, err = flowers(write(tmp_path, "a.json", standard(profile="paper")), write(tmp_path, "b.json", standard()))
    assert code == 2 and out == "" and "profile 'paper'" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(importlib.util.find_spec("flowers.report") is None, reason="flowers.report not written yet")
def test_installed_command_line(tmp_path):
    """``python -m flowers check`` end to end, as CI calls it."""
    good = write(tmp_path, "good.json", GOOD)
    bad = write(tmp_path, "bad.json", json.dumps(GOOD)[:100])
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "flowers", "check", good, good], capture_output=True, text=True,
                        cwd=tmp_path, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "PASS" in ok.stdout
    broken = subprocess.run([sys.executable, "-m", "flowers", "check", good, bad], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=60)
    assert broken.returncode == 2 and broken.stdout == ""
    assert len(broken.stderr.splitlines()) == 1 and "not valid JSON" in broken.stderr


# ------------------------------------------------------------------------------------------
# --update-baseline
# ------------------------------------------------------------------------------------------


def test_update_baseline_creates_and_replaces(tmp_path, flowers):
    target = tmp_path / "benchmarks" / "baselines" / "smoke-cpu.json"
    first = write(tmp_path, "first.json", standard(seeds=10))
    code, out, _ = flowers("--update-baseline", target, first)
    assert code == 0 and target.read_bytes() == first.read_bytes()
    assert "git add" in out
    second = write(tmp_path, "second.json", standard(seeds=10, acc_shift=-0.3))
    code, out, _ = flowers("--update-baseline", target, second)
    assert code == 0, out
    assert target.read_bytes() == second.read_bytes()
    assert "REGRESSED" in out  # shows what the update changes, but replaces on purpose
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("problem", ["failed", "interrupted", "profile", "seeds", "unusable"])
def test_update_baseline_refuses_bad_runs(tmp_path, flowers, problem):
    target = write(tmp_path, "smoke-cpu.json", standard(seeds=10))
    before = target.read_bytes()
    if problem == "failed":
        cur = make_run(standard(seeds=10)["benchmarks"][:-1] + [make_case(VARIANTS[-1], 9, status="failed", error="x")])
    elif problem == "interrupted":
        cur = standard(seeds=10, complete=False)
    elif problem == "profile":
        cur = standard(seeds=10, profile="paper")
    elif problem == "seeds":
        cur = standard(seeds=3)
    else:
        cur = json.dumps(GOOD)[:50]
    cur_path = write(tmp_path, "cur.json", cur)
    code, out, err = flowers("--update-baseline", target, cur_path)
    assert code == 2 and len(err.splitlines()) == 1
    assert target.read_bytes() == before
    if problem != "unusable":
        assert "--force" in err
        code, _, _ = flowers("--update-baseline", "--force", target, cur_path)
        assert code == 0 and target.read_bytes() == cur_path.read_bytes()


def test_update_baseline_replaces_a_corrupt_baseline(tmp_path, flowers):
    target = write(tmp_path, "smoke-cpu.json", '{"benchmarks": [')
    cur = write(tmp_path, "cur.json", standard(seeds=10))
    code, out, _ = flowers("--update-baseline", target, cur)
    assert code == 0 and "old baseline is unusable" in out
    assert json.loads(target.read_text()) == standard(seeds=10)


def test_check_never_imports_tensorflow():
    code = "import sys, flowers.check, flowers.results; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0


def test_render_is_aligned(tmp_path):
    comp = compare_dicts(tmp_path, standard(), standard(ips_factor=0.5))
    text = check.render(comp)
    lines = text.splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith("variant"))
    col = lines[i].index("verdict")
    table = [l for l in lines[i + 1:] if l and not l.startswith(("PASS", "FAIL"))]
    assert len(table) == len(comp.rows)
    assert all(l[col:].split()[0] in ("ok", "REGRESSED") for l in table)
