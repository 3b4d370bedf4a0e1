"""The metrics the check gates, each with its gate: a :class:`Metric` knows its result key, which
direction is worse, the scale it is judged on and which threshold is its fixed floor;
:meth:`Metric.gate` turns baseline and current values (one per seed) into a :class:`Verdict`.

A value is worse than the baseline when it falls outside what the baseline's own seeds predict
(:mod:`flowers.check.noise`) *and* by more than the metric's tolerance.  ``alpha`` is the gate's
share of the run's false-alarm budget (:mod:`flowers.check.comparison` splits it); with several
current seeds it is halved between the mean and the worst seed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from flowers import schema
from flowers.check.noise import Noise, estimate
from flowers.check.settings import Thresholds
from flowers.effects import ARCSINE, LOG, LOG_LOSS, Scale, binomial_sd
from flowers.results import THROUGHPUTS
from flowers.stats import mean_sd

OK, IMPROVED, REGRESSED, MISSING, NEW = "ok", "improved", "REGRESSED", "missing", "new"
UNDECIDED = "UNDECIDED"  # a gate the user asked for that cannot decide (other machine, nothing recorded)
CHANGED = "CHANGED"  # a fact of what the variant is differs from the baseline's (flowers.check.identity)
FAILING = (REGRESSED, MISSING, UNDECIDED, CHANGED)  # a gate that cannot decide is not a pass
TOO_FEW = "too few seeds"  # shown instead of a limit no change can reach
MEANINGFUL_RATIO = 10.0  # a limit beyond a tenfold change (loss, throughput) flags nothing a user would accept
SEEDS_OVER_BINOMIAL = 2.0  # accuracy's few-seed prior, in binomial floors (see flowers.check.noise)


@dataclass
class Verdict:
    verdict: str
    change: str = ""
    threshold: str = ""
    how: str = ""
    detectable: float | None = None  # the smallest worse change of the mean that is flagged (metric's units)


@dataclass(frozen=True)
class Metric:
    """One gated metric and its gate."""

    name: str  # short name for --metrics
    key: str  # extra_info key
    higher_is_better: bool
    tolerance: str  # the Thresholds field: the least change that may count, whatever the noise
    word: str  # what a worse change is called in the threshold column ("drop", "rise", "fall")
    scale: Scale  # where the values are compared (see flowers.check.noise)
    relative: bool  # changes tolerated as ratios (else as differences)
    prior: float  # the few-seed rule's spread of one seed on the scale (accuracy: times the binomial floor)
    binomial_floor: bool = False  # accuracy: seed spread never below the test split's binomial noise
    same_machine: bool = False  # compared only between cases of one kind of machine and device
    keys: tuple[str, ...] = ()  # figures to read instead of key, best first (the first timed long enough)
    digits: int = 4  # decimals shown
    ratio_shown: bool | None = None  # changes shown as ratios (default: as tolerated)

    aliases: tuple[str, ...] = ()  # more names --metrics accepts (besides name and key)

    @property
    def sign(self) -> int:
        """+1 when a fall is worse, -1 when a rise is."""
        return 1 if self.higher_is_better else -1

    def scaled(self, values: Sequence[float]) -> list[float]:
        return [self.scale.to(v) for v in values]

    @property
    def ratios(self) -> bool:
        """Whether changes and limits are shown as ratios (else as differences in the metric's units)."""
        return self.relative if self.ratio_shown is None else self.ratio_shown

    def in_units(self, worse_by: float, centre: float) -> float:
        """A worse change of ``worse_by`` on the scale, from the scaled mean ``centre``, in the
        metric's units as shown: a difference, or a ratio."""
        base, worse = self.scale.back(centre), self.scale.back(centre - self.sign * worse_by)
        if self.ratios:
            return abs(worse / base - 1) if base else math.inf
        return self.sign * (base - worse)

    def reachable(self, worse_by: float, centre: float) -> bool:
        """Whether a limit of ``worse_by`` on the scale from ``centre`` is one a change can exceed:
        accuracy above zero, loss and throughput within a tenfold change."""
        if self.scale is ARCSINE:
            return worse_by < centre
        return worse_by < math.log(MEANINGFUL_RATIO)

    def tolerance_on_scale(self, th: Thresholds, centre: float) -> float:
        """The tolerance as a worse change on the scale, from ``centre``: a difference in the
        metric's units, or for relative metrics a ratio on the logarithmic scale (for loss, of
        loss + 0.01: a loss near zero has no relative changes to tolerate)."""
        tol = getattr(th, self.tolerance)
        if self.relative:
            return math.inf if self.sign * tol >= 1 else abs(math.log1p(-self.sign * tol))
        return self.sign * (centre - self.scale.to(self.scale.back(centre) - self.sign * tol))

    def tolerance_text(self, th: Thresholds) -> str:
        """The tolerance as set: a ratio for relative metrics, else a difference."""
        tol = getattr(th, self.tolerance)
        return f"{self.word}>{tol:.0%}" if self.relative else f"{self.word}>{tol:.3g}"

    def shown(self, units: float) -> str:
        """A worse change in the metric's units as the threshold column shows it."""
        if self.ratios:
            return f"{self.word}>{units:.0%}" if units < 10 else f"{self.word}>{units:.3g}x"
        return f"{self.word}>{units:.3g}"

    def limit_text(self, worse_by: float, centre: float) -> str:
        """A limit on the scale as the threshold column shows it, or :data:`TOO_FEW` when no change
        could reach it."""
        return self.shown(self.in_units(worse_by, centre)) if self.reachable(worse_by, centre) else TOO_FEW

    def change(self, baseline: Sequence[float], current: Sequence[float]) -> str:
        """Change of the means as shown: a difference of means, or the ratio of geometric means."""
        if not self.ratios:  # mean_sd: a finite mean of values near the largest float
            return f"{mean_sd(current)[0] - mean_sd(baseline)[0]:+.4f}"
        diff = statistics.fmean(self.scaled(current)) - statistics.fmean(self.scaled(baseline))
        return f"{math.expm1(min(diff, 700.0)):+.1%}"

    def noise(self, baseline: Sequence[float], n_test: int | None) -> Noise:
        if self.binomial_floor and n_test:
            floor = binomial_sd(n_test)
            prior = self.prior * floor
            return estimate(self.scaled(baseline), floor, f"binomial sd={floor:.3f} (n_test={n_test})", prior)
        return estimate(self.scaled(baseline), prior=self.prior)

    def gate(
        self,
        baseline: Sequence[float],
        current: Sequence[float],
        th: Thresholds,
        n_test: int | None = None,
        alpha: float | None = None,
    ) -> Verdict:
        """Verdict on ``current`` against ``baseline`` (one value per seed each; ``n_test``: test
        split size, for accuracy's floor; ``alpha``: this gate's false-alarm rate, default the run's)."""
        alpha = th.false_alarm if alpha is None else alpha
        b, c = self.scaled(baseline), self.scaled(current)
        centre, noise = statistics.fmean(b), self.noise(baseline, n_test)
        several = len(c) > 1
        share = alpha / 2 if several else alpha  # mean and worst seed share the gate's budget
        tol = self.tolerance_on_scale(th, centre)
        mean_limit = max(tol, noise.mean_limit(share, len(c)))
        worse_mean = self.sign * (centre - statistics.fmean(c))
        how = f"{noise.source}, alpha={share:.2g}" + (
            "" if mean_limit > tol else f"; tolerance {self.tolerance_text(th)}"
        )
        detectable = self.in_units(mean_limit, centre)
        threshold = self.limit_text(mean_limit, centre)
        verdict = REGRESSED if worse_mean > mean_limit else IMPROVED if -worse_mean > mean_limit else OK
        if several:
            worst_limit = max(tol, noise.worst_limit(share, len(c)))
            worst = min(c, key=lambda v: self.sign * v)
            threshold += f"; worst seed {self.limit_text(worst_limit, centre)}"
            if self.sign * (centre - worst) > worst_limit:
                verdict = REGRESSED
                how = f"worst seed {self.scale.back(worst):.{self.digits}f} is beyond it; " + how
        return Verdict(verdict, self.change(baseline, current), threshold, how, detectable)


METRICS: dict[str, Metric] = {
    "accuracy": Metric(
        "accuracy",
        schema.TEST_ACCURACY,
        True,
        "accuracy_tolerance",
        "drop",
        ARCSINE,
        relative=False,
        prior=SEEDS_OVER_BINOMIAL,
        binomial_floor=True,
    ),
    "loss": Metric(
        "loss", schema.TEST_LOSS, False, "loss_tolerance", "rise", LOG_LOSS, relative=True, prior=0.4, ratio_shown=False
    ),
    "time": Metric(
        "time",
        schema.TRAIN_THROUGHPUT,
        True,
        "throughput_tolerance",
        "fall",
        LOG,
        relative=True,
        prior=0.4,
        same_machine=True,
        keys=THROUGHPUTS,
        digits=1,
        aliases=("throughput",),
    ),
}
ALL_METRICS = tuple(METRICS)
ALIASES = {alias: m.name for m in METRICS.values() for alias in (m.name, m.key, *m.keys, *m.aliases)}
