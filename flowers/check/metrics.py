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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowers import schema
from flowers.check.noise import Noise, binomial_floor, estimate
from flowers.check.settings import Thresholds
from flowers.results import THROUGHPUTS

OK, IMPROVED, REGRESSED, MISSING, NEW, SKIPPED = "ok", "improved", "REGRESSED", "missing", "new", "skipped"
CHANGED = "CHANGED"  # a fact of what the variant is differs from the baseline's (flowers.check.identity)
FAILING = (REGRESSED, MISSING, CHANGED)
TINY = 1e-12  # log scale: a loss of exactly 0 is read as this


@dataclass(frozen=True)
class Scale:
    """Where a metric's values are compared: ``to`` maps a value there, ``back`` returns it."""

    name: str
    to: Callable[[float], float]
    back: Callable[[float], float]


LOG = Scale("log", lambda v: math.log(max(v, TINY)), lambda x: math.exp(min(x, 700.0)))
ARCSINE = Scale(
    "arcsine",
    lambda v: math.asin(math.sqrt(min(max(v, 0.0), 1.0))),
    lambda x: math.sin(min(max(x, 0.0), math.pi / 2)) ** 2,
)


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
    relative: bool  # changes shown and tolerated as ratios (else as differences)
    binomial_floor: bool = False  # accuracy: seed spread never below the test split's binomial noise
    same_machine: bool = False  # compared only between cases of one kind of machine and device
    keys: tuple[str, ...] = ()  # figures to read instead of key, best first (the first timed long enough)
    digits: int = 4  # decimals shown

    aliases: tuple[str, ...] = ()  # more names --metrics accepts (besides name and key)

    @property
    def sign(self) -> int:
        """+1 when a fall is worse, -1 when a rise is."""
        return 1 if self.higher_is_better else -1

    def scaled(self, values: Sequence[float]) -> list[float]:
        return [self.scale.to(v) for v in values]

    def in_units(self, worse_by: float, centre: float) -> float:
        """A worse change of ``worse_by`` on the scale, from the scaled mean ``centre``, in the
        metric's units: a difference, or a ratio for relative metrics."""
        base, worse = self.scale.back(centre), self.scale.back(centre - self.sign * worse_by)
        if self.relative:
            return abs(worse / base - 1) if base else math.inf
        return self.sign * (base - worse)

    def tolerance_on_scale(self, th: Thresholds, centre: float) -> float:
        """The tolerance (in the metric's units) as a worse change on the scale, from ``centre``."""
        tol, base = getattr(th, self.tolerance), self.scale.back(centre)
        worse = base * (1 - self.sign * tol) if self.relative else base - self.sign * tol
        if worse <= 0 and self.scale is LOG:
            return math.inf
        return self.sign * (centre - self.scale.to(worse))

    def shown(self, units: float) -> str:
        """A worse change in the metric's units as the threshold column shows it."""
        if self.relative:
            return f"{self.word}>{units:.0%}" if units < 10 else f"{self.word}>{units:.3g}x"
        return f"{self.word}>{units:.3g}"

    def change(self, baseline: Sequence[float], current: Sequence[float]) -> str:
        """Change of the means as shown: a difference of means, or the ratio of geometric means."""
        if not self.relative:
            return f"{statistics.fmean(current) - statistics.fmean(baseline):+.4f}"
        diff = statistics.fmean(self.scaled(current)) - statistics.fmean(self.scaled(baseline))
        return f"{math.expm1(min(diff, 700.0)):+.1%}"

    def noise(self, baseline: Sequence[float], n_test: int | None) -> Noise:
        if self.binomial_floor and n_test:
            floor = binomial_floor(n_test)
            return estimate(self.scaled(baseline), floor, f"binomial sd={floor:.3f} (n_test={n_test})")
        return estimate(self.scaled(baseline))

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
            "" if mean_limit > tol else f"; tolerance {self.shown(getattr(th, self.tolerance))}"
        )
        detectable = self.in_units(mean_limit, centre)
        threshold = self.shown(detectable)
        verdict = REGRESSED if worse_mean > mean_limit else IMPROVED if -worse_mean > mean_limit else OK
        if several:
            worst_limit = max(tol, noise.worst_limit(share, len(c)))
            worst = min(c, key=lambda v: self.sign * v)
            threshold += f"; worst seed {self.shown(self.in_units(worst_limit, centre))}"
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
        binomial_floor=True,
    ),
    "loss": Metric("loss", schema.TEST_LOSS, False, "loss_tolerance", "rise", LOG, relative=True),
    "time": Metric(
        "time",
        schema.TRAIN_THROUGHPUT,
        True,
        "throughput_tolerance",
        "fall",
        LOG,
        relative=True,
        same_machine=True,
        keys=THROUGHPUTS,
        digits=1,
        aliases=("throughput",),
    ),
}
ALL_METRICS = tuple(METRICS)
ALIASES = {alias: m.name for m in METRICS.values() for alias in (m.name, m.key, *m.keys, *m.aliases)}
