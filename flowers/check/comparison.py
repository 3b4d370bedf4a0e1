"""Compare two runs: :func:`compare` gates every variant and metric and returns a
:class:`Comparison`, one :class:`VerdictRow` per variant and metric; a pure function of the runs.

A variant the baseline lacks is ``new``; one the baseline holds but cannot gate (no ok case, or no
throughput figure for the time gate) makes the baseline unusable input (ResultsError: exit 2).  A
variant with no ok case in the current run is ``missing``, and so is a variant where some seeds
failed (one ``cases`` row).  Otherwise each metric's gate (:mod:`flowers.check.metrics`) decides;
a gate that cannot (same-machine metrics between different or unknown machines, a figure the
current run did not record) is ``UNDECIDED``, which fails like a regression, with why and the fix.
Whatever the metrics, the variant's facts (model, preprocessing, weights, config, data, work done)
are compared exactly (:mod:`flowers.check.identity`): each difference is a ``CHANGED`` row, and a
side that records none is ``UNDECIDED``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from flowers.check import identity, power
from flowers.check.metrics import ALL_METRICS, FAILING, METRICS, MISSING, NEW, UNDECIDED, Metric
from flowers.check.settings import DEFAULT_METRICS, Config, Thresholds
from flowers.errors import ResultsError
from flowers.results import Case, Run, metric_values
from flowers.stats import mean_sd
from flowers.text import one_line


@dataclass
class VerdictRow:
    """One line of the check: a variant's metric (or ``cases``), both sides as shown, the verdict."""

    variant: str
    metric: str  # extra_info key, or "cases"
    baseline: str
    current: str
    verdict: str
    change: str = ""
    threshold: str = ""
    how: str = ""
    detectable: float | None = None  # smallest worse change of the mean the gate flags (metric's units)
    fix: str = ""  # an UNDECIDED row: what would let the gate decide

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING


@dataclass
class Comparison:
    baseline: Run
    current: Run
    metrics: tuple[str, ...]
    rows: list[VerdictRow]
    notes: list[str] = field(default_factory=list)
    seeds: str = ""  # what the check flags with the seeds it had (flowers.check.power), said first

    @property
    def regressed(self) -> bool:
        return any(r.failing for r in self.rows)

    def count(self, verdict: str) -> int:
        return len({r.variant for r in self.rows if r.verdict == verdict})

    @property
    def undecided(self) -> list[VerdictRow]:
        """The gates that could not decide (other machine, nothing recorded)."""
        return [r for r in self.rows if r.verdict == UNDECIDED]

    @property
    def gates(self) -> list[VerdictRow]:
        """Every metric row of variants present on both sides: decided or undecided."""
        return [r for r in self.rows if r.metric != "cases" and r.verdict not in (NEW, MISSING)]


def machine_difference(base: Sequence[Case], cur: Sequence[Case]) -> str | None:
    """None when every case on both sides ran on one kind of machine and device (:func:`hardware`:
    the host name aside, so each case of a merged run counts on its own machine), else the reason."""
    unknown = [
        side
        for side, cases in (("baseline", base), ("current run", cur))
        if any(all(v is None for v in c.hardware.values()) for c in cases)
    ]
    if unknown:
        return f"machine unknown: no machine_info in the {' and the '.join(unknown)}"
    kinds = {tuple(c.hardware.values()) for c in [*base, *cur]}
    if len(kinds) == 1:
        return None
    a = {name: {c.hardware[name] for c in base} for name in base[0].hardware}
    b = {name: {c.hardware[name] for c in cur} for name in a}
    diffs = [f"{name} {_one(a[name])}!={_one(b[name])}" for name in a if a[name] != b[name] or len(a[name]) > 1]
    return "different machine: " + "; ".join(diffs)


def _one(values: set) -> str:
    return " / ".join(sorted(map(str, values)))


def failure_text(cases: Sequence[Case]) -> str:
    """The first two cases' status and error, one line each (at most 80 characters of error)."""
    parts = []
    for c in cases[:2]:
        label = f"seed={c.seed}" if c.seed is not None else c.name
        error = one_line(c.error, 80)
        status = "" if c.status == "failed" and error else f"{c.status}" + (": " if error else "")
        parts.append(f"{label}: {status}{error}")
    more = f" (+{len(cases) - 2} more)" if len(cases) > 2 else ""
    return "; ".join(parts) + more


def _fmt(values: Sequence[float], metric: Metric) -> str:
    """Mean (± standard deviation over seeds) as shown in the table; ``-`` without values."""
    if not values:
        return "-"
    mean, sd = mean_sd(values)
    text = f"{mean:.{metric.digits}f}"
    if sd is not None:
        text += f"±{sd:.{metric.digits}f}"
    return text


def timing_key(metric: Metric, base: Sequence[Case], cur: Sequence[Case], th: Thresholds) -> tuple[str, str]:
    """The figure a timing gate reads, and why it cannot gate (or ""): the first of ``metric.keys``
    that every baseline case timed over at least ``min_timed_seconds`` and every case on both sides
    recorded, else the last recorded (the whole case: the longest).  Chosen by the baseline's
    timing alone, so a slower current run cannot switch its own gate off."""
    in_base = [k for k in metric.keys if all(c.throughput(k) is not None for c in base)]
    recorded = [k for k in in_base if all(c.throughput(k) is not None for c in cur)]
    if not recorded:
        key = (in_base or [metric.key])[0]
        lacking = next((c for c in cur if c.throughput(key) is None), None)
        seed = f" (seed={lacking.seed})" if lacking is not None and lacking.seed is not None else ""
        side = "current run" if in_base else "baseline"
        return key, f"not recorded: no positive {key} in the {side}{seed}"
    return next((k for k in recorded if _shortest(base, k) >= th.min_timed_seconds), recorded[-1]), ""


def timing_thresholds(base: Sequence[Case], key: str, th: Thresholds) -> tuple[Thresholds, str]:
    """``th`` for a timing gate on ``key``, and a note when the baseline timed it too briefly.

    A timing under ``min_timed_seconds`` moves between sessions on a shared machine by more than any
    tolerance: only a fall beyond ``short_timing_tolerance`` (a 4x slowdown by default) counts."""
    shortest = _shortest(base, key)
    if shortest >= th.min_timed_seconds:
        return th, ""
    wide = replace(th, throughput_tolerance=max(th.throughput_tolerance, th.short_timing_tolerance))
    return wide, f"; timed briefly: {shortest:.2f}s in the baseline, under min_timed_seconds={th.min_timed_seconds:g}"


def _shortest(cases: Sequence[Case], key: str) -> float:
    return min((c.timed_seconds(key) or 0.0) for c in cases)


def _values(metric: Metric, key: str, cases: Sequence[Case]) -> list[float]:
    if metric.keys:
        return [v for v in (c.throughput(key) for c in cases) if v is not None]
    return metric_values(cases, key)


def _n_test(*groups: Sequence[Case]) -> int | None:
    return next((c.test_images for cases in groups for c in cases if c.test_images), None)


def _variant_names(baseline: Run, current: Run, metrics: Sequence[str], variants: Sequence[str] | None) -> list[str]:
    """The variants to compare, in first-seen order; a bad metric, variant or profile pairing raises."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ResultsError(f"unknown metric {unknown[0]!r}; choose from {', '.join(ALL_METRICS)}")
    if baseline.profile and current.profile and baseline.profile != current.profile:
        raise ResultsError(
            f"{baseline.source} is profile {baseline.profile!r} but {current.source} is "
            f"{current.profile!r}; compare a run with the baseline of its own profile"
        )
    names = list(dict.fromkeys([*baseline.variants, *current.variants]))
    if variants:
        wrong = [v for v in variants if v not in names]
        if wrong:
            raise ResultsError(f"--variants: {wrong[0]!r} is in neither run; known: {', '.join(names)}")
        names = [n for n in names if n in variants]
    return names


def _baseline_gates(source: str, name: str, cases: list[Case], metrics: Sequence[Metric]) -> None:
    """ResultsError unless the baseline's cases of variant ``name`` (it has some) can gate it:
    an ok case, and for a timing metric a throughput figure in every ok case."""
    ok = [c for c in cases if c.ok]
    fix = f"remake the baseline: flowers check --update-baseline {source} RUN"
    if not ok:
        raise ResultsError(
            f"{source}: variant {name!r} has no usable case to gate against ({failure_text(cases)}); {fix}"
        )
    for metric in metrics:
        if metric.keys and not any(all(c.throughput(k) is not None for c in ok) for k in metric.keys):
            raise ResultsError(
                f"{source}: variant {name!r} records no positive throughput ({metric.key}) in every case, "
                f"so the {metric.name} gate cannot judge it; {fix}, or leave {metric.name} out of --metrics"
            )


def _unmatched_rows(
    name: str, base_all: list[Case], cur_all: list[Case], metrics: Sequence[Metric]
) -> list[VerdictRow]:
    """A variant with no ok case on one side: ``new`` (not in the baseline) or ``missing`` (current side)."""
    base_ok, cur_ok = [c for c in base_all if c.ok], [c for c in cur_all if c.ok]
    cur_failed = [c for c in cur_all if not c.ok]
    if not base_all:
        how = "not in baseline" + ("; failed here: " + failure_text(cur_failed) if not cur_ok and cur_failed else "")
        return [VerdictRow(name, m.key, "-", _fmt(metric_values(cur_ok, m.key), m), NEW, how=how) for m in metrics]
    how = ("not ok: " + failure_text(cur_failed)) if cur_failed else "absent from the current run"
    if cur_failed and all(c.status == "failed" for c in cur_failed):
        how = "failed: " + failure_text(cur_failed)
    return [VerdictRow(name, m.key, _fmt(metric_values(base_ok, m.key), m), "-", MISSING, how=how) for m in metrics]


# What lets an UNDECIDED gate decide, by the reason's first words ({metric}: the gate's name).
FIXES = {
    "machine unknown": "compare runs that record their machine_info, or leave {metric} out of --metrics",
    "different machine": "compare runs made on one kind of machine, or leave {metric} out of --metrics",
    "not recorded": "rerun to record it, or leave {metric} out of --metrics",
}


@dataclass
class _Gate:
    """One variant's metric, planned: its row, the values to gate, or why it cannot decide."""

    row: VerdictRow
    metric: Metric
    base: list[float]
    cur: list[float]
    n_test: int | None
    th: Thresholds
    undecided: str = ""  # why the gate cannot decide ("" when it can)

    def decide(self, alpha: float) -> None:
        """Fill the row: UNDECIDED with its reason and fix, or the gate's verdict at false-alarm rate ``alpha``."""
        if self.undecided:
            self.row.fix = FIXES[self.undecided.split(":")[0]].format(metric=self.metric.name)
            self.row.how = f"{self.undecided}; {self.row.fix}{self.row.how}"
            if self.base and self.cur:
                self.row.change = self.metric.change(self.base, self.cur)
            return
        v = self.metric.gate(self.base, self.cur, self.th, self.n_test, alpha)
        r = self.row
        r.verdict, r.change, r.threshold, r.how, r.detectable = (
            v.verdict,
            v.change,
            v.threshold,
            v.how + r.how,
            v.detectable,
        )


def _plan(name: str, metric: Metric, base: list[Case], cur: list[Case], th: Thresholds) -> _Gate:
    """One variant's metric, both sides with ok cases: what its gate reads, or why it cannot decide."""
    key, why = timing_key(metric, base, cur, th) if metric.keys else (metric.key, "")
    th, brief = timing_thresholds(base, key, th) if metric.keys and not why else (th, "")
    b, c = _values(metric, key, base), _values(metric, key, cur)
    if metric.same_machine:
        why = machine_difference(base, cur) or why
    if not why and (not b or not c):
        why = f"not recorded: no {key} in the {'baseline' if not b else 'current run'}"
    row = VerdictRow(name, key, _fmt(b, metric), _fmt(c, metric), UNDECIDED, how=brief)
    return _Gate(row, metric, b, c, _n_test(base, cur), th, why)


def _variant_gates(
    name: str, base_all: list[Case], cur_all: list[Case], metrics: Sequence[Metric], th: Thresholds
) -> list[VerdictRow | _Gate]:
    base_ok, cur_ok = [c for c in base_all if c.ok], [c for c in cur_all if c.ok]
    if not base_ok or not cur_ok:
        return list(_unmatched_rows(name, base_all, cur_all, metrics))
    out: list[VerdictRow | _Gate] = []
    cur_failed = [c for c in cur_all if not c.ok]
    if cur_failed:
        how = f"{len(cur_failed)} of {len(cur_all)} not ok: " + failure_text(cur_failed)
        out.append(VerdictRow(name, "cases", str(len(base_all)), f"{len(cur_ok)} ok", MISSING, how=how))
    same_machine = machine_difference(base_ok, cur_ok) is None
    for fact, verdict, how, fix in identity.verdicts(base_ok, cur_ok, same_machine):
        out.append(VerdictRow(name, fact, "", "", verdict, how=how, fix=fix))
    out += [_plan(name, metric, base_ok, cur_ok, th) for metric in metrics]
    return out


def compare(
    baseline: Run,
    current: Run,
    config: Config | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    variants: Sequence[str] | None = None,
) -> Comparison:
    """Gate every variant of ``baseline`` against ``current``; a pure function of the two runs.

    The run's false-alarm budget (``false_alarm``) is split evenly over the gates that can decide
    (Bonferroni), so a run with nothing changed fails at most that often, all gates together.
    """
    config = config or Config()
    names = _variant_names(baseline, current, metrics, variants)
    notes = [
        f"{run.source} is from an interrupted run (flowers.complete is false)"
        for run in (current, baseline)
        if not run.complete
    ]
    ok = [c for c in baseline.cases if c.ok], [c for c in current.cases if c.ok]
    other = machine_difference(*ok) if all(ok) else None
    if other:
        notes.append(
            f"how the cases ran (XLA, oneDNN, mixed precision, device) is compared on one kind of machine only: {other}"
        )
    base_groups, cur_groups = baseline.by_variant(), current.by_variant()
    gated = [METRICS[m] for m in metrics]
    for name in names:
        if base_groups.get(name):
            _baseline_gates(baseline.source, name, base_groups[name], gated)
    planned: list[VerdictRow | _Gate] = []
    for name in names:
        planned += _variant_gates(
            name, base_groups.get(name, []), cur_groups.get(name, []), gated, config.for_variant(name)
        )
    live = [g for g in planned if isinstance(g, _Gate) and not g.undecided]
    for g in planned:
        if isinstance(g, _Gate):
            g.decide(g.th.false_alarm / max(1, len(live)))
    rows = [g.row if isinstance(g, _Gate) else g for g in planned]
    seeds = power.line(baseline, current, rows, metrics, config)
    return Comparison(baseline, current, tuple(metrics), rows, notes, seeds)
