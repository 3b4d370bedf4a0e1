"""``flowers check`` with few seeds: the first line says what the seeds can show, the few-seed rule
keeps limits meaningful with 1-3 seeds, time is gated only when asked, and the rule's false alarms
on the committed baseline's one- and three-seed A/A comparisons stay within the budget.

Runs come from tests/factory.py (crafted) or the committed smoke baseline; nothing here trains.
"""

from __future__ import annotations

import pytest

from flowers import check
from flowers.check import calibrate
from flowers.check.noise import FEW_SEEDS
from flowers.resultedit import edit
from flowers.results import load_run
from tests.factory import BASELINE, compared, rows, seeded, standard, write

pytestmark = pytest.mark.usefixtures("away_from_repo")  # no pyproject.toml upwards: the built-in defaults

# Three seeds of basic_cnn on the smoke profile, as measured: unchanged (A, C), one epoch (B).
A = {"basic_cnn": [1.0, 0.98, 1.0]}
A_LOSS = {"basic_cnn": [0.0308, 0.0915, 0.0331]}
C = {"basic_cnn": [0.98, 1.0, 1.0]}
C_LOSS = {"basic_cnn": [0.0754, 0.0287, 0.0269]}
B = {"basic_cnn": [0.54, 0.72, 0.74]}
B_LOSS = {"basic_cnn": [1.381, 1.296, 1.284]}


def test_a_clearly_worse_three_seed_run_fails_and_an_unchanged_one_passes_saying_how_few(tmp_path, check_cli):
    a = write(tmp_path, "a.json", seeded(A, A_LOSS, n_test=50))
    b = write(tmp_path, "b.json", seeded(B, B_LOSS, n_test=50))
    c = write(tmp_path, "c.json", seeded(C, C_LOSS, n_test=50))
    code, out, _ = check_cli(a, b)
    assert code == 1 and out.rstrip().splitlines()[-1] == "FAIL: 1 regressed of 1 variant: basic_cnn", out
    code, out, _ = check_cli(a, c)
    assert code == 0, out
    first = out.splitlines()[0]
    assert first.startswith("few seeds (baseline 3, current 3 per variant): this check flags test-accuracy drops above")
    assert "seeds per run would catch a drop of 0.05" in first
    assert "too few seeds" not in out and "e+" not in out  # every limit is one a change can reach


def test_one_seed_loss_and_time_noise_passes(tmp_path, check_cli):
    """One seed each: test loss 0.03 -> 0.046 and 25% fewer images/s are seed and timing noise."""
    base = write(tmp_path, "base.json", seeded({"basic_cnn": [1.0]}, {"basic_cnn": [0.030]}, n_test=50))
    cur = seeded({"basic_cnn": [1.0]}, {"basic_cnn": [0.046]}, n_test=50)
    cur = write(tmp_path, "cur.json", edit(cur, train_images_per_second=154.8 * 0.75))
    code, out, _ = check_cli(base, cur)
    assert code == 0, out
    assert out.startswith("few seeds (baseline 1, current 1 per variant)")
    (loss,) = rows(check.compare(load_run(base), load_run(cur)), metric="test_loss")
    assert loss.verdict == "ok" and loss.change == "+0.0160" and "few-seed rule (1 baseline seed)" in loss.how


def test_one_seed_against_itself_with_throughput_30_percent_lower_passes(tmp_path, check_cli):
    run = standard()
    slower = edit(standard(), train_images_per_second=154.8 * 0.7, steady_images_per_second=100.0)
    code, out, _ = check_cli(write(tmp_path, "a.json", run), write(tmp_path, "b.json", slower))
    assert code == 0 and "not checked: train_images_per_second" in out, out


def test_few_seed_limits_are_reachable_and_shrink_with_seeds(tmp_path):
    limits = []
    for seeds in range(1, FEW_SEEDS):
        values, losses = [0.9, 0.933, 0.9, 0.867][:seeds], [0.3, 0.35, 0.28, 0.4][:seeds]
        base = seeded({"basic_cnn": values}, {"basic_cnn": losses}, n_test=50)
        comp = compared(tmp_path, base, seeded({"basic_cnn": values}, {"basic_cnn": losses}, n_test=50))
        for row in comp.rows:
            assert row.threshold and "too few seeds" not in row.threshold and "x" not in row.threshold, row
            assert "few-seed rule" in row.how
        limits.append(rows(comp, metric="test_accuracy")[0].detectable)
    assert limits == sorted(limits, reverse=True) and limits[0] < 0.5 and limits[-1] < 0.2, limits


def test_limits_no_change_can_reach_say_too_few_seeds():
    metric = check.METRICS["loss"]
    assert metric.limit_text(10.0, 0.0) == "too few seeds"
    assert check.METRICS["accuracy"].limit_text(2.0, 1.0) == "too few seeds"
    assert check.METRICS["accuracy"].limit_text(0.2, 1.0).startswith("drop>0.")


def test_enough_seeds_are_named_without_the_few_seed_warning(tmp_path):
    steady = {"seeds": 10, "n_test": 10**4, "spread": 0.002}
    comp = compared(tmp_path, standard(**steady), standard(**steady))
    assert comp.seeds.startswith("seeds (baseline 10, current 10 per variant): this check flags test-accuracy drops")
    assert "would catch" not in comp.seeds


def test_the_seeds_line_comes_first_in_text_and_markdown(tmp_path):
    comp = compared(tmp_path, seeded(A, A_LOSS, n_test=50), seeded(C, C_LOSS, n_test=50))
    assert check.render(comp).splitlines()[0] == comp.seeds
    markdown = check.markdown.render(comp)
    assert markdown.splitlines()[4] == f"- {check.markdown.md_escape(comp.seeds)}"


def test_the_few_seed_rule_keeps_its_false_alarm_budget_on_the_committed_baseline():
    """One seed against one other (every ordered pair) and three against three (200 random
    disjoint draws) of the committed ten-seed baseline, gates accuracy and loss: no more false
    alarms than the 2% budget allows (one-sided binomial test at 5%)."""
    from scipy import stats

    tallies = calibrate.calibrate([load_run(BASELINE)], check.Config(), ("accuracy", "loss"))
    few = [t for t in tallies if t.rule == "few"]
    assert {t.kind.split(": ")[-1] for t in few} == {"1 seed against 1 other", "3 seeds against 3 others"}
    runs, alarms = sum(t.runs for t in few), sum(t.alarms for t in few)
    assert runs == 290
    assert stats.binomtest(alarms, runs, 0.02, alternative="greater").pvalue >= 0.05, [(t.kind, t.alarms) for t in few]


def test_metrics_setting(tmp_path, check_cli):
    base = write(tmp_path, "a.json", standard())
    cur = write(tmp_path, "b.json", standard(ips_factor=0.2))
    assert check_cli(base, cur)[0] == 0
    write(tmp_path, "pyproject.toml", '[tool.flowers.check]\nmetrics = ["accuracy", "time"]\n')
    code, out, _ = check_cli(base, cur)
    assert code == 1 and "gates:    test_accuracy, train_images_per_second (not checked: test_loss)" in out
    assert check_cli(base, cur, "--metrics", "loss")[0] == 0  # the option wins over the setting


@pytest.mark.parametrize(
    "text, message",
    [
        ('metrics = ["accuracy", "speed"]', "unknown metric 'speed' in metrics"),
        ("metrics = 3", "metrics must be a list of gate names"),
        ("metrics = []", "metrics must be a list of gate names"),
        ('[tool.flowers.check.variants.basic_cnn]\nmetrics = ["time"]', "metrics is a setting of the whole check"),
    ],
)
def test_a_bad_metrics_setting_exits_2(tmp_path, check_cli, text, message):
    write(tmp_path, "pyproject.toml", f"[tool.flowers.check]\n{text}\n")
    run = write(tmp_path, "a.json", standard())
    code, out, err = check_cli(run, run)
    assert code == 2 and out == "" and message in err and len(err.splitlines()) == 1
