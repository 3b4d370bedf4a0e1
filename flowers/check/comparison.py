"""Compare two runs: :func:`compare` gates every variant and metric and returns a
:class:`Comparison`, one :class:`VerdictRow` per variant and metric; a pure function of the runs.

A variant whose baseline cases all failed (or that the baseline lacks) is ``new``; one with no ok
case in the current run is ``missing``, and so is a variant where some seeds failed (one ``cases``
row).  Otherwise each metric's gate (:mod:`flowers.check.metrics`) decides, except that
same-machine metrics are ``skipped`` between different machines.  A change of configuration,
data, model or weights is noted on every row of the variant, whatever the verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from flowers import architecture
from flowers.check.metrics import ALL_METRICS, FAILING, METRICS, MISSING, NEW, SKIPPED, Metric
from flowers.check.settings import Config, Thresholds
from flowers.results import Case, ResultsError, Run, metric_values, without_seed
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

    @property
    def regressed(self) -> bool:
        return any(r.failing for r in self.rows)

    def count(self, verdict: str) -> int:
        return len({r.variant for r in self.rows if r.verdict == verdict})


def machine_difference(baseline: Run, current: Run) -> str | None:
    """None when both runs come from one known machine and device, else the reason they do not."""
    a, b = baseline.machine_fields, current.machine_fields
    if all(v is None for v in a.values()) or all(v is None for v in b.values()):
        return "machine unknown"
    diffs = [f"{name} {a[name]}!={b[name]}" for name in a if a[name] != b[name]]
    cores = [run.environment.get("cores") for run in (baseline, current)]
    if None not in cores and cores[0] != cores[1]:  # e.g. a shard pinned to one core (recorded since 0.1)
        diffs.append(f"cores {cores[0]}!={cores[1]}")
    if diffs:
        return "different machine: " + "; ".join(diffs)
    return None


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


def _key(metric: Metric, base: Sequence[Case], cur: Sequence[Case]) -> str:
    """The extra_info key a gate reads: the preferred one (steady throughput) when every case on
    both sides has it, else the metric's own."""
    preferred = metric.preferred_key
    if preferred and all(c.metric(preferred) is not None for c in [*base, *cur]):
        return preferred
    return metric.key


def _shortest_timing(key: str, cases: Sequence[Case]) -> float:
    """The shortest interval a throughput ``key`` was timed over (inf when none is recorded)."""
    return min((s for s in (c.timed_seconds(key) for c in cases) if s is not None), default=math.inf)


def _n_test(*groups: Sequence[Case]) -> int | None:
    return next((c.test_images for cases in groups for c in cases if c.test_images), None)


def _config_change(base: Sequence[Case], cur: Sequence[Case]) -> str:
    """A short note when the variant's configuration (seed aside), data, model or weights changed."""
    a = next((without_seed(c.config) for c in base if c.config), {})
    b = next((without_seed(c.config) for c in cur if c.config), {})
    notes = []
    changed = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)] if a and b else []
    if changed:
        shown = ", ".join(f"{k} {a.get(k)!r}->{b.get(k)!r}" for k in changed[:3])
        notes.append(f"config changed: {shown}{' ...' if len(changed) > 3 else ''}")
    ha = next((c.dataset.get("hash") for c in base if c.dataset), None)
    hb = next((c.dataset.get("hash") for c in cur if c.dataset), None)
    if ha and hb and ha != hb:
        notes.append(f"dataset changed: {ha}->{hb}")
    if base and cur:  # model and weights: on record since model fingerprints (None for older files)
        notes += architecture.model_changes(base[0], cur[0]) or []
    return "; ".join(notes)


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


def _unmatched_rows(
    name: str, base_all: list[Case], cur_all: list[Case], metrics: Sequence[Metric]
) -> list[VerdictRow]:
    """A variant with no ok case on one side: ``new`` (baseline side) or ``missing`` (current side)."""
    base_ok, cur_ok = [c for c in base_all if c.ok], [c for c in cur_all if c.ok]
    cur_failed = [c for c in cur_all if not c.ok]
    if not base_ok:
        how = ("failed in baseline: " + failure_text(base_all)) if base_all else "not in baseline"
        if not cur_ok and cur_failed:
            how += "; failed here too: " + failure_text(cur_failed)
        return [VerdictRow(name, m.key, "-", _fmt(metric_values(cur_ok, m.key), m), NEW, how=how) for m in metrics]
    how = ("not ok: " + failure_text(cur_failed)) if cur_failed else "absent from the current run"
    if cur_failed and all(c.status == "failed" for c in cur_failed):
        how = "failed: " + failure_text(cur_failed)
    return [VerdictRow(name, m.key, _fmt(metric_values(base_ok, m.key), m), "-", MISSING, how=how) for m in metrics]


def _metric_row(
    name: str, metric: Metric, base: list[Case], cur: list[Case], th: Thresholds, machine: str | None
) -> VerdictRow:
    """One variant's metric, both sides with ok cases: the gate's verdict, or why it was skipped."""
    key = _key(metric, base, cur)
    b, c = metric_values(base, key), metric_values(cur, key)
    row = VerdictRow(name, key, _fmt(b, metric), _fmt(c, metric), SKIPPED)
    if metric.same_machine and machine:
        row.how = machine
        if b and c:
            row.change = metric.change(b, c)[1]
    elif not b or not c:
        row.how = f"no {key} in the {'baseline' if not b else 'current run'}"
    elif metric.timed and (shortest := _shortest_timing(key, [*base, *cur])) < th.min_timed_seconds:
        # A fraction of a second on a shared machine moves by more than any tolerance.
        row.how = f"timed over {shortest:.2f}s, under min_timed_seconds={th.min_timed_seconds:g}: too short to gate"
        row.change = metric.change(b, c)[1]
    else:
        v = metric.gate(b, c, th, _n_test(base, cur))
        row.verdict, row.change, row.threshold, row.how = v.verdict, v.change, v.threshold, v.how
    return row


def _variant_rows(
    name: str, base_all: list[Case], cur_all: list[Case], metrics: Sequence[Metric], th: Thresholds, machine: str | None
) -> list[VerdictRow]:
    base_ok, cur_ok = [c for c in base_all if c.ok], [c for c in cur_all if c.ok]
    if not base_ok or not cur_ok:
        return _unmatched_rows(name, base_all, cur_all, metrics)
    rows = []
    cur_failed = [c for c in cur_all if not c.ok]
    if cur_failed:
        how = f"{len(cur_failed)} of {len(cur_all)} not ok: " + failure_text(cur_failed)
        rows.append(VerdictRow(name, "cases", str(len(base_all)), f"{len(cur_ok)} ok", MISSING, how=how))
    change_note = _config_change(base_ok, cur_ok)
    for metric in metrics:
        row = _metric_row(name, metric, base_ok, cur_ok, th, machine)
        if change_note:  # whatever the verdict: a regression and its likely cause read together
            row.how += f"; {change_note}"
        rows.append(row)
    return rows


def compare(
    baseline: Run,
    current: Run,
    config: Config | None = None,
    metrics: Sequence[str] = ALL_METRICS,
    variants: Sequence[str] | None = None,
) -> Comparison:
    """Gate every variant of ``baseline`` against ``current``; a pure function of the two runs."""
    config = config or Config()
    names = _variant_names(baseline, current, metrics, variants)
    notes = [
        f"{run.source} is from an interrupted run (flowers.complete is false)"
        for run in (current, baseline)
        if not run.complete
    ]
    machine = machine_difference(baseline, current)
    base_groups, cur_groups = baseline.by_variant(), current.by_variant()
    gated = [METRICS[m] for m in metrics]
    rows: list[VerdictRow] = []
    for name in names:
        th = config.for_variant(name)
        rows += _variant_rows(name, base_groups.get(name, []), cur_groups.get(name, []), gated, th, machine)
    return Comparison(baseline, current, tuple(metrics), rows, notes)
