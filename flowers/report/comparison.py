"""The comparison table: one row per variant of the latest run, its scores beside the original
experiment's (:mod:`flowers.registry`), with its speed, size, efficiency, memory and feature cache,
and notes on failed, skipped and missing cases."""

from __future__ import annotations

from flowers import registry, schema
from flowers.display import NONE, fmt_bytes, fmt_int, fmt_rate, fmt_seconds, fmt_span, fmt_stat, fmt_value
from flowers.report.cases import mean, mean_of, status
from flowers.report.model import ComparisonRow
from flowers.results import Case, Run, metric_values
from flowers.schema import INVALID, MISSING, SKIPPED, finite
from flowers.text import one_line


def columns(by_variant: dict[str, list[Case]]) -> dict[str, bool]:
    """The optional columns, each shown when some ok case of the run recorded it."""
    ok = [c for cases in by_variant.values() for c in cases if c.ok]
    return {
        "seeds": any(len(cs) > 1 for cs in by_variant.values()),
        "efficiency": any(c.metric(schema.ACHIEVED_GFLOPS) is not None and c.metric(schema.PEAK_GFLOPS) for c in ok),
        "peak_memory": any(c.metric(schema.PEAK_MEMORY_BYTES) is not None for c in ok),
        "feature_cache": any(c.feature_cache for c in ok),
    }


def comparison_row(variant: str, cases: list[Case], run: Run, seen_in: str | None, notes: list[str]) -> ComparisonRow:
    """``variant``'s row from its ``cases`` in ``run``; ``seen_in`` names an earlier run that had it,
    and ``notes`` (the numbered notes under the table) gets the original's note when it applies."""
    orig = registry.original(variant)
    row = ComparisonRow(
        variant=variant,
        model=orig.model if orig else "",
        status=status(cases),
        n=str(sum(c.ok for c in cases)) if cases else "0",
    )
    if orig:
        row.test_loss_orig = f"{orig.test_loss:.4f}"
        row.test_accuracy_orig = f"{orig.test_accuracy:.4f}"
    ok = [c for c in cases if c.ok]
    if ok:
        _scores(row, ok, orig, notes)
        _measures(row, ok)
    _problems(row, cases, run, seen_in)
    if not orig and row.status != MISSING:
        row.notes.append("not in the original experiment")
    return row


def _scores(row: ComparisonRow, ok: list[Case], orig: registry.Original | None, notes: list[str]) -> None:
    """Test loss and accuracy over the ok seeds, and their difference from the original's."""
    losses, accs = metric_values(ok, schema.TEST_LOSS), metric_values(ok, schema.TEST_ACCURACY)
    row.test_loss, row.test_accuracy = fmt_stat(losses), fmt_stat(accs)
    if not orig:
        return
    row.test_loss_diff, row.test_loss_trend = _diff(mean(losses), orig.test_loss, False)
    row.test_accuracy_diff, row.test_accuracy_trend = _diff(mean(accs), orig.test_accuracy, True)
    acc, note = mean(accs), orig.note
    if note and acc is not None and acc > orig.test_accuracy + note.above:
        row.notes.append(f"far above the original's {orig.test_accuracy:.4f}: {note.reason}")
        if note.text not in notes:
            notes.append(note.text)
        row.note_refs.append(notes.index(note.text) + 1)


def _measures(row: ComparisonRow, ok: list[Case]) -> None:
    """Epochs, time, speed, size, efficiency, memory and feature cache over the ok seeds."""
    row.epochs = fmt_span([int(e) for e in metric_values(ok, schema.EPOCHS)])
    row.train_time = fmt_seconds(mean_of(ok, schema.TRAIN_SECONDS))
    row.images_per_second = fmt_rate(mean_of(ok, schema.TRAIN_THROUGHPUT))
    row.params_total = fmt_int(ok[0].metric(schema.PARAMS_TOTAL))
    row.params_trainable = fmt_int(ok[0].metric(schema.PARAMS_TRAINABLE))
    row.params = f"{row.params_total} / {row.params_trainable}"
    row.efficiency, row.efficiency_detail, row.efficiency_gflops = _efficiency(ok)
    memory = metric_values(ok, schema.PEAK_MEMORY_BYTES)
    row.peak_memory = fmt_bytes(max(memory)) if memory else NONE
    row.feature_cache, row.feature_cache_detail = _feature_cache(ok)


def _problems(row: ComparisonRow, cases: list[Case], run: Run, seen_in: str | None) -> None:
    """A note for each seed that failed, was skipped or is invalid, and why a missing variant is missing."""
    for c in cases:
        if not c.ok:
            seed = f" (seed {c.seed})" if c.seed is not None and len(cases) > 1 else ""
            what = c.status.upper() if c.status in (SKIPPED, INVALID) else "FAILED"
            row.notes.append(f"{what}{seed}: {one_line(c.error or 'no reason recorded')}")
    if row.status == MISSING:
        why = "not in this run" + (f" (present in {seen_in})" if seen_in else "")
        if not run.complete:
            why += "; the run was interrupted"
        row.notes.append(why)


def _diff(ours: float | None, orig: float, higher_is_better: bool) -> tuple[str, str]:
    if ours is None:
        return "", ""
    d = ours - orig
    trend = "" if abs(d) < 0.005 else ("better" if (d > 0) == higher_is_better else "worse")
    return f"{d:+.4f}", trend


def _efficiency(cases: list[Case]) -> tuple[str, str, str]:
    """Achieved over peak GFLOP/s as (percentage, "achieved / peak GFLOP/s", the same without unit)."""
    pairs = [
        (a, p)
        for a, p in ((c.metric(schema.ACHIEVED_GFLOPS), c.metric(schema.PEAK_GFLOPS)) for c in cases)
        if a is not None and p
    ]
    if not pairs:
        return NONE, "", ""
    achieved = sum(a for a, _ in pairs) / len(pairs)
    peak = sum(p for _, p in pairs) / len(pairs)
    gflops = f"{achieved:.1f} / {peak:.0f}"
    return f"{100 * achieved / peak:.1f}%", f"{gflops} GFLOP/s", gflops


def _feature_cache(cases: list[Case]) -> tuple[str, str]:
    """The feature cache as (``off`` or the cached layer, "size, seconds to build")."""
    for c in cases:
        fc = c.feature_cache
        if fc:
            if not fc.get(schema.ENABLED):
                return "off", ""
            parts = [fmt_bytes(finite(fc.get(schema.BYTES)))]
            if fc.get(schema.STORAGE):
                parts[0] += f" in {fmt_value(fc[schema.STORAGE], 20)}"
            if finite(fc.get(schema.SECONDS)) is not None:
                parts.append(fmt_seconds(finite(fc.get(schema.SECONDS))))
            return (fmt_value(fc[schema.LAYER], 40) if fc.get(schema.LAYER) else "on"), ", ".join(parts)
    return NONE, ""
