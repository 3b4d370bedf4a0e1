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

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("basic_cnn", "vgg16_transfer", "resnet50v2_finetune", "resnet50v2_finetune_aug")
ACC = {"basic_cnn": 0.8667, "vgg16_transfer": 0.80, "resnet50v2_finetune": 0.90, "resnet50v2_finetune_aug": 0.9333}


# ------------------------------------------------------------------------------------------
# Factory
# ------------------------------------------------------------------------------------------


def make_case(variant="basic_cnn", seed=0, acc=None, loss=0.41, ips=154.8, n_test=30, profile="smoke",
              status="ok", error=None, data_hash="ab12"):
    acc = ACC.get(variant, 0.85) if acc is None else acc
    name = f"test_variant[{variant}-seed={seed}]"
    config = {"variant": variant, "data": "synthetic", "image_size": 64, "weights": "none",
              "optimizer": "adam", "learning_rate": 0.0001, "batch_size": 32, "epochs": 2,
              "augment": False, "seed": seed}
    if status != "ok":
        info = {"variant": variant, "status": status, "error": error, "profile": profile, "seed": seed,
                "config": config}
    else:
        info = {
            "variant": variant, "status": "ok", "error": None, "profile": profile, "seed": seed,
            "test_loss": loss, "test_accuracy": acc,
            "history": {"loss": [1.2, 0.6], "accuracy": [0.5, 0.8], "val_loss": [0.9, 0.5], "val_accuracy": [0.7, 0.87]},
            "epochs": 2, "train_seconds": 3.1, "epoch_seconds": [1.7, 1.4], "eval_seconds": 0.2,
            "train_images_per_second": ips, "params_total": 2133861, "params_trainable": 2133861,
            "config": config, "config_hash": f"{hash((variant, seed)) & 0xffffffff:08x}",
            "dataset": {"name": "synthetic", "source": "synthetic",
                        "splits": {"train": 240, "validation": 30, "test": n_test},
                        "class_names": ["circle", "cross", "ring", "square", "triangle"],
                        "hash": data_hash, "version": "1", "image_size": 64,
                        "skipped": {"count": 0, "examples": []}},
        }
    return {
        "group": None, "name": name, "fullname": f"benchmarks/test_variants.py::{name}",
        "params": {"variant": variant, "seed": seed},
        "stats": {"min": 3.1, "max": 3.1, "mean": 3.1, "stddev": 0, "rounds": 1, "median": 3.1},
        "extra_info": info,
    }


def make_run(benchmarks, node="runner-1", device="cpu: AMD EPYC 7763", profile="smoke", complete=True,
             unrecorded=(), when="2026-11-27T22:00:00"):
    """A result file; ``unrecorded`` are cases that failed before recording (only in flowers.cases)."""
    records = [{"name": b["name"], "variant": b["extra_info"]["variant"], "seed": b["extra_info"].get("seed"),
                "status": b["extra_info"]["status"], "error": b["extra_info"].get("error")} for b in benchmarks]
    records += list(unrecorded)
    return {
        "machine_info": {"node": node, "processor": "x86_64", "machine": "x86_64", "python_version": "3.11.7",
                         "cpu": {"brand_raw": "AMD EPYC 7763", "count": 2},
                         "flowers": {"tensorflow": "2.16.1", "keras": "3.3.3", "device": device,
                                     "device_kind": "gpu" if "gpu" in device.lower() else "cpu"}},
        "commit_info": {"id": "0123456789abcdef", "dirty": False, "branch": "main"},
        "benchmarks": benchmarks,
        "datetime": when,
        "version": "4.0.0",
        "flowers": {"schema": 1, "profile": profile, "complete": complete, "cases": records},
    }


def standard(seeds=1, acc_shift=0.0, loss_factor=1.0, ips_factor=1.0, variants=VARIANTS, spread=0.01, **run_kw):
    benches = []
    for v in variants:
        for s in range(seeds):
            jitter = (s - (seeds - 1) / 2) * spread if seeds > 1 else 0.0
            benches.append(make_case(v, seed=s, acc=ACC[v] + jitter + acc_shift,
                                     loss=0.41 * loss_factor * (1 + jitter), ips=154.8 * ips_factor * (1 + jitter)))
    return make_run(benches, **run_kw)


def write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return path


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


@pytest.mark.parametrize("seeds", [1, 3])
def test_same_run_twice_passes(tmp_path, flowers, seeds):
    run = standard(seeds=seeds)
    base, cur = write(tmp_path, "a.json", run), write(tmp_path, "b.json", run)
    code, out, err = flowers(base, cur)
    assert code == 0, out
    assert err == ""
    assert "REGRESSED" not in out and "missing" not in out and "skipped" not in out
    assert out.rstrip().splitlines()[-1].startswith("PASS")
    comp = check.compare(load_run(base), load_run(cur))
    assert len(comp.rows) == len(VARIANTS) * 3
    assert {r.verdict for r in comp.rows} == {"ok"}
    if seeds == 3:
        assert all("t-test" in r.how for r in comp.rows if r.metric == "test_accuracy")


def test_three_seeds_five_points_lower_regresses_with_t_test(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard(seeds=3))
    cur = write(tmp_path, "cur.json", standard(seeds=3, acc_shift=-0.05))
    code, out, _ = flowers(base, cur)
    assert code == 1
    for v in VARIANTS:
        line = next(l for l in out.splitlines() if l.startswith(v + " ") and "test_accuracy" in l)
        assert "REGRESSED" in line
        assert "t-test p=" in line and "n=3/3" in line
    assert out.rstrip().splitlines()[-1].startswith("FAIL")
    comp = check.compare(load_run(base), load_run(cur))
    for r in rows(comp, metric="test_accuracy"):
        p = float(r.how.split("p=")[1].split(",")[0])
        assert p < 0.05
    assert {r.verdict for r in rows(comp, metric="test_loss")} == {"ok"}


def test_three_seeds_small_noisy_drop_is_ok(tmp_path):
    """A mean drop above the tolerance that the t-test cannot tell from seed noise passes."""
    base = make_run([make_case(acc=a, seed=i) for i, a in enumerate([0.70, 0.90, 0.80])])
    cur = make_run([make_case(acc=a, seed=i) for i, a in enumerate([0.85, 0.65, 0.78])])
    comp = compare_dicts(tmp_path, base, cur, metrics=["accuracy"])
    (row,) = comp.rows
    assert row.verdict == "ok" and row.how.startswith("t-test")
    assert float(row.change) < -0.02


def test_one_seed_drop_within_binomial_noise_is_ok(tmp_path, flowers):
    # p = 0.8667 on 30 test images: se = 0.062, so a 0.05 drop (above the 0.02 tolerance) is noise.
    base = write(tmp_path, "base.json", make_run([make_case(acc=0.8667, n_test=30)]))
    cur = write(tmp_path, "cur.json", make_run([make_case(acc=0.8167, n_test=30)]))
    code, out, _ = flowers(base, cur)
    assert code == 0, out
    comp = check.compare(load_run(base), load_run(cur))
    (acc,) = rows(comp, metric="test_accuracy")
    assert acc.verdict == "ok"
    assert "binomial se=0.062" in acc.how and "n_test=30" in acc.how
    assert "binomial se=0.062" in out


def test_one_seed_drop_above_binomial_noise_regresses(tmp_path, flowers):
    # The same 0.05 drop on 3,000 test images (se = 0.006) is real.
    base = write(tmp_path, "base.json", make_run([make_case(acc=0.8667, n_test=3000)]))
    cur = write(tmp_path, "cur.json", make_run([make_case(acc=0.8167, n_test=3000)]))
    code, out, _ = flowers(base, cur)
    assert code == 1
    assert "REGRESSED" in next(l for l in out.splitlines() if "test_accuracy" in l and l.startswith("basic_cnn"))


def test_perfect_baseline_still_allows_for_noise():
    """At p = 1 the plain binomial se is 0: one flipped test image of 30 must not count as a regression."""
    th = check.Thresholds()
    one_image = check.gate_accuracy([1.0], [29 / 30], 30, th)
    assert one_image.verdict == "ok" and "p clamped" in one_image.how
    assert check.gate_accuracy([1.0], [27 / 30], 30, th).verdict == "REGRESSED"
    assert check.gate_accuracy([0.0], [3 / 30], 30, th).verdict == "improved"


def test_one_seed_drop_below_tolerance_is_ok_even_with_a_huge_test_set(tmp_path):
    comp = compare_dicts(tmp_path, make_run([make_case(acc=0.90, n_test=10**6)]),
                         make_run([make_case(acc=0.885, n_test=10**6)]), metrics=["accuracy"])
    assert comp.rows[0].verdict == "ok"


def test_thirty_percent_slower_on_same_machine_regresses(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(ips_factor=0.7))
    code, out, _ = flowers(base, cur)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur))
    for r in rows(comp, metric="train_images_per_second"):
        assert r.verdict == "REGRESSED" and r.change == "-30.0%"
    assert {r.verdict for r in rows(comp, metric="test_accuracy")} == {"ok"}


def test_ten_percent_slower_is_ok_and_faster_is_improved(tmp_path):
    comp = compare_dicts(tmp_path, standard(), standard(ips_factor=0.9), metrics=["time"])
    assert {r.verdict for r in comp.rows} == {"ok"}
    comp = compare_dicts(tmp_path, standard(), standard(ips_factor=1.5), metrics=["time"])
    assert {r.verdict for r in comp.rows} == {"improved"}


def with_steady(run, factor=1.0):
    """The run with ``steady_images_per_second`` (epochs 2+) recorded in every ok case."""
    run = copy.deepcopy(run)
    for bench in run["benchmarks"]:
        if bench["extra_info"]["status"] == "ok":
            bench["extra_info"]["steady_images_per_second"] = 400.0 * factor
    return run


def test_time_gate_uses_the_steady_figure_when_both_runs_have_it(tmp_path):
    # Whole-training throughput 30% down (say, a slower cache build), steady epochs unchanged: ok.
    comp = compare_dicts(tmp_path, with_steady(standard()), with_steady(standard(ips_factor=0.7)), metrics=["time"])
    assert {(r.metric, r.verdict, r.baseline) for r in comp.rows} == {("steady_images_per_second", "ok", "400.0")}
    # Steady epochs 30% slower: regressed, whatever the whole-training figure says.
    comp = compare_dicts(tmp_path, with_steady(standard()), with_steady(standard(), factor=0.7), metrics=["time"])
    assert {(r.metric, r.verdict, r.change) for r in comp.rows} == {("steady_images_per_second", "REGRESSED", "-30.0%")}


def with_step_seconds(run, seconds):
    """The run with ``epoch_step_seconds`` (epoch 1, then epochs 2+) in every ok case."""
    run = copy.deepcopy(run)
    for bench in run["benchmarks"]:
        if bench["extra_info"]["status"] == "ok":
            bench["extra_info"]["epoch_step_seconds"] = seconds
    return run


def test_throughput_timed_over_too_short_an_interval_is_not_gated(tmp_path):
    # Steady epochs timed over 0.3 s: 30% slower says nothing on a shared machine.
    short = [1.0, 0.15, 0.15]
    comp = compare_dicts(tmp_path, with_step_seconds(with_steady(standard()), short),
                         with_step_seconds(with_steady(standard(), factor=0.7), short), metrics=["time"])
    assert {(r.verdict, r.change) for r in comp.rows} == {("skipped", "-30.0%")}
    assert all("timed over 0.30s, under min_timed_seconds=2: too short to gate" in r.how for r in comp.rows)
    # Timed over 4 s on each side: gated.
    long = [1.0, 2.0, 2.0]
    comp = compare_dicts(tmp_path, with_step_seconds(with_steady(standard()), long),
                         with_step_seconds(with_steady(standard(), factor=0.7), long), metrics=["time"])
    assert {r.verdict for r in comp.rows} == {"REGRESSED"}


def test_time_gate_falls_back_to_train_images_per_second_when_one_run_lacks_steady(tmp_path):
    comp = compare_dicts(tmp_path, standard(), with_steady(standard(ips_factor=0.7)), metrics=["time"])
    assert {(r.metric, r.verdict) for r in comp.rows} == {("train_images_per_second", "REGRESSED")}


@pytest.mark.parametrize("what", ["node", "device"])
def test_other_machine_skips_time(tmp_path, flowers, what):
    other = {"node": "laptop"} if what == "node" else {"device": "gpu: NVIDIA H100"}
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(ips_factor=0.5, **other))
    code, out, _ = flowers(base, cur)
    assert code == 0, out
    comp = check.compare(load_run(base), load_run(cur))
    for r in rows(comp, metric="train_images_per_second"):
        assert r.verdict == "skipped"
        assert r.how.startswith("different machine") and what in r.how
    assert "skipped" in out and "different machine" in out


def test_fewer_cores_skip_time_and_unrecorded_cores_do_not(tmp_path):
    """A shard pinned to one core is not the baseline's two-core machine; files without the figure compare as before."""
    def with_cores(run, cores):
        run["machine_info"].setdefault("flowers", {})["cores"] = cores
        return run

    comp = compare_dicts(tmp_path, with_cores(standard(), 2), with_cores(standard(ips_factor=0.5), 1), metrics=["time"])
    assert {(r.verdict, r.how) for r in comp.rows} == {("skipped", "different machine: cores 2!=1")}
    comp = compare_dicts(tmp_path, standard(), with_cores(standard(ips_factor=0.5), 1), metrics=["time"])
    assert {r.verdict for r in comp.rows} == {"REGRESSED"}


def test_unknown_machine_skips_time(tmp_path):
    base, cur = standard(), standard(ips_factor=0.5)
    for run in (base, cur):
        run["machine_info"] = {}
    comp = compare_dicts(tmp_path, base, cur, metrics=["time"])
    assert {(r.verdict, r.how) for r in comp.rows} == {("skipped", "machine unknown")}


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


def test_loss_gate_is_relative_and_direction_aware(tmp_path):
    def verdict(factor, seeds=1):
        comp = compare_dicts(tmp_path, standard(seeds=seeds, variants=VARIANTS[:1]),
                             standard(seeds=seeds, loss_factor=factor, variants=VARIANTS[:1]), metrics=["loss"])
        return comp.rows[0]

    assert verdict(1.20).verdict == "REGRESSED"
    assert verdict(1.05).verdict == "ok"
    assert verdict(0.80).verdict == "improved"
    several = verdict(1.30, seeds=3)
    assert several.verdict == "REGRESSED" and several.how.startswith("t-test")


def test_accuracy_gate_is_direction_aware(tmp_path):
    comp = compare_dicts(tmp_path, standard(seeds=3), standard(seeds=3, acc_shift=+0.05), metrics=["accuracy"])
    assert {r.verdict for r in comp.rows} == {"improved"}
    assert not comp.regressed


def test_identical_seeds_use_exact_difference():
    """Zero spread on both sides gives scipy a NaN p-value; the gate must still decide."""
    th = check.Thresholds()
    assert check.gate_accuracy([0.9, 0.9, 0.9], [0.6, 0.6, 0.6], 30, th).verdict == "REGRESSED"
    assert check.gate_accuracy([0.9, 0.9, 0.9], [0.9, 0.9, 0.9], 30, th).verdict == "ok"
    assert check.gate_loss([0.4, 0.4], [0.6, 0.6], th).verdict == "REGRESSED"
    assert check.one_sided_p([1, 2, 3], [1, 2, 3], "lower") == pytest.approx(0.5)
    assert check.one_sided_p([0.9, 0.9], [0.9, 0.9], "lower") == 0.5


def test_one_seed_against_several_uses_a_t_test_on_the_seed_spread():
    th = check.Thresholds()
    # a clear drop: t-test path, regressed
    v = check.gate_accuracy([0.86, 0.87, 0.88], [0.55], 30, th)
    assert v.verdict == "REGRESSED" and v.how.startswith("t-test") and "n=3/1" in v.how
    # the single baseline value lies within the current seeds' spread: ok (binomial alone would fail it)
    v = check.gate_accuracy([0.6], [0.6, 0.4, 0.2], 30, th)
    assert v.verdict == "ok" and v.how.startswith("t-test") and "n=1/3" in v.how
    assert check.gate_accuracy([0.6], [0.4], 30, th).verdict == "REGRESSED"
    # seeds that happen to agree closely do not turn one flipped test image into a regression
    v = check.gate_accuracy([0.90, 0.9033, 0.9067], [26 / 30], 30, th)
    assert v.verdict == "ok" and v.how.startswith("t-test")
    # no spread on the several side: the binomial path on means
    v = check.gate_accuracy([0.9, 0.9, 0.9], [0.55], 30, th)
    assert v.verdict == "REGRESSED" and v.how.startswith("binomial") and "n=3/1" in v.how
    # the same for loss
    assert check.gate_loss([0.24], [0.45, 0.2, 0.66], th).verdict == "ok"
    assert check.gate_loss([0.40, 0.41, 0.42], [0.60], th).verdict == "REGRESSED"


def test_each_metric_carries_its_gate():
    """The gate is the metric's own (no choice by name); its tolerance is a [tool.flowers.check] key."""
    th = check.Thresholds()
    for metric in check.METRICS.values():
        assert metric.tolerance in check.THRESHOLD_KEYS
        assert check.ALIASES[metric.key] == check.ALIASES[metric.name] == metric.name
        worse = [0.5] if metric.higher_is_better else [2.0]
        assert metric.gate([1.0], worse, th, 1000).verdict == "REGRESSED"
        assert metric.gate([1.0], [1.0], th, 1000).verdict == "ok"
    assert check.ALIASES["throughput"] == "time"
    assert check.gate_throughput([100.0], [80.0], th) == check.METRICS["time"].gate([100.0], [80.0], th)


def test_machine_fields_name_what_machine_key_holds(tmp_path):
    run = load_run(write(tmp_path, "a.json", standard(node="runner-9", device="gpu: H100")))
    assert run.machine_fields == {"node": "runner-9", "machine": "x86_64", "cpu": "AMD EPYC 7763", "device": "gpu: H100"}
    assert run.machine_key == tuple(run.machine_fields.values())
    other = load_run(write(tmp_path, "b.json", standard(node="runner-1", device="gpu: H100")))
    assert check.machine_difference(run, other) == "different machine: node runner-9!=runner-1"


def test_three_seed_run_against_one_seed_baseline_shows_the_t_test(tmp_path, flowers):
    base = write(tmp_path, "base.json", standard(seeds=1))
    cur = write(tmp_path, "cur.json", standard(seeds=3))
    code, out, _ = flowers(base, cur, "--metrics", "accuracy")
    assert code == 0, out
    assert out.count("t-test p=") == len(VARIANTS) and "n=1/3" in out


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
    run = standard()
    lowered = copy.deepcopy(run)
    for b in lowered["benchmarks"]:
        b["extra_info"]["test_accuracy"] -= 0.3
    code, out, _ = flowers(write(tmp_path, "out.json", run), write(tmp_path, "low.json", lowered))
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert all(v in last for v in VARIANTS)
    assert out.count("REGRESSED") == len(VARIANTS)


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
    base = write(tmp_path, "base.json", standard(seeds=3, variants=v))
    cur = write(tmp_path, "cur.json", standard(seeds=3, variants=v, acc_shift=-0.1))
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
        ("[tool.flowers.check]\nalpha = 1.5\n", "out of range"),
        ("[tool.flowers.check]\nloss_tolerance = 'ten'\n", "must be a number"),
        ("[tool.flowers.check.variants.basic_cnn]\nalpha = true\n", "must be a number"),
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
    assert check.Thresholds() == check.Thresholds(0.02, 2.0, 0.10, 0.15, 0.05, 2.0)


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
    first = write(tmp_path, "first.json", standard())
    code, out, _ = flowers("--update-baseline", target, first)
    assert code == 0 and target.read_bytes() == first.read_bytes()
    assert "git add" in out
    second = write(tmp_path, "second.json", standard(acc_shift=-0.3))
    code, out, _ = flowers("--update-baseline", target, second)
    assert code == 0, out
    assert target.read_bytes() == second.read_bytes()
    assert "REGRESSED" in out  # shows what the update changes, but replaces on purpose
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("problem", ["failed", "interrupted", "profile", "unusable"])
def test_update_baseline_refuses_bad_runs(tmp_path, flowers, problem):
    target = write(tmp_path, "smoke-cpu.json", standard())
    before = target.read_bytes()
    if problem == "failed":
        cur = make_run(standard()["benchmarks"][:-1] + [make_case(VARIANTS[-1], status="failed", error="x")])
    elif problem == "interrupted":
        cur = standard(complete=False)
    elif problem == "profile":
        cur = standard(profile="paper")
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
    cur = write(tmp_path, "cur.json", standard())
    code, out, _ = flowers("--update-baseline", target, cur)
    assert code == 0 and "old baseline is unusable" in out
    assert json.loads(target.read_text()) == standard()


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
