"""Steps in a trend: change points found by ruptures (Truong, Oudre and Vayatis, "Selective review
of offline change point detection methods", Signal Processing 167, 2020).

The method: PELT (Killick, Fearnhead and Eckley, 2012) over the night means with the least-squares
cost (ruptures' ``KernelCPD`` with the linear kernel, its C implementation of the ``l2`` cost), on
the metric's scale divided by the noise of a night's mean (:func:`flowers.trends.noise.night_sigma`),
with the penalty ``BETA * log(nights)`` for each step: a step is placed only where splitting the
nights there lowers the squared deviations by more than BETA * log(n) noise variances, which a
step of a few sigmas over a few nights does and noise does not (the false-flag rate and the steps
caught are measured by scripts/simulate_nights.py; see docs/nightly.md).  A level holds at least
MIN_NIGHTS nights, and a night further than SPIKE noise sd from the median of itself and its two
neighbours is taken at that median before the search (a Hampel filter): one odd night is not a
step, and the graph still shows it.  A step smaller than the gate's tolerance for the
metric (accuracy_tolerance, loss_tolerance, throughput_tolerance) is not flagged: the tolerance is
the floor of what matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from flowers.check import METRICS, Config
from flowers.results import Run
from flowers.trends.noise import from_scale, night_sigma, to_scale
from flowers.trends.series import Trend, trends

BETA = 4.0  # penalty per step, in noise variances per log(nights); measured in docs/nightly.md
MIN_NIGHTS = 2  # nights a level must hold, before and after a step
SPIKE = 5.0  # noise sd from its neighbours' median that makes a night odd: noise alone almost never


@dataclass(frozen=True)
class Step:
    night: int  # index (into the series' nights) of the first night at the new level
    before: float  # the level before, in the metric's units (geometric mean for loss and throughput)
    after: float  # the level from ``night`` on, up to the next step
    change: float  # after - before (accuracy) or after / before - 1 (loss, throughput)
    worse: bool


def change_points(z: np.ndarray, beta: float = BETA) -> list[int]:
    """Indexes where a new level starts in ``z`` (noise of sd 1), by PELT with penalty beta*log(n)."""
    import ruptures  # imported here: only trends need it

    n = len(z)
    if n < 2 * MIN_NIGHTS:
        return []
    algo = ruptures.KernelCPD(kernel="linear", min_size=MIN_NIGHTS).fit(z.reshape(-1, 1))
    return [int(b) for b in algo.predict(pen=beta * math.log(n))[:-1]]


def despiked(z: np.ndarray, limit: float = SPIKE) -> np.ndarray:
    """``z`` (noise of sd 1) with each night that lies more than ``limit`` from the median of itself
    and its two neighbours set to that median (a Hampel filter over three nights): one odd night
    goes, a step stays (its first night is the median of its window)."""
    out = z.copy()
    if len(z) >= 3:
        med = np.median(np.stack([z[:-2], z[1:-1], z[2:]]), axis=0)
        odd = np.abs(z[1:-1] - med) > limit
        out[1:-1][odd] = med[odd]
    return out


def _step(trend: Trend, levels: tuple[float, float], night: int) -> Step:
    before, after = (from_scale(trend.metric, level) for level in levels)
    relative = METRICS[trend.metric].relative
    change = after / before - 1 if relative else after - before
    worse = (change < 0) == METRICS[trend.metric].higher_is_better
    return Step(night=night, before=before, after=after, change=change, worse=worse)


def detect(trend: Trend, tolerance: float, beta: float = BETA) -> tuple[list[Step], float]:
    """The steps of ``trend`` that stand out of its noise and exceed ``tolerance``, and that noise
    (sd of a night's mean on the metric's scale).  Nights without a value are left out."""
    nights = [i for i, v in enumerate(trend.values) if v]
    if len(nights) < 2 * MIN_NIGHTS:
        return [], math.nan
    sigma = night_sigma([trend.values[i] for i in nights], trend.metric, trend.n_test)
    y = np.array([math.fsum(to_scale(trend.metric, v) for v in trend.values[i]) / len(trend.values[i]) for i in nights])
    z = despiked(y / sigma)
    bounds = [0, *change_points(z, beta), len(z)]
    y = z * sigma
    steps = []
    for a, at, b in zip(bounds, bounds[1:], bounds[2:]):
        step = _step(trend, (float(y[a:at].mean()), float(y[at:b].mean())), nights[at])
        if abs(step.change) >= tolerance:
            steps.append(step)
    return steps, sigma


def detect_all(
    runs: list[Run], config: Config | None = None, beta: float = BETA
) -> list[tuple[Trend, list[Step], float]]:
    """Every trend of ``runs`` (one series, oldest first) with its steps and noise; each metric's
    tolerance is the gate's for that variant (``[tool.flowers.check]`` in ``config``)."""
    config = config or Config()
    out = []
    for trend in trends(runs):
        tolerance = getattr(config.for_variant(trend.variant), METRICS[trend.metric].tolerance)
        out.append((trend, *detect(trend, tolerance, beta)))
    return out
