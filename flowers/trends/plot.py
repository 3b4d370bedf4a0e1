"""The trend graph of one variant: test accuracy, test loss and throughput against the date, each
night's mean with the range of its seeds, and a line at every flagged step (red: worse, green:
better) labelled with the night's commit.  Plain numbers in, PNG bytes out, in the report's style
(:mod:`flowers.display`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from flowers.display import PLOTTABLE, STYLE, color, graph_label, png

WORSE, BETTER = "#cf222e", "#1a7f37"
LABELS = {"accuracy": "test accuracy", "loss": "test loss", "time": "images/s"}


def _panel(ax, dates: Sequence[datetime], values: Sequence[Sequence[float]], metric: str, index: int) -> None:
    """One metric: the range of the seeds as a band, the mean as a line (gaps where no value, and
    where a value is too large for matplotlib's axis arithmetic)."""
    values = [[x for x in v if abs(x) <= PLOTTABLE] for v in values]
    low = [min(v) if v else math.nan for v in values]
    high = [max(v) if v else math.nan for v in values]
    mean = [math.fsum(v) / len(v) if v else math.nan for v in values]
    ax.fill_between(dates, low, high, color=color(index), alpha=0.2, linewidth=0, label="seeds' range")
    ax.plot(dates, mean, color=color(index), marker="o", markersize=2, linewidth=1, label="mean")
    ax.set_ylabel(LABELS[metric])


def _marks(ax, dates: Sequence[datetime], steps: Sequence[tuple[int, bool, str]]) -> None:
    """A vertical line at each step's night, labelled with its commit."""
    for night, worse, label in steps:
        ax.axvline(dates[night], color=WORSE if worse else BETTER, linestyle="--", linewidth=1)
        ax.annotate(
            graph_label(label, 12),
            (dates[night], 1),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            fontsize=7,
            va="top",
            color=WORSE if worse else BETTER,
        )


def trend(
    title: str,
    dates: Sequence[datetime],
    panels: Sequence[tuple[str, Sequence[Sequence[float]]]],
    steps: Sequence[Sequence[tuple[int, bool, str]]],
    index: int = 0,
) -> bytes:
    """``panels``: (metric, values per night per seed); ``steps[i]``: the steps of panel i as
    (night, worse, label); ``index``: the variant's color."""
    height = 1.0 + 1.9 * len(panels)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.6, height))
        fig.subplots_adjust(
            left=0.8 / 7.6, right=1 - 0.2 / 7.6, bottom=0.45 / height, top=1 - 0.45 / height, hspace=0.15
        )
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False).ravel().tolist()
        for ax, (metric, values), marks in zip(axes, panels, steps):
            _panel(ax, dates, values, metric, index)
            _marks(ax, dates, marks)
        locator = AutoDateLocator()
        axes[-1].xaxis.set_major_locator(locator)
        axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))
        fig.suptitle(graph_label(title, 70), fontsize=12, fontweight="bold", y=1 - 0.08 / height, va="top")
        return png(fig)
