"""``flowers report A B [C ...]``: the comparison view (each run's scores side by side, the difference
from a reference with its interval and a verdict in words, what the seeds can resolve), every run's
learning curves together, ``--reference``, and the effect statistics behind it (flowers/effects.py).

Runs are crafted by tests/factory.py; the real smoke runs are at the end, marked slow.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from pathlib import Path

import pytest

from flowers import cli, effects
from flowers.effects import ACCURACY, LOSS, THROUGHPUT
from flowers.resultedit import edit, slower
from tests import suite
from tests.factory import seeded, write

A = {"basic_cnn": [1.0, 0.98, 1.0]}
A_LOSS = {"basic_cnn": [0.0308, 0.0915, 0.0331]}
B = {"basic_cnn": [0.54, 0.72, 0.74]}  # one epoch instead of eight
B_LOSS = {"basic_cnn": [1.381, 1.296, 1.284]}
C = {"basic_cnn": [0.98, 1.0, 1.0]}
C_LOSS = {"basic_cnn": [0.0754, 0.0287, 0.0269]}


def run(accs, losses, when, **kw) -> dict:
    data = seeded(accs, losses, n_test=50, when=when, **kw)
    return edit(data, config=lambda config: dict(config, epochs=1 if accs is B else 8))


def report(tmp_path: Path, *paths, options=()) -> str:
    out = tmp_path / "out"
    assert cli.main(["report", *map(str, paths), "-o", str(out), "-q", *options]) == 0
    return (out / "report.md").read_text()


def section(md: str, heading: str, level: str = "##") -> str:
    return md.split(f"\n{level} {heading}\n")[1].split(f"\n{level} ")[0]


def row(md: str, table: str, variant: str = "basic_cnn") -> list[str]:
    """The cells of ``variant``'s row in the comparison view's table ``table`` ("Test accuracy"...)."""
    text = section(section(md, "Comparison"), table, "###")
    (line,) = [line for line in text.splitlines() if line.startswith(f"| {variant} |")]
    return [cell.strip() for cell in line.strip("|").split(" | ")]


@pytest.fixture
def ab(tmp_path):
    a = write(tmp_path, "a.json", run(A, A_LOSS, "2026-12-01T10:00:00"))
    b = write(tmp_path, "b.json", run(B, B_LOSS, "2026-12-01T11:00:00"))
    return a, b


def test_two_runs_side_by_side_with_the_difference_its_interval_and_a_verdict(tmp_path, ab):
    md = report(tmp_path, *ab)
    assert md.index("## Comparison") < md.index("## Results")  # the view leads
    acc = row(md, "Test accuracy")
    mean_a, mean_b = statistics.fmean(A["basic_cnn"]), statistics.fmean(B["basic_cnn"])
    assert acc[1].startswith(f"**{mean_a:.4f}** [")  # the best run, bold
    assert acc[2].startswith(f"{mean_b:.4f} [")
    diff, low, high, verdict = re.fullmatch(
        r"([-+]\d\.\d{4}) \[([-+]\d\.\d{3}), ([-+]\d\.\d{3})\] (.*)", acc[3]
    ).groups()
    assert float(diff) == pytest.approx(mean_b - mean_a, abs=1e-4)
    assert float(low) < float(diff) < float(high) < 0 and verdict == "**worse**"
    assert re.fullmatch(
        r"with 3 seeds per run, a drop below 0\.\d+ cannot be told from noise; about \d+ seeds per run "
        r"would resolve a drop of 0\.02",
        acc[4],
    ), acc[4]
    loss = row(md, "Test loss")
    assert loss[1].startswith("**0.0518**") and loss[3].endswith("**worse**")
    assert "changed from #1: **epochs** 8 → 1" in md


def test_an_unchanged_run_shows_no_difference(tmp_path, ab):
    c = write(tmp_path, "c.json", run(C, C_LOSS, "2026-12-01T12:00:00"))
    md = report(tmp_path, ab[0], c)
    for table in ("Test accuracy", "Test loss", "Training throughput (images/s)"):
        assert row(md, table)[3].endswith("no difference shown"), row(md, table)


def test_every_runs_learning_curves_together(tmp_path, ab):
    md = report(tmp_path, *ab)
    curves = section(md, "Learning curves")
    assert "### basic_cnn: runs #1, #2 (mean of 3/3 seeds, band: their range)" in curves
    assert "a colour per run, training solid, validation dashed" in curves
    figures = re.findall(r"!\[Learning curves of basic_cnn, runs #1, #2\]\((fig-[0-9a-f]{16}\.png)\)", curves)
    assert len(figures) == 1 and (tmp_path / "out" / figures[0]).stat().st_size > 10_000
    results = section(md, "Results")  # every run compared, not only the newest
    assert [line.split(" | ")[0] for line in results.splitlines() if line.startswith("| basic_cnn")] == [
        "| basic_cnn #1 (model 1)",
        "| basic_cnn #2 (model 1)",
    ]


def test_throughput_is_compared_only_on_one_kind_of_machine(tmp_path, ab):
    other = write(tmp_path, "gpu.json", run(C, C_LOSS, "2026-12-01T12:00:00", device="gpu: NVIDIA H100"))
    md = report(tmp_path, ab[0], other)
    assert "Compared only between runs on one kind of machine" in section(md, "Comparison")
    speed = row(md, "Training throughput (images/s)")
    assert speed[3] == "(another kind of machine: not compared)" and "**" not in speed[1] + speed[2]
    assert row(md, "Test accuracy")[3].endswith("no difference shown")  # scores are compared whatever the machine


def test_reference_by_number_or_file(tmp_path, ab):
    a, b = ab
    md = report(tmp_path, a, b, options=("--reference", "2"))
    assert "- **#2** (reference)" in md and "| #1 − #2 |" in md
    assert row(md, "Test accuracy")[3].startswith("+0.3267")
    other = tmp_path / "elsewhere" / "b.json"
    other.parent.mkdir()
    other.write_text(b.read_text())
    md = report(tmp_path, a, options=("--reference", str(other)))  # a file not among RESULTS is added
    assert "- **#2** (reference): b.json" in md


def test_a_reference_out_of_range_exits_2_in_one_line(tmp_path, ab, capsys):
    assert cli.main(["report", *map(str, ab), "-o", str(tmp_path / "o"), "--reference", "3"]) == 2
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert "--reference 3: profile smoke has runs #1 to #2" in err and not (tmp_path / "o").exists()


def test_history_cells_carry_intervals_never_narrower_than_the_binomial_noise(tmp_path):
    one = write(tmp_path, "one.json", run({"basic_cnn": [1.0]}, {"basic_cnn": [0.03]}, "2026-12-01T10:00:00"))
    two = write(tmp_path, "two.json", run({"basic_cnn": [0.98]}, {"basic_cnn": [0.05]}, "2026-12-01T11:00:00"))
    history = section(report(tmp_path, one, two), "History")
    low, _ = effects.binomial_interval(1.0, 50)
    assert f"| 1.0000 [{low:.3f}, 1.000] · 0.0300 · 3.1 s |" in history and low < 0.98  # one image is no cliff
    assert effects.binomial_interval(1.0, 50)[0] < 0.98 < 1.0


# ------------------------------------------------------------------------------------------
# flowers/effects.py
# ------------------------------------------------------------------------------------------


def test_welch_interval_matches_scipy_on_the_scale():
    from scipy import stats

    a, b = [0.41, 0.45, 0.38, 0.50], [0.60, 0.52, 0.66]
    ra, rb = effects.summarise(LOSS, a), effects.summarise(LOSS, b)
    e = effects.effect(LOSS, ra, rb, 0.1, True)
    la, lb = [math.log(v + effects.LOSS_OFFSET) for v in a], [math.log(v + effects.LOSS_OFFSET) for v in b]
    test = stats.ttest_ind(lb, la, equal_var=False)
    se = (statistics.fmean(lb) - statistics.fmean(la)) / test.statistic  # Welch's standard error and df
    half = se * stats.t.ppf(0.975, test.df)
    low = math.exp(ra.centre + rb.centre - ra.centre - half) - effects.LOSS_OFFSET - statistics.fmean(a)
    assert e.low == pytest.approx(low, rel=1e-6) and e.diff == pytest.approx(statistics.fmean(b) - statistics.fmean(a))
    assert e.verdict == ("worse" if test.pvalue < 0.05 else "no difference shown")


def test_a_loss_near_zero_is_not_a_large_change():
    e = effects.effect(LOSS, effects.summarise(LOSS, [2e-5] * 3), effects.summarise(LOSS, [5e-5] * 3), 0.1, True)
    assert abs(e.diff) < 1e-4 and e.high is not None and e.high < 1e-3


def test_seeds_needed_and_the_resolution_shrink_with_seeds():
    few = effects.effect(ACCURACY, *(effects.summarise(ACCURACY, A["basic_cnn"], 50),) * 2, 0.02)
    many = effects.effect(ACCURACY, *(effects.summarise(ACCURACY, A["basic_cnn"] * 4, 50),) * 2, 0.02)
    assert few.needed == many.needed and 5 < few.needed < 40  # needed depends on the noise, not the seeds at hand
    assert many.resolution < few.resolution
    # the normal-approximation sample size: 2 (1.96 + 0.84)^2 (sd / delta)^2
    assert effects.seeds_needed(0.0707, 0.081) == math.ceil(2 * ((1.959964 + 0.841621) * 0.0707 / 0.081) ** 2)


def test_one_seed_each_has_no_loss_interval_and_a_binomial_one_for_accuracy():
    loss = effects.effect(LOSS, effects.summarise(LOSS, [0.3]), effects.summarise(LOSS, [0.5]), 0.1, True)
    assert loss.verdict == "cannot tell" and loss.low is None
    acc = effects.effect(ACCURACY, effects.summarise(ACCURACY, [0.9], 50), effects.summarise(ACCURACY, [0.5], 50), 0.02)
    assert acc.verdict == "worse" and "test split's noise only" in acc.note


def test_throughput_differences_are_ratios():
    e = effects.effect(
        THROUGHPUT,
        effects.summarise(THROUGHPUT, [100, 110, 90]),
        effects.summarise(THROUGHPUT, [50, 55, 45]),
        0.15,
        True,
    )
    assert e.diff == pytest.approx(-0.5) and e.verdict == "worse" and -1 < e.low < e.high < 0


# ------------------------------------------------------------------------------------------
# Real smoke runs
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Three seeds of basic_cnn on the smoke profile: as it is (A), trained one epoch (B), as it is again (C)."""
    folder = tmp_path_factory.mktemp("ab")
    made = {}
    for name, extra in (("a", ()), ("b", ("--epochs", "1")), ("c", ())):
        out = folder / f"{name}.json"
        proc = suite.run("--profile", "smoke", "-k", "basic_cnn", "--seeds", "3", *extra, "--benchmark-json", out)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        made[name] = out
    return made


@pytest.mark.slow
def test_real_runs_side_by_side_in_the_report(smoke_runs, tmp_path):
    md = report(tmp_path, smoke_runs["a"], smoke_runs["b"])
    accs = {
        name: statistics.fmean(
            b["extra_info"]["test_accuracy"] for b in json.loads(smoke_runs[name].read_text())["benchmarks"]
        )
        for name in ("a", "b")
    }
    assert accs["a"] > 0.8 > accs["b"] + 0.05  # A learned; one epoch did not get as far
    acc = row(md, "Test accuracy")
    assert f"{accs['a']:.4f}" in acc[1] and f"{accs['b']:.4f}" in acc[2]
    assert acc[3].startswith(f"{accs['b'] - accs['a']:+.4f} [") and acc[3].endswith("**worse**")
    assert "### basic_cnn: runs #1, #2" in section(md, "Learning curves")


@pytest.mark.slow
def test_real_runs_checked_a_worse_run_fails_an_unchanged_one_passes(smoke_runs):
    worse = suite.flowers("check", smoke_runs["a"], smoke_runs["b"])
    assert worse.returncode == 1, worse.stdout
    # the scores fail on their own, beside the changed setting (epochs 8 -> 1) that explains them
    assert worse.stdout.rstrip().splitlines()[-1] == "FAIL: 1 changed, 1 regressed of 1 variant: basic_cnn"
    assert re.search(r"^basic_cnn +test_accuracy .* REGRESSED ", worse.stdout, re.M), worse.stdout
    assert re.search(r"^basic_cnn +config epochs +CHANGED +config epochs 8 → 1$", worse.stdout, re.M)
    same = suite.flowers("check", smoke_runs["a"], smoke_runs["c"])
    assert same.returncode == 0, same.stdout
    assert same.stdout.startswith("few seeds (baseline 3, current 3 per variant)")


@pytest.mark.slow
def test_a_real_one_seed_run_against_itself_30_percent_slower_passes(smoke_runs, tmp_path):
    data = json.loads(smoke_runs["a"].read_text())
    data["benchmarks"] = data["benchmarks"][:1]
    data["flowers"]["cases"] = data["flowers"]["cases"][:1]
    one = write(tmp_path, "one.json", data)
    proc = suite.flowers("check", one, write(tmp_path, "slower.json", slower(data, 1 / 0.7)))
    assert proc.returncode == 0 and "PASS" in proc.stdout, proc.stdout
