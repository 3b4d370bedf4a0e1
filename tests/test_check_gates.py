"""``flowers check``'s gates: noise measured from the baseline's seeds, worst seeds, time figures
chosen by the baseline, machines compared case by case, the false-alarm budget, and --calibrate.

Each regression scripts/crafted_regressions.py crafts from the committed baseline has a test here that
fails it with exit 1 naming the variant.
"""

from __future__ import annotations

import copy
import importlib
import math
import statistics

import pytest

from flowers import check
from flowers.effects import LOSS_OFFSET
from flowers.resultedit import edit
from flowers.results import load_run
from tests.factory import ROOT, VARIANTS, compared, make_run, rows, seeded, standard, write

# Ten seeds of resnet50v2_finetune on the smoke profile swing like this between seeds (and CPUs).
SWINGY = [0.767, 0.733, 0.700, 0.800, 0.667, 0.733, 0.767, 0.700, 0.633, 0.733]


pytestmark = pytest.mark.usefixtures("away_from_repo")  # no pyproject.toml upwards: the built-in defaults


# ------------------------------------------------------------------------------------------
# Accuracy and loss: the baseline's own noise
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seeds", [1, 10])
def test_unchanged_run_passes(tmp_path, check_cli, seeds):
    run = standard(seeds=seeds)
    code, out, err = check_cli(write(tmp_path, "a.json", run), write(tmp_path, "b.json", run))
    assert code == 0 and err == "", out
    assert out.rstrip().splitlines()[-1] == f"PASS: nothing regressed in {len(VARIANTS)} variants"


def test_a_swingy_variant_gets_a_wide_limit_and_a_steady_one_a_tight_one(tmp_path):
    steady = [0.90 + 0.004 * (s % 3) for s in range(10)]
    base = seeded({"basic_cnn": steady, "resnet50v2_finetune": SWINGY}, n_test=1000)
    cur = seeded({"basic_cnn": [0.85], "resnet50v2_finetune": [0.60]}, n_test=1000)
    comp = compared(tmp_path, base, cur, metrics=["accuracy"])
    tight, wide = rows(comp, "basic_cnn")[0], rows(comp, "resnet50v2_finetune")[0]
    assert tight.verdict == "REGRESSED" and wide.verdict == "ok"
    assert tight.detectable < 0.05 < 0.12 < wide.detectable
    assert "seeds sd=" in wide.how and "(n=10)" in wide.how


def test_another_cpus_trajectory_is_not_a_regression(tmp_path):
    """The same smoke case trains differently on another CPU: resnet50v2_finetune 0.767 on an Intel Xeon,
    0.600 on an AMD EPYC, and a check between them is no regression."""
    base = seeded({"resnet50v2_finetune": SWINGY})
    assert compared(tmp_path, base, seeded({"resnet50v2_finetune": [0.600]})).regressed is False
    assert compared(tmp_path, base, seeded({"resnet50v2_finetune": [0.300]})).regressed is True


def test_binomial_floor_when_the_seeds_agree(tmp_path):
    """Seeds that agree exactly do not make a 30-image test set exact: one flipped image is not a regression."""
    base = seeded({"basic_cnn": [1.0] * 10})
    (row,) = compared(tmp_path, base, seeded({"basic_cnn": [29 / 30]}), metrics=["accuracy"]).rows
    assert row.verdict == "ok" and "binomial sd=0.091 (n_test=30) > seeds sd=0 (n=10)" in row.how
    (row,) = compared(tmp_path, base, seeded({"basic_cnn": [25 / 30]}), metrics=["accuracy"]).rows
    assert row.verdict == "REGRESSED"


def test_tolerance_is_a_floor_whatever_the_noise(tmp_path):
    base = seeded({"basic_cnn": [0.90] * 10}, n_test=10**6)
    (row,) = compared(tmp_path, base, seeded({"basic_cnn": [0.885]}, n_test=10**6), metrics=["accuracy"]).rows
    assert row.verdict == "ok" and row.threshold == "drop>0.02" and "tolerance drop>0.02" in row.how


def test_partial_collapse_of_seeds_is_caught(tmp_path, check_cli):
    """Two seeds of three collapse: 0.9, 0.933, 0.9 -> 0.6, 0.933, 0.6 (a t-test gives p = 0.106), against a
    baseline of ten seeds like the first three.  Against those three alone the few-seed rule lets it
    pass, and says so first: on 30 test images, three seeds cannot tell it from a variant whose
    seeds have a long tail, as smoke vgg16_transfer's do (docs/check.md)."""
    ten = [0.9, 0.933, 0.9, 0.867, 0.9, 0.933, 0.9, 0.933, 0.867, 0.9]
    base = write(tmp_path, "base.json", seeded({"basic_cnn": ten}))
    cur = write(tmp_path, "cur.json", seeded({"basic_cnn": [0.6, 0.933, 0.6]}))
    code, out, _ = check_cli(base, cur, "--metrics", "accuracy")
    assert code == 1 and "FAIL: 1 regressed of 1 variant: basic_cnn" in out
    three = write(tmp_path, "three.json", seeded({"basic_cnn": ten[:3]}))
    code, out, _ = check_cli(three, cur, "--metrics", "accuracy")
    assert code == 0 and out.startswith("few seeds (baseline 3, current 3 per variant): this check flags")


def test_one_collapsed_seed_of_ten_is_caught_by_the_worst_seed(tmp_path):
    """A mean that moves within the noise still fails when one seed falls far outside it."""
    base_values = [0.86, 0.90, 0.93, 0.88, 0.91, 0.95, 0.87, 0.89, 0.92, 0.90]
    base = seeded({"basic_cnn": base_values}, n_test=300)
    collapsed = seeded({"basic_cnn": [0.60, *base_values[1:]]}, n_test=300)
    (row,) = compared(tmp_path, base, collapsed, metrics=["accuracy"]).rows
    assert row.verdict == "REGRESSED" and row.how.startswith("worst seed 0.6000 is beyond it")
    assert -float(row.change) < row.detectable  # the mean alone would have passed
    (row,) = compared(tmp_path, base, seeded({"basic_cnn": base_values[::-1]}, n_test=300), metrics=["accuracy"]).rows
    assert row.verdict == "ok"


@pytest.mark.parametrize("metric, key, worse", [("accuracy", "test_accuracy", -1), ("loss", "test_loss", +1)])
def test_the_threshold_is_the_smallest_change_flagged(tmp_path, metric, key, worse):
    base = seeded({"basic_cnn": SWINGY}, losses={"basic_cnn": [0.5 + 0.02 * i for i in range(10)]})
    values = [c.metric(key) for c in load_run(write(tmp_path, "base.json", base)).cases]
    # accuracy is judged on its mean, loss around the mean of log(loss + 0.01)
    mean = statistics.fmean(values)
    if metric == "loss":
        mean = math.exp(statistics.fmean(math.log(v + LOSS_OFFSET) for v in values)) - LOSS_OFFSET
    limit = compared(tmp_path, base, seeded({"basic_cnn": [0.7]}), metrics=[metric]).rows[0].detectable
    for factor, verdict in [(0.99, "ok"), (1.01, "REGRESSED")]:
        value = mean + worse * limit * factor
        cur = (
            seeded({"basic_cnn": [0.7]}, losses={"basic_cnn": [value]})
            if metric == "loss"
            else seeded({"basic_cnn": [value]})
        )
        assert compared(tmp_path, base, cur, metrics=[metric]).rows[0].verdict == verdict


def test_loss_is_judged_in_the_worse_direction_and_shown_as_a_difference(tmp_path):
    base = seeded({"basic_cnn": [0.9] * 10}, losses={"basic_cnn": [0.40, 0.42, 0.41, 0.43, 0.39] * 2})

    def verdict(loss):
        return compared(
            tmp_path, base, seeded({"basic_cnn": [0.9]}, losses={"basic_cnn": [loss]}), metrics=["loss"]
        ).rows[0]

    assert verdict(0.41).verdict == "ok"
    assert verdict(0.60).verdict == "REGRESSED" and verdict(0.60).change == "+0.1900"
    assert verdict(0.25).verdict == "improved"


@pytest.mark.parametrize("seeds", [1, 3, 10])
def test_a_loss_near_zero_is_not_a_large_ratio(tmp_path, seeds):
    """0.00002 -> 0.00005 is "+150%" on a plain log scale; on log(loss + 0.01) it is noise."""
    base = seeded({"basic_cnn": [1.0] * seeds}, losses={"basic_cnn": [0.00002] * seeds})
    cur = seeded({"basic_cnn": [1.0] * seeds}, losses={"basic_cnn": [0.00005] * seeds})
    (row,) = compared(tmp_path, base, cur, metrics=["loss"]).rows
    assert row.verdict == "ok" and row.change == "+0.0000"
    worse = seeded({"basic_cnn": [0.6] * seeds}, losses={"basic_cnn": [1.2] * seeds})
    assert compared(tmp_path, base, worse, metrics=["loss"]).rows[0].verdict == "REGRESSED"


# ------------------------------------------------------------------------------------------
# Throughput: a slowdown cannot hide
# ------------------------------------------------------------------------------------------


def timed(run, factor=1.0, steps=(1.0, 0.1, 0.1, 0.1), train=1.8, wall=2.5):
    """Every ok case timed like the smoke profile's small variants: epochs 2+ over 0.3 s, training
    1.8 s, the whole case 2.5 s; ``factor`` slows everything down."""
    return edit(
        run,
        epoch_step_seconds=[s * factor for s in steps],
        train_seconds=train * factor,
        wall_seconds=wall * factor,
        steady_images_per_second=480.0 / factor,
        train_images_per_second=400.0 / factor,
    )


def test_twenty_times_slower_small_variant_is_caught(tmp_path, check_cli):
    """Short steady epochs fall back to a figure the baseline timed long enough: here the whole case."""
    base = write(tmp_path, "base.json", timed(standard(seeds=3)))
    cur = write(tmp_path, "cur.json", timed(standard(), factor=20))
    code, out, _ = check_cli(base, cur, "--metrics", "time")
    assert code == 1, out
    comp = check.compare(load_run(base), load_run(cur), metrics=["time"])
    assert {(r.metric, r.verdict, r.change) for r in comp.rows} == {("case_images_per_second", "REGRESSED", "-95.0%")}


def test_a_slower_current_run_cannot_switch_its_own_gate_off(tmp_path):
    """The figure is chosen by the baseline's timing alone: steady epochs timed over 3 s there."""
    base = timed(standard(seeds=3), steps=(1.0, 1.5, 1.5))
    comp = compared(tmp_path, base, timed(standard(), factor=0.1, steps=(1.0, 1.5, 1.5)), metrics=["time"])
    assert {(r.metric, r.verdict) for r in comp.rows} == {("steady_images_per_second", "improved")}
    comp = compared(tmp_path, base, timed(standard(), factor=10, steps=(1.0, 1.5, 1.5)), metrics=["time"])
    assert {(r.metric, r.verdict) for r in comp.rows} == {("steady_images_per_second", "REGRESSED")}


def test_a_briefly_timed_figure_is_gated_against_a_large_fall_only(tmp_path, check_cli):
    """Under min_timed_seconds a timing moves 2-3x between sessions: a 4x slowdown counts, 2.5x does not."""
    base = write(tmp_path, "base.json", timed(standard(seeds=3), train=0.5, wall=0.8))
    for factor, code_wanted in ((2.5, 0), (5, 1)):
        cur = write(tmp_path, "cur.json", timed(standard(), factor=factor, train=0.5, wall=0.8))
        code, out, _ = check_cli(base, cur, "--metrics", "accuracy,time")
        assert code == code_wanted, out
        assert "timed briefly: 0.80s in the baseline, under min_timed_seconds=2" in out
        assert "tolerance fall>75%" in out and "skipped" not in out


def merged(run, cpus):
    """``run`` as ``flowers merge`` writes it: each case keeps its part's machine_info (own host names)."""
    run = copy.deepcopy(run)
    for i, bench in enumerate(run["benchmarks"]):
        machine = copy.deepcopy(run["machine_info"])
        machine["node"] = f"gpu-runner-{i}"
        machine["cpu"]["brand_raw"] = cpus[i % len(cpus)]
        bench["extra_info"]["machine_info"] = machine
    run["machine_info"]["node"] = " + ".join(f"gpu-runner-{i}" for i in range(len(run["benchmarks"])))
    return run


def test_merged_parts_are_compared_case_by_case(tmp_path):
    """Nightly GPU shards: every part on a runner of its own name, the same kind of machine."""
    base = merged(standard(), ["EPYC 7763"])
    cur = merged(standard(ips_factor=0.1), ["EPYC 7763"])
    assert {r.verdict for r in compared(tmp_path, base, cur, metrics=["time"]).rows} == {"REGRESSED"}
    cur = merged(standard(ips_factor=0.1), ["EPYC 7763", "Xeon 8480"])  # every other case on another CPU
    verdicts = {r.variant: r.verdict for r in compared(tmp_path, base, cur, metrics=["time"]).rows}
    assert verdicts == {
        "basic_cnn": "REGRESSED",
        "vgg16_transfer": "UNDECIDED",
        "resnet50v2_finetune": "REGRESSED",
        "resnet50v2_finetune_aug": "UNDECIDED",
    }


def test_the_host_name_is_not_the_machine_but_the_cpu_model_and_cores_are(tmp_path):
    base = standard(node="runner-1")
    assert {
        r.verdict for r in compared(tmp_path, base, standard(ips_factor=0.1, node="runner-7"), metrics=["time"]).rows
    } == {"REGRESSED"}
    other = standard(ips_factor=0.5)
    other["machine_info"]["cpu"].update(family=25, model=17)
    assert {r.how.split(":")[0] for r in compared(tmp_path, base, other, metrics=["time"]).rows} == {
        "different machine"
    }
    fewer = standard(ips_factor=0.5)
    for run in (base, fewer):
        run["machine_info"]["flowers"]["cores"] = 2 if run is base else 1
    assert {r.how for r in compared(tmp_path, base, fewer, metrics=["time"]).rows} == {
        "different machine: cores 2!=1; compare runs made on one kind of machine, or leave time out of --metrics"
    }


def test_a_time_gate_between_devices_is_undecided_and_fails_naming_the_fix(tmp_path, check_cli):
    """A gate the user asked for that cannot decide is not a pass."""
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(ips_factor=0.5, device="gpu: NVIDIA H100"))
    code, out, _ = check_cli(base, cur, "--metrics", "accuracy,loss,time")
    assert code == 1
    n = len(VARIANTS)
    assert out.rstrip().splitlines()[-1] == (
        f"FAIL: {n} undecided of {n} variants: {', '.join(sorted(VARIANTS))}; {n} of {3 * n} gates undecided "
        f"({n} different machine): compare runs made on one kind of machine, or leave time out of --metrics"
    )
    assert check_cli(base, cur, "--metrics", "accuracy,loss")[0] == 0


def test_time_is_gated_only_when_asked(tmp_path, check_cli, monkeypatch):
    """A 1-seed run against itself, 30% slower: plain ``flowers check`` gates accuracy and loss only."""
    base = write(tmp_path, "base.json", standard())
    slower = write(tmp_path, "slower.json", edit(standard(), train_images_per_second=154.8 * 0.7))
    code, out, _ = check_cli(base, slower)
    assert code == 0, out
    assert "gates:    test_accuracy, test_loss (not checked: train_images_per_second)" in out
    assert "images_per_second  " not in out  # no time row
    write(tmp_path, "pyproject.toml", '[tool.flowers.check]\nmetrics = ["accuracy", "loss", "time"]\n')
    code, out, _ = check_cli(base, write(tmp_path, "tenth.json", standard(ips_factor=0.1)))
    assert code == 1 and "train_images_per_second  " in out and "REGRESSED" in out


# ------------------------------------------------------------------------------------------
# The false-alarm budget, and the gate measuring itself
# ------------------------------------------------------------------------------------------


def test_the_false_alarm_budget_is_split_over_the_gates_that_decide(tmp_path):
    run = standard(seeds=10)
    assert {r.how.split("alpha=")[1][:6] for r in compared(tmp_path, run, run, metrics=["accuracy"]).rows} == {"0.0025"}
    other = standard(seeds=10, device="gpu: NVIDIA H100")  # time cannot decide: 8 gates share 0.02
    assert {r.how.split("alpha=")[1][:6] for r in compared(tmp_path, run, other).rows if r.verdict != "UNDECIDED"} == {
        "0.0013"
    }


def test_each_metric_carries_its_gate():
    th = check.Thresholds()
    for metric in check.METRICS.values():
        assert metric.tolerance in check.THRESHOLD_KEYS
        assert check.ALIASES[metric.key] == check.ALIASES[metric.name] == metric.name
        worse = [0.5] if metric.higher_is_better else [2.0]
        assert metric.gate([1.0] * 5, worse, th, 1000).verdict == "REGRESSED"
        assert metric.gate([1.0] * 5, [1.0], th, 1000).verdict == "ok"
    assert check.ALIASES["throughput"] == check.ALIASES["steady_images_per_second"] == "time"


def test_calibrate_counts_false_alarms_of_a_b_comparisons(tmp_path, check_cli):
    """Nine seeds that agree and one far off: leaving that one out flags it, and only it."""
    values = [0.90, 0.91, 0.89, 0.90, 0.91, 0.89, 0.90, 0.91, 0.89, 0.40]
    run = write(tmp_path, "run.json", seeded({"basic_cnn": values}, n_test=1000))
    code, out, err = check_cli("--calibrate", run, "--metrics", "accuracy")
    assert code == 0, err
    line = next(line for line in out.splitlines() if "leave one seed out" in line)
    assert line.split("failed")[0].split() == ["1", "of", "10"] and "basic_cnn test_accuracy x1" in line
    assert "smallest change flagged" in out and "basic_cnn" in out.split("smallest change flagged")[1]


def test_calibrate_across_machines_and_its_bound(tmp_path, check_cli):
    a = write(tmp_path, "a.json", seeded({"resnet50v2_finetune": SWINGY}))
    b = write(tmp_path, "b.json", seeded({"resnet50v2_finetune": [0.6]}, device="cpu: another"))
    code, out, _ = check_cli("--calibrate", a, b, "--metrics", "accuracy")
    assert code == 0
    assert f"baseline {a}, one seed of {b}" in out
    assert check.calibrate.upper_bound(0, 150) == pytest.approx(0.0198, abs=1e-3)  # 150 clean runs: rate < 2%


def test_calibrate_plays_runs_against_each_other_on_the_variants_they_share(tmp_path, check_cli):
    both = write(tmp_path, "both.json", seeded({"basic_cnn": [0.9, 0.93, 0.87], "resnet50v2_finetune": SWINGY[:3]}))
    resnet = write(tmp_path, "resnet.json", seeded({"resnet50v2_finetune": SWINGY[3:6]}, device="cpu: another"))
    cnn = write(tmp_path, "cnn.json", seeded({"basic_cnn": [0.2, 0.2, 0.2]}, device="cpu: another"))
    code, out, _ = check_cli("--calibrate", both, resnet, cnn, "--metrics", "accuracy")
    assert code == 0
    assert f"baseline {resnet}, one seed of {cnn}" not in out  # nothing in common: no comparison to count
    # on the shared variant only: cnn.json's collapse is caught against both.json, resnet.json's absence is not
    assert "failed (100.0%" in next(line for line in out.splitlines() if f"baseline {both}, one seed of {cnn}" in line)
    assert " 0 of   3 failed" in next(
        line for line in out.splitlines() if f"baseline {both}, one seed of {resnet}" in line
    )


def test_calibrate_needs_several_seeds(tmp_path, check_cli):
    code, out, err = check_cli("--calibrate", write(tmp_path, "one.json", standard()))
    assert code == 2 and out == "" and "at least 3 seeds" in err and len(err.splitlines()) == 1


def test_calibrate_takes_no_baseline(tmp_path, check_cli):
    run = write(tmp_path, "run.json", standard(seeds=3))
    code, _, err = check_cli(run, run, "--calibrate", run)
    assert code == 2 and "no BASELINE/CURRENT" in err


def test_a_baseline_of_one_seed_is_named_in_the_rows(tmp_path):
    comp = compared(tmp_path, make_run(standard()["benchmarks"][:1]), make_run(standard()["benchmarks"][:1]))
    assert "few-seed rule (1 baseline seed): prior sd=0.4" in rows(comp, metric="test_loss")[0].how


# ------------------------------------------------------------------------------------------
# On the committed baseline: real seeds, real noise
# ------------------------------------------------------------------------------------------


def test_every_crafted_regression_is_caught_on_the_committed_baseline(capsys):
    crafted = importlib.import_module("scripts.crafted_regressions")
    assert crafted.main([]) == 0, capsys.readouterr().out
    assert "MISSED" not in capsys.readouterr().out


def test_the_committed_baseline_gives_few_false_alarms_in_a_a_comparisons():
    """The gates tox -e check runs (accuracy and loss), played on the baseline's own seeds: the
    false alarms must not be significantly above the 2% budget (one-sided binomial test at 5%).
    The smoke profile's earlier resnet50v2_finetune_aug (2 epochs, one seed in ten far below the
    rest) failed it with 17 of 210; the committed one had 6 of 210."""
    from scipy import stats

    run = load_run(ROOT / "benchmarks" / "baselines" / "smoke-cpu.json")
    tallies = check.calibrate.calibrate([run], check.Config(), ("accuracy", "loss"))
    runs, alarms = sum(t.runs for t in tallies), sum(t.alarms for t in tallies)
    above_budget = stats.binomtest(alarms, runs, 0.02, alternative="greater").pvalue
    assert runs >= 200 and above_budget >= 0.05, check.calibrate.render(tallies, [], 0.02, ("accuracy", "loss"))
