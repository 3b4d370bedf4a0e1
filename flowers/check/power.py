"""What a check can detect with the seeds it has, said in the first line of its output.

A gate's limit shrinks with the seeds on both sides (:mod:`flowers.check.noise`); with few of them
a check passes changes it cannot see, and a PASS reads as "nothing changed".  So the check says
first how many seeds it had, the smallest test-accuracy drop it flags (per variant, the threshold
column), and, when that is more than :data:`USEFUL_DROP`, how many seeds per run would catch such a
drop four times in five (:data:`flowers.effects.POWER`) by the rule that many seeds are judged by
(Student t at the gate's share of the false-alarm budget), if each seed varies as much as the
baseline's seeds or the binomial floor say (:func:`seeds_for`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flowers.check.metrics import METRICS
from flowers.check.noise import FEW_SEEDS
from flowers.check.settings import Config
from flowers.effects import POWER, binomial_sd
from flowers.results import Run

if TYPE_CHECKING:  # comparison.py calls line(): imported for the types only
    from flowers.check.comparison import VerdictRow

USEFUL_DROP = 0.05  # the accuracy drop a check should catch; fewer seeds than that needs are "few"
MANY = 1000  # seeds per run beyond which the count is shown as "more than"


def _seeds(run: Run, variants: Sequence[str]) -> str:
    """The ok seeds per variant: ``3``, or ``1-3`` when the variants differ."""
    groups = run.by_variant()
    counts = sorted({sum(c.ok for c in groups.get(v, [])) for v in variants})
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def seeds_for(sigma: float, delta: float, alpha: float, power: float = POWER) -> int | None:
    """The fewest seeds per run (baseline and current alike, from :data:`FEW_SEEDS`, where the gate
    judges by the seeds' own spread) whose limit, Student t at one-sided ``alpha`` with the
    baseline's degrees of freedom, lies ``z_power`` standard errors below a drop of ``delta``: the
    drop is then caught with probability ``power``.  None beyond :data:`MANY`."""
    from scipy import stats

    z = statistics.NormalDist().inv_cdf(power)
    for n in range(FEW_SEEDS, MANY + 1):
        if (float(stats.t.isf(alpha, n - 1)) + z) * sigma * math.sqrt(2 / n) <= delta:
            return n
    return None


def _needed(baseline: Run, variant: str, config: Config, alpha: float) -> int | None:
    """Seeds per run for the accuracy gate of ``variant`` to catch a drop of :data:`USEFUL_DROP`, if
    its seeds vary as the baseline's measured spread or the binomial floor (the larger) say; 0 when
    the variant cannot drop that far or the tolerance is larger, None beyond :data:`MANY`."""
    metric = METRICS["accuracy"]
    ok = [c for c in baseline.by_variant().get(variant, []) if c.ok]
    values = [v for v in (c.metric(metric.key) for c in ok) if v is not None]
    if not values or getattr(config.for_variant(variant), metric.tolerance) > USEFUL_DROP:
        return 0
    n_test = next((c.test_images for c in ok if c.test_images), None)
    scaled = metric.scaled(values)
    centre = statistics.fmean(scaled)
    level = metric.scale.back(centre)
    if level <= USEFUL_DROP:
        return 0
    delta = centre - metric.scale.to(level - USEFUL_DROP)
    sigma = max(binomial_sd(n_test) if n_test else 0.0, statistics.stdev(scaled) if len(scaled) > 1 else 0.0)
    return seeds_for(sigma, delta, alpha) if sigma else 0


def _span(rows: Sequence[VerdictRow]) -> str:
    """The smallest and largest limit, naming their variants."""
    low, high = min(rows, key=lambda r: r.detectable or 0), max(rows, key=lambda r: r.detectable or 0)
    first = f"{low.detectable:.2g} ({low.variant})"
    return (
        first
        if low is high or low.detectable == high.detectable
        else f"{first} to {high.detectable:.2g} ({high.variant})"
    )


def _gated(rows: Sequence[VerdictRow], metrics: Sequence[str]) -> tuple[str, list[VerdictRow]]:
    """The metric the line speaks of (accuracy when gated) and its decided rows."""
    for name in ("accuracy", "loss", "time"):
        keys = {METRICS[name].key, *METRICS[name].keys}
        if name in metrics:
            return name, [r for r in rows if r.metric in keys and r.detectable is not None]
    return "", []


def line(baseline: Run, current: Run, rows: Sequence[VerdictRow], metrics: Sequence[str], config: Config) -> str:
    """One line: the seeds each side had, what the check flags with them, and, when they are few,
    how many would catch an accuracy drop of :data:`USEFUL_DROP` ("" when no gate decided)."""
    name, gated = _gated(rows, metrics)
    if not gated:
        return ""
    variants = list(dict.fromkeys(r.variant for r in gated))
    base_n, cur_n = _seeds(baseline, variants), _seeds(current, variants)
    what = {"accuracy": "test-accuracy drops", "loss": "test-loss rises", "time": "throughput falls"}[name]
    few = int(base_n.split("-")[0]) < FEW_SEEDS
    blind = name == "accuracy" and max(r.detectable or 0.0 for r in gated) > USEFUL_DROP
    text = f"{'few seeds' if few else 'seeds'} (baseline {base_n}, current {cur_n} per variant)"
    if blind and not few:
        text += f", too few to catch an accuracy drop of {USEFUL_DROP:g} in every variant"
    if name != "accuracy":
        return text + (f": see the threshold column for the smallest {what} flagged" if few else "")
    text += f": this check flags {what} above {_span(gated)}"
    if not (few or blind):
        return text
    text += ", nothing smaller"
    live = sum(r.detectable is not None for r in rows)  # the gates that share the false-alarm budget
    # with n seeds per run the mean and the worst seed share a gate's share of the budget
    needed = [_needed(baseline, v, config, config.for_variant(v).false_alarm / live / 2) for v in variants]
    if any(n != 0 for n in needed):
        count = f"more than {MANY}" if None in needed else f"about {max(n or 0 for n in needed)}"
        text += f"; {count} seeds per run would catch a drop of {USEFUL_DROP:g} in every variant"
    return text
