"""The metrics the check gates, each with its gate: a :class:`Metric` knows its result key, which
direction is worse, which threshold sets its tolerance and how it is tested; :meth:`Metric.gate`
turns baseline and current values (one per seed) into a :class:`Verdict`.

Every gate ends the same way (:func:`_decide`): worse by more than the limit (and, where seeds
allow a t-test, significantly so) is ``REGRESSED``, better by as much ``improved``, else ``ok``.
What differs between metrics is data on the metric: absolute or relative change, a noise floor
(accuracy: binomial standard errors of the test split) and whether the seeds are t-tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from flowers.check.settings import Thresholds
from flowers.check.significance import seed_p
from flowers.results import STEADY_THROUGHPUT
from flowers.stats import mean_sd

OK, IMPROVED, REGRESSED, MISSING, NEW, SKIPPED = "ok", "improved", "REGRESSED", "missing", "new", "skipped"
FAILING = (REGRESSED, MISSING)


@dataclass
class Verdict:
    verdict: str
    change: str = ""
    threshold: str = ""
    how: str = ""


@dataclass(frozen=True)
class _Seeds:
    """What the t-test over seeds says: p-values that current is worse / better, and the bar."""

    p_worse: float
    p_better: float
    alpha: float
    n: str  # "baseline seeds/current seeds"

    def how(self, p: float) -> str:
        return f"t-test p={p:.3g}, n={self.n}"


def _decide(worse_by: float, limit: float, change: str, threshold: str, how: str, seeds: _Seeds | None) -> Verdict:
    """The verdict every gate ends with; ``worse_by`` is the change in the worse direction."""
    worse = better = True
    how_worse = how_better = how
    if seeds is not None:
        worse, better = seeds.p_worse < seeds.alpha, seeds.p_better < seeds.alpha
        how_worse, how_better = seeds.how(seeds.p_worse), seeds.how(seeds.p_better)
    if worse_by > limit and worse:
        return Verdict(REGRESSED, change, threshold, how_worse)
    if -worse_by > limit and better:
        return Verdict(IMPROVED, change, threshold, how_better)
    return Verdict(OK, change, threshold, how_worse)


def _relative(base: float, cur: float) -> float:
    if base == 0:
        return 0.0 if cur == 0 else math.copysign(math.inf, cur)
    return (cur - base) / abs(base)


def binomial_limit(base: float, n_test: int | None, th: Thresholds) -> tuple[float, str]:
    """Accuracy's noise floor: the drop must exceed both the tolerance and ``se_multiple`` binomial
    standard errors of a test split of ``n_test`` images; with the text that says so."""
    tol = th.accuracy_tolerance
    if not n_test:
        return tol, "tolerance only (n_test unknown)"
    # p is kept one test image away from 0 and 1: a perfect score still has noise (se > 0).
    p = min(max(base, 1 / n_test), 1 - 1 / n_test) if n_test > 1 else 0.5
    se = math.sqrt(p * (1 - p) / n_test)
    text = f"binomial se={se:.3f}, n_test={n_test}" + (" (p clamped)" if p != base else "")
    return max(tol, th.se_multiple * se), text


NoiseFloor = Callable[[float, int | None, Thresholds], tuple[float, str]]  # (baseline mean, n_test, settings)


@dataclass(frozen=True)
class Metric:
    """One gated metric and its gate."""

    name: str  # short name for --metrics
    key: str  # extra_info key
    higher_is_better: bool
    tolerance: str  # the Thresholds field: how far worse is too far
    word: str  # what a worse change is called in the threshold column ("drop", "rise", "fall")
    relative: bool  # change relative to the baseline mean (else absolute)
    basis: str = ""  # the "how" of a verdict reached without seeds' t-test
    seed_test: bool = True  # several seeds: a one-sided t-test must agree
    noise_floor: NoiseFloor | None = None  # a limit above the tolerance, and its "how"
    same_machine: bool = False  # compared only between runs of one machine and device
    timed: bool = False  # a timing: not gated when timed over less than min_timed_seconds
    preferred_key: str | None = None  # read instead of key when every case on both sides has it
    digits: int = 4  # decimals shown
    aliases: tuple[str, ...] = ()  # more names --metrics accepts (besides name and key)

    @property
    def worse(self) -> str:
        return "lower" if self.higher_is_better else "higher"

    @property
    def better(self) -> str:
        return "higher" if self.higher_is_better else "lower"

    def change(self, baseline: Sequence[float], current: Sequence[float]) -> tuple[float, str]:
        """Change of the means, as a number and as shown."""
        base, cur = mean_sd(baseline)[0], mean_sd(current)[0]
        if self.relative:
            rel = _relative(base, cur)
            return rel, f"{rel:+.1%}"
        return cur - base, f"{cur - base:+.4f}"

    def _threshold(self, limit: float) -> str:
        return f"{self.word}>{limit:.0%}" if self.relative else f"{self.word}>{limit:.3g}"

    def gate(
        self, baseline: Sequence[float], current: Sequence[float], th: Thresholds, n_test: int | None = None
    ) -> Verdict:
        """Verdict on ``current`` against ``baseline`` (one value per seed each; ``n_test``: test
        split size, for a noise floor)."""
        diff, change = self.change(baseline, current)
        worse_by = -diff if self.higher_is_better else diff
        tol = getattr(th, self.tolerance)
        limit, basis = self.noise_floor(mean_sd(baseline)[0], n_test, th) if self.noise_floor else (tol, self.basis)
        p_worse = seed_p(baseline, current, self.worse) if self.seed_test else None
        if p_worse is None:
            means = "" if len(baseline) == len(current) == 1 else f", means of n={len(baseline)}/{len(current)}"
            return _decide(worse_by, limit, change, self._threshold(limit), basis + means, None)
        # One value against several: that value has its own test-set noise, which a small seed
        # spread on the other side may understate, so the noise floor applies as well.
        if len(baseline) == 1 or len(current) == 1:
            tol = limit
        seeds = _Seeds(p_worse, seed_p(baseline, current, self.better), th.alpha, f"{len(baseline)}/{len(current)}")
        return _decide(worse_by, tol, change, f"{self._threshold(tol)} & p<{th.alpha:g}", "", seeds)


METRICS: dict[str, Metric] = {
    "accuracy": Metric(
        "accuracy", "test_accuracy", True, "accuracy_tolerance", "drop", relative=False, noise_floor=binomial_limit
    ),
    "loss": Metric("loss", "test_loss", False, "loss_tolerance", "rise", relative=True, basis="relative"),
    "time": Metric(
        "time", "train_images_per_second", True, "throughput_tolerance", "fall", relative=True,
        basis="same machine", seed_test=False, same_machine=True, timed=True, preferred_key=STEADY_THROUGHPUT, digits=1,
        aliases=("throughput",),
    ),
}
ALL_METRICS = tuple(METRICS)
ALIASES = {alias: m.name for m in METRICS.values() for alias in (m.name, m.key, *m.aliases)}


def gate_accuracy(
    baseline: Sequence[float], current: Sequence[float], n_test: int | None, th: Thresholds
) -> Verdict:
    """Test accuracy: regressed when it fell by more than the tolerance and more than the noise."""
    return METRICS["accuracy"].gate(baseline, current, th, n_test)


def gate_loss(baseline: Sequence[float], current: Sequence[float], th: Thresholds) -> Verdict:
    """Test loss: regressed when it rose by more than the relative tolerance (and the t-test agrees)."""
    return METRICS["loss"].gate(baseline, current, th)


def gate_throughput(baseline: Sequence[float], current: Sequence[float], th: Thresholds) -> Verdict:
    """Training images per second (same machine only): regressed when it fell by more than the tolerance."""
    return METRICS["time"].gate(baseline, current, th)
