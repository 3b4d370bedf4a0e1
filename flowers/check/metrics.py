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
from dataclasses import dataclass
from typing import Sequence

from flowers.check.noise import Noise, estimate
from flowers.check.settings import Thresholds
from flowers.results import THROUGHPUTS

OK, IMPROVED, REGRESSED, MISSING, NEW, SKIPPED = "ok", "improved", "REGRESSED", "missing", "new", "skipped"
FAILING = (REGRESSED, MISSING)
TINY = 1e-12  # log scale: a loss of exactly 0 is read as this


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
    log_scale: bool  # judged as a ratio (loss, throughput); else as a difference (accuracy)
    binomial_floor: bool = False  # accuracy: seed spread never below the test split's binomial noise
    same_machine: bool = False  # compared only between cases of one kind of machine and device
    keys: tuple[str, ...] = ()  # figures to read instead of key, best first (the first timed long enough)
    digits: int = 4  # decimals shown
    aliases: tuple[str, ...] = ()  # more names --metrics accepts (besides name and key)

    @property
    def sign(self) -> int:
        """+1 when a fall is worse, -1 when a rise is."""
        return 1 if self.higher_is_better else -1

    def scale(self, values: Sequence[float]) -> list[float]:
        return [math.log(max(v, TINY)) for v in values] if self.log_scale else list(values)

    def unscale(self, worse_by: float) -> float:
        """A worse change on the gate's scale in the metric's units (relative for log scales)."""
        if not self.log_scale:
            return worse_by
        return math.expm1(worse_by) if not self.higher_is_better else -math.expm1(-worse_by)

    def tolerance_on_scale(self, th: Thresholds) -> float:
        tol = getattr(th, self.tolerance)
        if not self.log_scale:
            return tol
        return math.log1p(tol) if not self.higher_is_better else (-math.log1p(-tol) if tol < 1 else math.inf)

    def shown(self, worse_by: float) -> str:
        """A worse change on the gate's scale as the threshold column shows it."""
        value = self.unscale(worse_by)
        if self.log_scale:
            return f"{self.word}>{value:.0%}" if value < 10 else f"{self.word}>{value:.3g}x"
        return f"{self.word}>{value:.3g}"

    def change(self, baseline: Sequence[float], current: Sequence[float]) -> str:
        """Change of the means as shown: a difference, or the ratio of geometric means as a percentage."""
        diff = statistics.fmean(self.scale(current)) - statistics.fmean(self.scale(baseline))
        if not self.log_scale:
            return f"{diff:+.4f}"
        ratio = math.expm1(diff) if diff < 700 else math.inf
        return f"{ratio:+.1%}"

    def noise(self, baseline: Sequence[float], n_test: int | None) -> Noise:
        mean_p = statistics.fmean(baseline) if self.binomial_floor else None
        return estimate(self.scale(baseline), n_test if self.binomial_floor else None, mean_p)

    def gate(self, baseline: Sequence[float], current: Sequence[float], th: Thresholds,
             n_test: int | None = None, alpha: float | None = None) -> Verdict:
        """Verdict on ``current`` against ``baseline`` (one value per seed each; ``n_test``: test
        split size, for accuracy's floor; ``alpha``: this gate's false-alarm rate, default the run's)."""
        alpha = th.false_alarm if alpha is None else alpha
        b, c = self.scale(baseline), self.scale(current)
        noise = self.noise(baseline, n_test)
        several = len(c) > 1
        share = alpha / 2 if several else alpha  # mean and worst seed share the gate's budget
        tol = self.tolerance_on_scale(th)
        mean_limit = max(tol, noise.mean_limit(share, len(c)))
        worse_mean = self.sign * (statistics.fmean(b) - statistics.fmean(c))
        how = f"{noise.source}, alpha={share:.2g}" + ("" if mean_limit > tol else f"; tolerance {self.shown(tol)}")
        threshold = self.shown(mean_limit)
        verdict = REGRESSED if worse_mean > mean_limit else IMPROVED if -worse_mean > mean_limit else OK
        if several:
            worst_limit = max(tol, noise.worst_limit(share, len(c)))
            worst = min(c, key=lambda v: self.sign * v)
            worse_worst = self.sign * (statistics.fmean(b) - worst)
            threshold += f"; worst seed {self.shown(worst_limit)}"
            if worse_worst > worst_limit:
                verdict = REGRESSED
                how = f"worst seed {self.unscale_value(worst):.{self.digits}f} is beyond it; " + how
        return Verdict(verdict, self.change(baseline, current), threshold, how, self.unscale(mean_limit))

    def unscale_value(self, value: float) -> float:
        return math.exp(value) if self.log_scale else value


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", "test_accuracy", True, "accuracy_tolerance", "drop", log_scale=False,
                       binomial_floor=True),
    "loss": Metric("loss", "test_loss", False, "loss_tolerance", "rise", log_scale=True),
    "time": Metric("time", "train_images_per_second", True, "throughput_tolerance", "fall", log_scale=True,
                   same_machine=True, keys=THROUGHPUTS, digits=1, aliases=("throughput",)),
}
ALL_METRICS = tuple(METRICS)
ALIASES = {alias: m.name for m in METRICS.values() for alias in (m.name, m.key, *m.keys, *m.aliases)}
