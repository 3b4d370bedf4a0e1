"""Learning curves: for each variant, the per-epoch history of every run compared (the mean over
its seeds, with their range as a band), and one graph of every variant's validation accuracy in
the latest run.  Accuracy axes are never narrower than the binomial interval of the validation
split (:func:`flowers.effects.binomial_interval`): one image more or less is not drawn as a cliff."""

from __future__ import annotations

import math

from flowers import schema
from flowers.display import Figure, figure
from flowers.effects import binomial_interval
from flowers.report.cases import status
from flowers.results import Case
from flowers.schema import finite

HISTORY_KEYS = (schema.LOSS, schema.VAL_LOSS, schema.ACCURACY, schema.VAL_ACCURACY)  # in the graphs' order


def series(cases: list[Case]) -> dict[str, dict[str, list[float]]]:
    """Per-epoch history of one variant: the mean over seeds, with the range when several."""
    out: dict[str, dict[str, list[float]]] = {}
    for key in HISTORY_KEYS:
        lists = [[_number(v) for v in c.history[key]] for c in cases if c.history.get(key)]
        if not lists:
            continue
        length = min(len(v) for v in lists)
        cols = [[v[i] for v in lists] for i in range(length)]
        s = {"mean": [sum(c) / len(c) for c in cols]}
        if len(lists) > 1:
            s["low"], s["high"] = [min(c) for c in cols], [max(c) for c in cols]
        out[key] = s
    return out


def _number(value: object) -> float:
    number = finite(value)
    return math.nan if number is None else number


def accuracy_span(cases: list[Case], lines: list[dict[str, dict[str, list[float]]]]) -> tuple[float, float] | None:
    """The binomial interval of the validation split around the highest validation accuracy drawn
    (None when the split's size or the curve is not recorded)."""
    n = next(
        (v for c in cases if isinstance(v := c.dataset.get(schema.SPLITS, {}).get(schema.VALIDATION), int) and v > 0),
        None,
    )
    tops = [x for s in lines for x in s.get(schema.VAL_ACCURACY, {}).get("mean", []) if not math.isnan(x)]
    return binomial_interval(min(max(tops), 1.0), n) if n and tops else None


def _variant(v: str, runs: list[tuple[str, dict[str, list[Case]]]]) -> Figure | str:
    """``v``'s graph over the runs, or why it has none."""
    from flowers.report import plots  # matplotlib is only imported when a report is built

    drawn, seeds, all_cases = [], [], []
    for label, by_variant in runs:
        cases = by_variant.get(v, [])
        with_history = [c for c in cases if c.ok] or [c for c in cases if c.history]
        lines = series(with_history)
        all_cases += cases
        if lines:
            failed = "" if any(c.ok for c in cases) else f" ({status(cases)})"  # failed, invalid...
            drawn.append((f"{label}{failed}", lines))
            seeds.append(len(with_history))
    if not drawn:
        return _why_no_curves(all_cases)
    if len(runs) == 1:
        label = drawn[0][0].strip()
        title = f"{v}{' ' + label if label else ''}" + (f" (mean of {seeds[0]} seeds)" if seeds[0] > 1 else "")
    else:
        title = f"{v}: runs {', '.join(label for label, _ in drawn)}" + (
            f" (mean of {'/'.join(map(str, seeds))} seeds, band: their range)" if max(seeds) > 1 else ""
        )
    png = plots.curves(title, drawn, accuracy_span(all_cases, [lines for _, lines in drawn]))
    return figure(
        png,
        f"Learning curves of {v}" + (f", runs {', '.join(label for label, _ in drawn)}" if len(runs) > 1 else ""),
        title,
    )


def curves(
    variants: list[str], runs: list[tuple[str, dict[str, list[Case]]]], colors: dict[str, int], latest: str = ""
) -> tuple[list[Figure], list[tuple[str, str]], Figure | None]:
    """Each variant's learning-curve graph over ``runs`` ((label, cases by variant), oldest first;
    one run: label ""), (variant, why) for those without one, and the overlay of every variant's
    validation accuracy in the last run (None when no variant recorded it)."""
    from flowers.report import plots

    graphs, without = [], []
    for v in variants:
        made = _variant(v, runs)
        if isinstance(made, str):
            without.append((v, made))
        else:
            graphs.append(made)
    overlay_lines = []
    for v in variants:
        cases = runs[-1][1].get(v, [])
        lines = series([c for c in cases if c.ok] or [c for c in cases if c.history])
        if schema.VAL_ACCURACY in lines:
            overlay_lines.append((v, lines[schema.VAL_ACCURACY]["mean"], colors[v]))
    overlay = None
    if overlay_lines:
        which = f", run {latest}" if len(runs) > 1 else ""
        overlay = figure(
            plots.overlay(overlay_lines, f"Validation accuracy, all variants{which}"),
            f"Validation accuracy of every variant per epoch{which}",
            f"All variants: validation accuracy{which}",
        )
    return graphs, without, overlay


def _why_no_curves(cases: list[Case]) -> str:
    if not cases:
        return "missing from this run"
    if any(c.ok for c in cases):
        return "no history recorded"
    return "failed before any epoch was recorded"
