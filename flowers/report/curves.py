"""Learning curves: a graph of each variant's per-epoch history (the mean over its seeds, with their
range), and one graph of every variant's validation accuracy."""

from __future__ import annotations

import math

from flowers import schema
from flowers.report.cases import status
from flowers.report.model import Figure, figure
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


def curves(
    variants: list[str], by_variant: dict[str, list[Case]], colors: dict[str, int]
) -> tuple[list[Figure], list[tuple[str, str]], Figure | None]:
    """Each variant's learning-curve graph, (variant, why) for those without one, and the overlay
    of every variant's validation accuracy (None when no variant recorded it)."""
    from flowers import plots  # matplotlib is only imported when a report is built

    graphs, without, overlay_lines = [], [], []
    for v in variants:
        cases = by_variant.get(v, [])
        with_history = [c for c in cases if c.ok] or [c for c in cases if c.history]
        lines = series(with_history)
        if not lines:
            without.append((v, _why_no_curves(cases)))
            continue
        failed = "" if any(c.ok for c in cases) else f" ({status(cases)})"  # failed, invalid...
        seeds = f" (mean of {len(with_history)} seeds)" if len(with_history) > 1 else ""
        title = f"{v}{failed}{seeds}"
        graphs.append(figure(plots.curves(title, lines), f"Learning curves of {v}", title))
        if schema.VAL_ACCURACY in lines:
            overlay_lines.append((v, lines[schema.VAL_ACCURACY]["mean"], colors[v]))
    overlay = None
    if overlay_lines:
        overlay = figure(
            plots.overlay(overlay_lines),
            "Validation accuracy of every variant per epoch",
            "All variants: validation accuracy",
        )
    return graphs, without, overlay


def _why_no_curves(cases: list[Case]) -> str:
    if not cases:
        return "missing from this run"
    if any(c.ok for c in cases):
        return "no history recorded"
    return "failed before any epoch was recorded"
