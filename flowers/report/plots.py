"""Graphs for ``flowers report``: matplotlib (Agg), plain numbers in, PNG bytes out.

Every function takes plain lists and strings (no result objects) and returns the PNG file's bytes.
The same input gives the same bytes (no timestamps or version strings in the PNG), so a report can
name each graph by a hash of its content.  Labels come from result files: they are drawn as plain
text, never parsed as mathtext (:func:`flowers.display.graph_label`).  The style, colors and PNG
bytes are :mod:`flowers.display`'s, shared with ``flowers trends``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display needed; harmless when a backend is already chosen elsewhere

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from flowers import schema
from flowers.display import PLOTTABLE, STYLE, color, graph_label, png

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"


def _finite(values: Sequence[float | None]) -> list[float]:
    """The values to draw: a gap (NaN) for each that is not a number matplotlib can place on an axis."""
    return [float(v) if isinstance(v, (int, float)) and abs(v) <= PLOTTABLE else math.nan for v in values]


def _new(width: float, height: float, rows: int = 1, cols: int = 1, top: float = 0.4, hspace: float = 0.25):
    """A figure with fixed margins (in inches): constrained layout would cost more than the drawing."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height))
        fig.subplots_adjust(
            left=0.8 / width,
            right=1 - 0.15 / width,
            bottom=0.5 / height,
            top=1 - top / height,
            wspace=0.28,
            hspace=hspace,
        )
        axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    return fig, axes


def _epochs_axis(ax, epochs: int) -> None:
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.5, max(epochs, 1) + 0.5)


def _band(ax, x: list[int], s: dict[str, list[float]], col: str) -> None:
    if s.get("low") and s.get("high"):
        n = len(x)
        ax.fill_between(x, _finite(s["low"][:n]), _finite(s["high"][:n]), color=col, alpha=0.15, linewidth=0)


def _accuracy_axis(ax, span: tuple[float, float] | None) -> None:
    """Widen an accuracy axis to at least ``span`` (the binomial interval of one measurement)."""
    if span is None or not ax.lines:
        return
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, span[0]), max(high, min(span[1], 1.0) + 0.005))


def _run_curves(ax, series: dict[str, dict[str, list[float]]], keys: tuple[str, str], label: str, col: str) -> None:
    """One run's training and validation curves of one panel: in two colours when unlabelled (the
    only run), else in the run's colour ``col``, training solid and validation dashed."""
    for key, split, style, single in (
        (keys[0], "training", "-", TRAIN_COLOR),
        (keys[1], "validation", "--", VAL_COLOR),
    ):
        s = series.get(key)
        if not s or not s.get("mean"):
            continue
        mean = _finite(s["mean"])
        x = list(range(1, len(mean) + 1))
        line = col if label else single
        name = f"{label} {split}" if label else split
        ax.plot(x, mean, marker="o", markersize=3, color=line, label=name, linestyle=style if label else "-")
        _band(ax, x, s, line)


def curves(
    title: str,
    runs: list[tuple[str, dict[str, dict[str, list[float]]]]],
    accuracy_span: tuple[float, float] | None = None,
) -> bytes:
    """Learning curves of one variant: loss and accuracy, training vs validation, per epoch, for
    one run or several overlaid.

    ``runs``: ``(label, series)`` each, where ``series`` maps each history key (``loss``,
    ``val_loss``, ``accuracy``, ``val_accuracy``) to ``{"mean": [...], "low": [...], "high": [...]}``
    (low/high, the range over seeds, are optional).  One run: training and validation in two
    colours; several: a colour per run, training solid and validation dashed.  ``accuracy_span``:
    the least range the accuracy axis shows.
    """
    several = len(runs) > 1
    cols = min(4, 2 * len(runs))  # a run's training and validation side by side
    rows = math.ceil(2 * len(runs) / cols)
    legend = 0.3 + 0.24 * rows if several else 0.0  # the legend's band, above the panels' titles
    height = 3.2 + legend
    with matplotlib.rc_context(STYLE):
        fig, (ax_loss, ax_acc) = _new(7.6, height, 1, 2, top=0.65 + legend)
        for ax, metric, val_metric in (
            (ax_loss, schema.LOSS, schema.VAL_LOSS),
            (ax_acc, schema.ACCURACY, schema.VAL_ACCURACY),
        ):
            for r, (label, series) in enumerate(runs):
                _run_curves(ax, series, (metric, val_metric), graph_label(label, 16) if several else "", color(r))
            ax.set_title(metric)
            longest = max((len(s["mean"]) for _, ser in runs for s in ser.values() if s.get("mean")), default=1)
            _epochs_axis(ax, longest)
            if ax.lines and not several:
                ax.legend(loc="best")
        _accuracy_axis(ax_acc, accuracy_span)
        if several:
            _top_legend(fig, ax_loss, graph_label(title, 70), height, cols)
        else:
            fig.suptitle(graph_label(title, 60), fontsize=12, fontweight="bold", y=1 - 0.08 / height, va="top")
        return png(fig)


def _legend_rows(count: int) -> tuple[int, int]:
    cols = max(1, min(count, 3))
    return cols, math.ceil(count / cols)


def _top_legend(fig: Figure, ax, title: str, height: float, cols: int) -> None:
    """The title, then the legend in its own band above the axes (never over the data)."""
    fig.suptitle(title, fontsize=12, fontweight="bold", y=1 - 0.08 / height, va="top")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(
            handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.4 / height), ncols=cols, frameon=False
        )


def overlay(lines: list[tuple[str, list[float], int]], title: str = "Validation accuracy, all variants") -> bytes:
    """Validation accuracy of every variant on one graph: ``(label, values per epoch, color index)``."""
    cols, rows = _legend_rows(len(lines))
    height = 3.4 + 0.24 * rows
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _new(7.6, height, top=0.5 + 0.24 * rows)
        for label, values, index in lines:
            values = _finite(values)
            ax.plot(
                range(1, len(values) + 1),
                values,
                marker="o",
                markersize=3,
                color=color(index),
                label=graph_label(label),
            )
        ax.set_ylabel(schema.VAL_ACCURACY)
        _epochs_axis(ax, max((len(v) for _, v, _ in lines), default=1))
        _top_legend(fig, ax, graph_label(title, 70), height, cols)
        return png(fig)


Line = tuple[str, list[float | None], int, list[float | None], list[float | None]]  # label, values, colour, 95% band


def _error_bars(ax, x: list[int], values: list[float], lows: list[float], highs: list[float], col: str) -> None:
    """Each run's interval as an error bar (runs are separate points: a band would join them)."""
    below = [max(v - lo, 0.0) for v, lo in zip(values, lows)]
    above = [max(hi - v, 0.0) for v, hi in zip(values, highs)]
    ax.errorbar(x, values, yerr=[below, above], fmt="none", ecolor=col, alpha=0.6, capsize=3, linewidth=1)


def trend(run_labels: list[str], accuracy: list[Line], seconds: list[Line], changed: list[int]) -> bytes:
    """Test accuracy and train time of each variant per run, oldest first, each with an error bar
    (the 95% interval of the run's mean, from ``lows`` to ``highs``; empty lists: none).

    ``changed`` holds the indexes of runs whose configuration or data changed: they get a dotted line.
    """
    n = len(run_labels)
    cols, rows = _legend_rows(len(accuracy))
    height = 5.4 + 0.24 * rows
    with matplotlib.rc_context(STYLE):
        fig, (ax_acc, ax_time) = _new(7.6, height, 2, 1, top=0.5 + 0.24 * rows, hspace=0.3)
        x = list(range(1, n + 1))
        for ax, lines, ylabel in ((ax_acc, accuracy, schema.TEST_ACCURACY), (ax_time, seconds, "train time (s)")):
            for label, values, index, lows, highs in lines:
                ax.plot(x, _finite(values), marker="o", markersize=3, color=color(index), label=graph_label(label))
                if lows and highs:
                    _error_bars(ax, x, _finite(values), _finite(lows), _finite(highs), color(index))
            for i in changed:
                ax.axvline(i + 1, color="#999999", linestyle=":", linewidth=1)
            ax.set_ylabel(ylabel)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(n, 12)))
            ax.set_xlim(0.5, n + 0.5)
        ax_time.set_xlabel("run (oldest first)" + ("; dotted: config or data changed" if changed else ""))
        title = "History: test accuracy and train time per run (bars: 95% intervals)"
        _top_legend(fig, ax_acc, title, height, cols)
        return png(fig)


def breakdown(parts: list[str], bars: list[tuple[str, list[float]]]) -> bytes:
    """Where each variant's time went: one horizontal bar per variant, stacked in ``parts`` order,
    in seconds (the bar's length is the case's wall time, written at its end) and, beside it, as
    shares of that time, so that a variant whose bar is a sliver beside a long one still shows.

    ``bars``: ``(label, seconds of each part)``.
    """
    cols, rows = _legend_rows(len(parts))
    height = 1.3 + 0.42 * len(bars) + 0.24 * rows
    with matplotlib.rc_context(STYLE):
        fig, (ax, share) = _new(9.6, height, cols=2, top=0.5 + 0.24 * rows)
        fig.subplots_adjust(left=2.2 / 9.6)
        labels = [graph_label(label, 30) for label, _ in bars][::-1]
        seconds = [[0.0 if math.isnan(s) else max(0.0, s) for s in _finite(sec)] for _, sec in bars][::-1]
        totals = [sum(row) for row in seconds]
        left, start = [0.0] * len(bars), [0.0] * len(bars)
        for i, part in enumerate(parts):
            widths = [row[i] for row in seconds]
            shares = [100 * w / total if total > 0 else 0.0 for w, total in zip(widths, totals)]
            ax.barh(labels, widths, left=left, color=color(i), label=part, height=0.6)
            share.barh(labels, shares, left=start, color=color(i), height=0.6)
            left = [a + b for a, b in zip(left, widths)]
            start = [a + b for a, b in zip(start, shares)]
        for label, total in zip(labels, totals):
            ax.annotate(
                f"{total:.1f} s", (total, label), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
            )
        ax.set_xlim(0, max(totals, default=0) * 1.2 or 1)  # room for the totals
        ax.set_xlabel("seconds")
        share.set_xlim(0, 100)
        share.set_xlabel("share of the case's time (%)")
        share.tick_params(labelleft=False)
        for axis in (ax, share):
            axis.grid(axis="y", visible=False)
        _top_legend(fig, ax, "Where the time goes", height, cols)
        return png(fig)
