"""How far a metric moves with nothing changed, measured from the baseline's own seeds, and the
limits the gate draws from it.

A gate compares the current run's values (one per seed) with the baseline's.  With nothing
changed, the current values are new draws from the distribution the baseline's seeds sample: a
different seed, or a CPU whose kernels add up in another order, sends training down another
trajectory.  So the gate asks whether the current values could be such draws:

* **scale** (:mod:`flowers.effects`, which the report's comparison shares): accuracy as
  arcsin(sqrt(p)), the variance-stabilising scale of a proportion, on which a test split of n images
  has the same binomial noise 1/(2 sqrt(n)) whatever p, and a score near 1.0, which can only fall,
  is not squeezed against the ceiling; loss on log(loss + 0.01), where its seed spread is roughly
  symmetric and a loss near zero does not turn noise into large ratios; throughput on a log scale.
* **sigma**, the spread of one seed: the baseline seeds' sample standard deviation; for accuracy
  never below the test split's binomial noise, because a few seeds that happen to agree do not make
  a 30-image test set exact.
* **limits**: a one-sided prediction interval.  The mean of ``n_cur`` new values falls below the
  baseline mean by more than ``q * sigma * sqrt(1/n_base + 1/n_cur)`` with probability ``alpha``
  (``q``: Student t with the seeds' degrees of freedom, or normal when the floor sets sigma).  The
  worst of ``n_cur`` values is compared with the interval of a single draw,
  ``q' * sigma * sqrt(1 + 1/n_base)`` at ``alpha / n_cur`` (Bonferroni), so two collapsed seeds
  of three are caught even when the mean alone would pass.
* **few seeds**: with fewer than :data:`FEW_SEEDS` baseline seeds, Student t's quantile at a
  gate's alpha (about 0.002) is 7 to 300 times sigma, a limit nothing can pass (a drop of 0.6 in
  accuracy, a 400-fold rise in loss), and one seed has no spread at all.  There the limits use
  normal quantiles on the largest of the measured spread, the floor and a *prior* spread per metric
  (``Metric.prior``): how far one seed's value moves on unchanged code, the largest spread of a
  smoke variant over repeated runs, rounded up (a variant's seeds can have a long tail): for
  accuracy 2 binomial floors, for loss and throughput 0.4.  docs/check.md gives the runs they come
  from and the rule's false-alarm rate, measured by ``flowers check --calibrate`` on one- and
  three-seed A/A comparisons.

:mod:`flowers.check.metrics` adds the fixed tolerances as a floor (a change must exceed both) and
:mod:`flowers.check.comparison` splits the run's false-alarm budget over its gates.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from flowers.stats import mean_sd

FEW_SEEDS = 5  # fewer baseline seeds: the few-seed rule (Student t with df < 4 gives limits nothing passes)


@dataclass(frozen=True)
class Noise:
    """The spread of one seed's value on the gate's scale, and where it came from."""

    sigma: float
    df: int | None  # degrees of freedom of a measured sigma; None when a known floor (or nothing) sets it
    n_base: int  # baseline seeds
    source: str  # e.g. "seeds sd=0.102 (n=10)", "binomial sd=0.091 (n_test=30) > seeds sd=0.058 (n=10)"

    def quantile(self, alpha: float) -> float:
        """One-sided (1 - alpha) quantile of the reference distribution (0 without any noise)."""
        if self.sigma == 0:
            return 0.0
        if not self.df:
            return statistics.NormalDist().inv_cdf(1 - alpha)
        from scipy import stats  # imported here: reading results needs no scipy

        return float(stats.t.isf(alpha, self.df))

    def mean_limit(self, alpha: float, n_cur: int) -> float:
        """How far the mean of ``n_cur`` current values may fall short of the baseline mean."""
        return self.quantile(alpha) * self.sigma * math.sqrt(1 / self.n_base + 1 / n_cur)

    def worst_limit(self, alpha: float, n_cur: int) -> float:
        """How far the worst of ``n_cur`` current values may fall short of the baseline mean."""
        return self.quantile(alpha / n_cur) * self.sigma * math.sqrt(1 + 1 / self.n_base)


def estimate(scaled_baseline: Sequence[float], floor: float = 0.0, floor_source: str = "", prior: float = 0.0) -> Noise:
    """The noise of one seed from the baseline's values on the gate's scale, never below ``floor``
    (accuracy: the test split's binomial noise, a known spread: its quantiles are normal; those of
    a spread measured from n seeds are Student t's with n - 1 degrees of freedom).  With fewer than
    :data:`FEW_SEEDS` seeds, the few-seed rule: the largest of the spread, ``floor`` and ``prior``,
    with normal quantiles."""
    n = len(scaled_baseline)
    sd = mean_sd(scaled_baseline)[1] if n > 1 else None
    seeds = f"seeds sd={sd:.3g} (n={n})" if sd is not None else ""
    if n < FEW_SEEDS:
        return _few(n, sd, floor, floor_source, prior)
    if floor > (sd or 0.0):
        return Noise(floor, None, n, f"{floor_source}" + (f" > {seeds}" if seeds else ""))
    if sd is not None:
        return Noise(sd, n - 1, n, seeds)
    return Noise(0.0, None, n, "one baseline seed: no measured noise")


def _few(n: int, sd: float | None, floor: float, floor_source: str, prior: float) -> Noise:
    """The few-seed rule: normal quantiles on the largest of the seeds' spread, the floor and the prior."""
    parts = [(prior, f"prior sd={prior:.3g}"), (floor, floor_source), (sd or 0.0, f"seeds sd={sd:.3g}" if sd else "")]
    sigma, why = max(parts, key=lambda p: p[0])
    seeds = f"{n} baseline seed{'s' * (n != 1)}"
    return Noise(sigma, None, n, f"few-seed rule ({seeds}): {why}" if sigma else f"{seeds}: no measured noise")
