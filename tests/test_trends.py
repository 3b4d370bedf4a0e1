"""``flowers trends``: steps found by change-point detection against the noise of the seeds, on
simulated nights (scripts/simulate_nights.py) and on small made-up series, and the page that
shows them, each step linking to what changed that night."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from flowers import cli, store
from flowers.effects import binomial_sd as binomial_floor
from flowers.trends.noise import night_sigma, scatter
from flowers.trends.series import Trend
from flowers.trends.steps import detect
from scripts import simulate_nights as sim

NIGHTS = 40


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_simulated_nights_flag_every_injected_step_and_nothing_else(tmp_path, capsys, seed):
    """Accuracy of 3 seeds on the baseline's test split, loss and throughput with 5-8% noise per seed,
    steps injected on known nights (scripts/simulate_nights.py): exit 0 means every step was
    flagged within one night and no other step was."""
    assert sim.main([str(tmp_path / "store"), "--nights", str(NIGHTS), "--seed", str(seed)]) == 0
    out = capsys.readouterr().out
    assert f"{len(sim.STEPS)}/{len(sim.STEPS)} injected steps flagged within one night, 0 missed; 0 false flags" in out


def trend(values, metric="accuracy", n_test=30) -> Trend:
    return Trend("v", metric, metric, [list(map(float, row)) for row in values], n_test)


def binomial_nights(rng, p, nights=100, seeds=3, n_test=30):
    return rng.binomial(n_test, np.broadcast_to(np.asarray(p, float).reshape(-1, 1), (nights, seeds))) / n_test


@pytest.mark.parametrize("seed", range(5))
def test_flat_noisy_nights_have_no_step(seed):
    rng = np.random.default_rng(seed)
    assert detect(trend(binomial_nights(rng, 0.8)), 0.02)[0] == []
    times = 100 * np.exp(rng.normal(0, 0.05, (100, 3)))
    assert detect(trend(times, "time"), 0.15)[0] == []


def test_a_step_is_placed_on_its_night_with_its_levels():
    rng = np.random.default_rng(7)
    p = np.r_[np.full(30, 0.8), np.full(30, 0.55)]
    steps, sigma = detect(trend(binomial_nights(rng, p, nights=60)), 0.02)
    assert [s.night for s in steps] == [30]
    assert steps[0].worse and steps[0].before == pytest.approx(0.8, abs=0.04)
    assert steps[0].change == pytest.approx(-0.25, abs=0.05)
    assert sigma == pytest.approx(binomial_floor(30) / np.sqrt(3), rel=0.35)


def test_a_step_under_the_tolerance_is_not_flagged_however_clear():
    times = np.exp(np.r_[np.zeros(20), np.full(20, np.log(0.9))])[:, None] * np.ones((1, 3)) * 100
    times = times * np.exp(np.random.default_rng(0).normal(0, 0.005, times.shape))
    assert detect(trend(times, "time"), 0.15)[0] == []  # 10% slower: under throughput_tolerance
    steps = detect(trend(times, "time"), 0.05)[0]
    assert [(s.night, s.worse) for s in steps] == [(20, True)] and steps[0].change == pytest.approx(-0.1, abs=0.01)


def test_one_odd_night_is_not_a_step():
    loss = np.full((30, 3), 0.5) * np.exp(np.random.default_rng(1).normal(0, 0.05, (30, 3)))
    loss[15] *= 3
    assert detect(trend(loss, "loss"), 0.10)[0] == []
    loss[15:] *= 3  # from then on: a step (and the odd night before it stays one)
    assert [s.night for s in detect(trend(loss, "loss"), 0.10)[0]] == [15]


def test_identical_seeds_still_have_the_binomial_noise():
    """A CPU gives the same accuracy for every seed and night; one test image more or less is not a step."""
    acc = np.full((40, 3), 24 / 30)
    assert night_sigma(acc.tolist(), "accuracy", 30) == pytest.approx(binomial_floor(30) / np.sqrt(3))
    acc[20:] = 23 / 30
    assert detect(trend(acc), 0.02)[0] == []
    acc[20:] = 18 / 30  # six images: a step
    assert [s.night for s in detect(trend(acc), 0.02)[0]] == [20]


def test_nights_scatter_is_robust_to_a_step():
    rng = np.random.default_rng(3)
    means = np.r_[rng.normal(0, 1, 50), rng.normal(10, 1, 50)]
    assert scatter(means.tolist()) == pytest.approx(1, rel=0.3)


def test_nights_without_the_variant_are_left_out():
    rng = np.random.default_rng(4)
    values = binomial_nights(rng, np.r_[np.full(20, 0.8), np.full(20, 0.5)], nights=40).tolist()
    for i in (5, 19, 20, 33):
        values[i] = []
    steps = detect(trend(values), 0.02)[0]
    assert [s.night for s in steps] in ([21], [18])  # the step lies between nights 18 and 21


# ------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def played(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nights") / "store"
    sim.play(root, 30, seed=5)
    return root


def test_the_page_links_each_step_to_what_changed_that_night(played, tmp_path, capsys):
    out = tmp_path / "site"
    code = cli.main(["trends", str(played), "-o", str(out), "--repo-url", "https://github.com/o/r", "--reports"])
    assert code == 0
    assert re.fullmatch(
        r"flowers trends: 1 series, 30 nights, 5 step\(s\) -> \S+index.html \(\d+\.\d s\)\n", capsys.readouterr().out
    )
    html = (out / "index.html").read_text()
    links = re.findall(r'<a href="#(smoke-cpu-night-\d+)">night #(\d+)</a>', html)
    injected = sorted({n + 1 for nights in sim.step_nights(30).values() for n in nights})  # nights count from #1
    assert sorted({int(n) for _, n in links}) == injected
    for anchor, _ in links:
        assert f'id="{anchor}"' in html
    section = html[html.index(f'id="smoke-cpu-night-{injected[0]}"') :]
    section = section[: section.index("</div>")]
    assert "learning_rate" in section and "0.0001" in section and "0.001" in section  # the injected cause
    assert "https://github.com/o/r/compare/" in section
    figures = re.findall(r'<img src="(fig-[0-9a-f]{16}\.png)"', html)
    assert len(figures) == 5 and all((out / f).stat().st_size > 10_000 for f in figures)
    assert '<a href="smoke-cpu/report.html">' in html and (out / "smoke-cpu" / "report.html").exists()


def test_an_unreadable_night_is_skipped_with_a_warning(played, tmp_path, capsys):
    copy = tmp_path / "store"
    store.add(copy, sorted((played / "smoke-cpu").glob("*.json"))[:8])
    broken = copy / "smoke-cpu" / "20260201T021700Z_0000000000.json"
    broken.write_text("{")
    assert cli.main(["trends", str(copy), "-o", str(tmp_path / "site"), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"warning: skipped {broken}" in err


def test_an_empty_store_is_an_error(tmp_path, capsys):
    (tmp_path / "store").mkdir()
    assert cli.main(["trends", str(tmp_path / "store"), "-o", str(tmp_path / "site")]) == 2
    assert "no series with readable runs" in capsys.readouterr().err
