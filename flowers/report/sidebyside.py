"""The comparison view: several runs of one profile side by side, each against a reference run.

Per metric (test accuracy, test loss, training throughput) a table with a row per variant: each
run's mean over its seeds with the 95% interval of the mean, the best of them marked, then for each
run its difference from the reference with the 95% interval and the verdict in words, and what
these seeds can resolve at all.  The statistics are :mod:`flowers.effects`'; the differences worth
resolving are the check's tolerances (:class:`flowers.check.settings.Thresholds`).  Throughput is
compared only between cases of one kind of machine (:func:`flowers.results.hardware`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flowers import effects
from flowers.check import Thresholds
from flowers.display import NONE, fmt_date
from flowers.effects import Effect, Measure, Summary
from flowers.report.cases import status
from flowers.report.history import changes
from flowers.report.model import EffectCell, RunLabel, SideBySide, SideRow, SideTable, ValueCell
from flowers.results import Case, Run, metric_values

MAX_RUNS = 6  # runs in the view: the reference and the newest others (more: the history has them)
# (measure, title, the check's tolerance: the difference worth resolving, whether it is a ratio)
TABLES = (
    (effects.ACCURACY, "Test accuracy", "accuracy_tolerance", False),
    (effects.LOSS, "Test loss", "loss_tolerance", True),
    (effects.THROUGHPUT, "Training throughput (images/s)", "throughput_tolerance", True),
)
MACHINE_NOTE = "Compared only between runs on one kind of machine (CPU model, cores, device)"


def pick(runs: Sequence[Run], reference: int) -> tuple[list[int], int]:
    """The indexes of the runs in the view (oldest first) and the position of the reference among
    them: every run up to :data:`MAX_RUNS`, else the reference and the newest others."""
    rest = [i for i in range(len(runs)) if i != reference][-(MAX_RUNS - 1) :]
    shown = sorted([reference, *rest])
    return shown, shown.index(reference)


def _fmt(measure: Measure, value: float, sign: bool = False) -> str:
    if measure.relative:  # throughput: images/s, a difference as a percentage
        return f"{value:+.0%}" if sign else f"{value:,.1f}"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _interval(measure: Measure, low: float | None, high: float | None, sign: bool = False) -> str:
    if low is None or high is None:
        return ""
    if measure.relative:
        return f"[{low:+.0%}, {high:+.0%}]" if sign else f"[{low:,.0f}, {high:,.0f}]"
    return f"[{low:+.3f}, {high:+.3f}]" if sign else f"[{low:.3f}, {high:.3f}]"


def _n_test(cases: Sequence[Case]) -> int | None:
    return next((c.test_images for c in cases if c.test_images), None)


def _summary(measure: Measure, cases: Sequence[Case], n_test: int | None) -> Summary | None:
    values = metric_values([c for c in cases if c.ok], measure.key)
    return effects.summarise(measure, values, n_test) if values else None


def _machine(cases: Sequence[Case]) -> tuple | None:
    """The one kind of machine all ``cases`` ran on (None when unknown or several)."""
    kinds = {tuple(c.hardware.values()) for c in cases}
    return next(iter(kinds)) if len(kinds) == 1 and any(next(iter(kinds))) else None


def _effect_cell(
    measure: Measure, ref: Summary | None, other: Summary | None, target: float, ratio: bool
) -> tuple[EffectCell, Effect | None]:
    if ref is None or other is None:
        return EffectCell(note="no reference" if ref is None else ""), None
    e = effects.effect(measure, ref, other, target, ratio)
    cell = EffectCell(_fmt(measure, e.diff, True), _interval(measure, e.low, e.high, True), e.verdict)
    return cell, e  # the effect's note goes to the row's resolution, once


def _resolution(measure: Measure, e: Effect, n: tuple[int, int], ratio: bool) -> str:
    """What the seeds can show, e.g. "with 3 seeds per run, a drop below 0.065 cannot be told from
    noise; about 12 seeds per run would resolve a drop of 0.02"."""
    seeds = f"{n[0]} seed{'s' * (n[0] > 1)} per run" if n[0] == n[1] else f"{n[0]} and {n[1]} seeds"
    if e.resolution is None:
        return f"with {seeds}: no measure of seed noise; run --seeds 3 or more"
    below = f"{e.resolution:.0%}" if measure.relative else f"{e.resolution:.2g}"
    note = f" ({e.note})" if e.note else ""
    text = f"with {seeds}{note}, a {measure.worse} below {below} cannot be told from noise"
    target = f"a {measure.worse} of {e.target:.0%}" if ratio else f"a {measure.worse} of {e.target:g}"
    if e.needed is not None and e.needed <= min(n):
        text += f"; these seeds resolve {target}"
    elif e.needed is not None:
        count = "more than 1000" if e.needed > 1000 else f"about {e.needed}"
        text += f"; {count} seeds per run would resolve {target}"
    return text


def _row(variant: str, groups: list[list[Case]], ref: int, spec: tuple, th: Thresholds) -> SideRow:
    measure, _, tolerance, ratio = spec
    target = getattr(th, tolerance)
    n_test = _n_test(groups[ref]) or next((n for cases in groups if (n := _n_test(cases))), None)
    summaries = [_summary(measure, cases, n_test) for cases in groups]  # one scale for the row
    machines = [_machine([c for c in cases if c.ok]) for cases in groups]
    comparable = [
        s is not None and (not measure.relative or (machines[i] is not None and machines[i] == machines[ref]))
        for i, s in enumerate(summaries)
    ]
    values = [
        ValueCell(_fmt(measure, s.mean), _interval(measure, s.low, s.high), status=status(cases), n=s.n)
        if s is not None
        else ValueCell(NONE, status=status(cases))
        for s, cases in zip(summaries, groups)
    ]
    _mark_best(measure, values, summaries, comparable)
    cells, words = [], []
    for i, other in enumerate(summaries):
        if i == ref:
            continue
        if measure.relative and other is not None and not comparable[i]:
            unknown = machines[ref] is None or machines[i] is None
            why = "machine not recorded" if unknown else "another kind of machine"
            cells.append(EffectCell(note=f"{why}: not compared"))
            continue
        base = summaries[ref]
        cell, e = _effect_cell(measure, base, other, target, ratio)
        cells.append(cell)
        if e is not None and other is not None and base is not None:
            words.append(_resolution(measure, e, (base.n, other.n), ratio))
    return SideRow(variant, values, cells, "; ".join(dict.fromkeys(words)))


def _mark_best(measure: Measure, values: list[ValueCell], summaries: list, comparable: list[bool]) -> None:
    """Mark the best mean of the row (all that share it), when the runs compared do not all agree."""
    means = [(s.mean, i) for i, s in enumerate(summaries) if s is not None and comparable[i]]
    if len(means) < 2 or len({round(m, 6) for m, _ in means}) == 1:
        return
    best = max(m for m, _ in means) if measure.higher_is_better else min(m for m, _ in means)
    for m, i in means:
        values[i].best = round(m, 6) == round(best, 6)


def _seeds(run: Run, variants: Sequence[str]) -> str:
    groups = run.by_variant()
    counts = sorted({sum(c.ok for c in groups[v]) for v in variants if v in groups})
    if not counts:
        return NONE
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def side_by_side(runs: list[Run], labels: list[str], ref: int, variants: list[str], left_out: int = 0) -> SideBySide:
    """The comparison view of ``runs`` (oldest first; ``labels`` theirs) against ``runs[ref]``."""
    th = Thresholds()
    groups = [run.by_variant() for run in runs]
    tables = []
    for spec in TABLES:
        rows = [_row(v, [g.get(v, []) for g in groups], ref, spec, th) for v in variants]
        tables.append(SideTable(spec[0].key, spec[1], rows, MACHINE_NOTE if spec[0].relative else ""))
    heads = [
        RunLabel(
            label,
            Path(run.source).name,
            fmt_date(run.datetime),
            i == ref,
            _seeds(run, variants),
            [] if i == ref else changes(runs[ref], run),
        )
        for i, (run, label) in enumerate(zip(runs, labels))
    ]
    others = [label for i, label in enumerate(labels) if i != ref]
    return SideBySide(heads, others, tables, left_out)
