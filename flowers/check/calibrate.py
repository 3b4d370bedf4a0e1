"""What the gate does on unchanged code: ``flowers check --calibrate RUN [RUN ...]``.

A/A comparisons: seeds of one configuration are played against each other as if one part were the
baseline and the other a new run, so every flag raised is a false alarm.

* **leave one seed out**: each seed of a run in turn is the current run (one seed, as CI's
  ``tox -e check`` runs), the other seeds the baseline;
* **splits**: random splits of a run's seeds into a baseline and ``k`` current seeds (default 3);
* **across runs** (runs from other machines, e.g. another CPU kind): every seed of one run against
  all seeds of the other, both ways, on the variants both ran (runs with none in common are not compared);
* **few seeds** (the few-seed rule of :mod:`flowers.check.noise`): one seed against one other, every
  ordered pair, and three seeds against three others, random disjoint draws, within each run and
  across every pair of runs, as a user compares two small runs.

Each comparison gates every variant at once, as ``flowers check`` does, so the false-alarm rate is
per run, all gates together; it is shown with its exact (Clopper-Pearson) 95% upper bound, per kind
and per rule (the baseline's seeds' own spread from :data:`~flowers.check.noise.FEW_SEEDS` seeds
on, the few-seed rule below).  The smallest change each gate detects with a whole run as the
baseline closes the output.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from flowers.check.comparison import compare, timing_key, timing_thresholds
from flowers.check.metrics import CHANGED, METRICS, REGRESSED
from flowers.check.noise import FEW_SEEDS
from flowers.check.settings import Config
from flowers.errors import ResultsError
from flowers.results import Run
from flowers.text import printable

SPLITS = 200  # random splits per run: enough for a rate near 2% to be told from 0
MIN_SEEDS = 3  # a baseline of the others needs two seeds to have a spread
FEW = (1, 3)  # seeds on each side of the few-seed A/A comparisons
RULES = {"seeds": f"seeds' own spread ({FEW_SEEDS}+ baseline seeds)", "few": f"few-seed rule (1-{FEW_SEEDS - 1})"}


def rule(baseline_seeds: int) -> str:
    """The rule a baseline of this many seeds is judged by: a key of :data:`RULES`."""
    return "few" if baseline_seeds < FEW_SEEDS else "seeds"


@dataclass
class Tally:
    """A/A comparisons of one kind: how many, how many raised an alarm, and which gates did."""

    kind: str
    rule: str = "seeds"  # a key of RULES
    runs: int = 0
    alarms: int = 0
    gates: Counter = field(default_factory=Counter)  # "variant metric" -> alarms

    def add(self, flagged: Sequence[str]) -> None:
        self.runs += 1
        self.alarms += bool(flagged)
        self.gates.update(flagged)

    @property
    def rate(self) -> float:
        return self.alarms / self.runs if self.runs else 0.0


def upper_bound(alarms: int, runs: int, confidence: float = 0.95) -> float:
    """Exact (Clopper-Pearson) one-sided upper confidence bound of a rate seen ``alarms``/``runs``."""
    from scipy import stats

    return 1.0 if alarms >= runs else float(stats.beta.ppf(confidence, alarms + 1, runs - alarms))


def seeds_of(run: Run) -> list[int]:
    """Seeds present for every variant of ``run`` (ok cases), in order."""
    per_variant = [{c.seed for c in cases if c.ok and c.seed is not None} for cases in run.by_variant().values()]
    return sorted(set.intersection(*per_variant)) if per_variant else []


def subset(run: Run, seeds: Iterable[int]) -> Run:
    """``run`` with only the cases of ``seeds``."""
    keep = set(seeds)
    return replace(run, cases=[c for c in run.cases if c.seed in keep], source=f"{run.source} seeds {sorted(keep)}")


def _flagged(
    baseline: Run, current: Run, config: Config, metrics: Sequence[str], variants: Sequence[str] | None = None
) -> list[str]:
    comp = compare(baseline, current, config, metrics, variants)
    return [f"{r.variant} {r.metric}" for r in comp.rows if r.verdict in (REGRESSED, CHANGED)]


def leave_one_out(run: Run, config: Config, metrics: Sequence[str]) -> Tally:
    seeds = seeds_of(run)
    tally = Tally(f"{run.source}: leave one seed out", rule(len(seeds) - 1))
    for seed in seeds:
        rest = [s for s in seeds if s != seed]
        tally.add(_flagged(subset(run, rest), subset(run, [seed]), config, metrics))
    return tally


def splits(run: Run, k: int, config: Config, metrics: Sequence[str], rng: random.Random) -> Tally:
    seeds = seeds_of(run)
    tally = Tally(f"{run.source}: {k} current seeds against the rest", rule(len(seeds) - k))
    for _ in range(SPLITS if len(seeds) >= k + 2 else 0):
        current = rng.sample(seeds, k)
        tally.add(_flagged(subset(run, [s for s in seeds if s not in current]), subset(run, current), config, metrics))
    return tally


def across(baseline: Run, current: Run, config: Config, metrics: Sequence[str]) -> Tally:
    """Each seed of ``current`` against all of ``baseline``, on the variants both ran (none: no runs)."""
    tally = Tally(f"baseline {baseline.source}, one seed of {current.source}", rule(len(seeds_of(baseline))))
    shared = sorted(baseline.by_variant().keys() & current.by_variant().keys())
    for seed in seeds_of(current) if shared else []:
        tally.add(_flagged(baseline, subset(current, [seed]), config, metrics, shared))
    return tally


def _draws(a: list[int], b: list[int], k: int, same: bool, rng: random.Random) -> list[tuple[list[int], list[int]]]:
    """``k`` seeds of ``a`` and ``k`` of ``b``, disjoint when both are one run's (``same``): every
    pair for one seed, else :data:`SPLITS` random draws; none when there are too few seeds."""
    if len(a) < k or len(b) < k or (same and len(a) < 2 * k):
        return []
    if k == 1:
        return [([x], [y]) for x in a for y in b if not (same and x == y)]
    out = []
    for _ in range(SPLITS):
        base = rng.sample(a, k)
        out.append((base, rng.sample([s for s in b if not (same and s in base)], k)))
    return out


def few_seeds(baseline: Run, current: Run, k: int, config: Config, metrics: Sequence[str], rng: random.Random) -> Tally:
    """``k`` seeds of ``baseline`` against ``k`` other seeds of ``current`` (the same run or
    another), on the variants both ran: A/A comparisons of the few-seed rule."""
    same = baseline is current
    where = baseline.source if same else f"{baseline.source} against {current.source}"
    tally = Tally(f"{where}: {k} seed{'s' * (k > 1)} against {k} other{'s' * (k > 1)}", rule(k))
    shared = sorted(baseline.by_variant().keys() & current.by_variant().keys())
    for base, cur in _draws(seeds_of(baseline), seeds_of(current), k, same, rng) if shared else []:
        tally.add(_flagged(subset(baseline, base), subset(current, cur), config, metrics, shared))
    return tally


def detectable(run: Run, config: Config, metrics: Sequence[str], n_current: Sequence[int] = (1, 3)) -> list[list[str]]:
    """Per variant and metric: the noise the gate measures with ``run`` as the baseline, and the
    smallest worse change of the current mean it flags with each number of current seeds."""
    rows = []
    groups = run.by_variant()
    n_gates = len(groups) * len(metrics)
    for variant, cases in groups.items():
        ok = [c for c in cases if c.ok]
        for name in metrics:
            metric, th = METRICS[name], config.for_variant(variant)
            key, skip = timing_key(metric, ok, ok, th) if metric.keys else (metric.key, "")
            values = [v for v in (c.throughput(key) if metric.keys else c.metric(key) for c in ok) if v is not None]
            if not values or skip:
                continue
            th = timing_thresholds(ok, key, th)[0] if metric.keys else th
            n_test = next((c.test_images for c in ok if c.test_images), None)
            shown = [
                metric.gate(values, values[:n], th, n_test, th.false_alarm / n_gates).threshold.split(";")[0]
                for n in n_current
            ]
            rows.append([variant, key, metric.noise(values, n_test).source, *shown])
    return rows


def calibrate(runs: Sequence[Run], config: Config, metrics: Sequence[str], k: int = 3, seed: int = 0) -> list[Tally]:
    """Every A/A comparison the runs allow (see the module's docstring)."""
    usable = [r for r in runs if len(seeds_of(r)) >= MIN_SEEDS]
    if not usable:
        raise ResultsError(
            f"--calibrate needs a run with at least {MIN_SEEDS} seeds of every variant "
            "(pytest benchmarks --seeds 10 --benchmark-json FILE)"
        )
    rng = random.Random(seed)
    tallies = [leave_one_out(r, config, metrics) for r in usable]
    tallies += [splits(r, k, config, metrics, rng) for r in usable]
    tallies += [across(a, b, config, metrics) for a in usable for b in runs if b is not a]
    tallies += [few_seeds(a, b, k, config, metrics, rng) for k in FEW for a in runs for b in runs]
    return [t for t in tallies if t.runs]


def render(
    tallies: Sequence[Tally],
    detect: list[list[str]],
    false_alarm: float,
    metrics: Sequence[str],
    n_current: Sequence[int] = (1, 3),
) -> str:
    """The calibration as plain text: false alarms per kind of comparison, then what the gate detects."""
    lines = [
        f"A/A comparisons, gates {', '.join(METRICS[m].key for m in metrics)} "
        f"(target: at most {false_alarm:.0%} of runs with nothing changed fail)",
        "",
    ]
    for t in tallies:
        which = ", ".join(f"{g} x{n}" for g, n in t.gates.most_common(4))
        lines.append(
            f"  {t.alarms:3d} of {t.runs:3d} failed ({t.rate:.1%}, 95% upper bound "
            f"{upper_bound(t.alarms, t.runs):.1%})  {t.kind}" + (f": {which}" if which else "")
        )
    lines.append("")
    for key, label in RULES.items():
        runs, alarms = sum(t.runs for t in tallies if t.rule == key), sum(t.alarms for t in tallies if t.rule == key)
        if runs:
            lines.append(
                f"all, {label}: {alarms} of {runs} A/A runs failed ({alarms / runs:.1%}, 95% upper bound "
                f"{upper_bound(alarms, runs):.1%})"
            )
    lines.append("")
    header = ["variant", "metric", "noise (one seed)", *(f"detects, {n} seed{'s' * (n > 1)}" for n in n_current)]
    table = [header, *detect]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines.append("smallest change flagged, the first run as the baseline:")
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    return "\n".join(map(printable, lines))
