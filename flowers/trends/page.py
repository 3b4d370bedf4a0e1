"""The trend page's data model, built from a store's runs: per series, one graph per variant, the
flagged steps (each linking to what changed that night: :func:`flowers.report.changes`),
and the noise each trend was judged against.  Plain data classes of display strings and graphs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from flowers import __version__, interrupts, schema
from flowers.check import METRICS, Config
from flowers.display import Figure, figure, fmt_commit, fmt_date
from flowers.errors import ResultsError
from flowers.report import Change, changes
from flowers.results import Run
from flowers.trends import plot
from flowers.trends.series import Trend, when
from flowers.trends.steps import Step, detect_all


@dataclass
class StepRow:
    variant: str
    metric: str
    night: str  # "#12"
    date: str
    commit: str
    before: str
    after: str
    change: str
    worse: bool
    anchor: str  # the id of that night's "what changed"


@dataclass
class NightChanges:
    anchor: str
    night: str
    date: str
    commit: str
    compare_url: str | None  # the commits since the night before, on the repository's site
    changes: list[Change]


@dataclass
class NoiseRow:
    variant: str
    metric: str
    key: str
    sigma: str  # sd of a night's mean
    floor: str  # the gate's tolerance: the smallest step flagged


@dataclass
class Section:
    name: str
    nights: int
    first: str
    last: str
    figures: list[Figure]
    steps: list[StepRow]
    changed: list[NightChanges]
    noise: list[NoiseRow]
    report: str | None = None  # link to the latest nights' report, when written


@dataclass
class Page:
    title: str
    generator: str
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]


def _value(metric: str, v: float) -> str:
    return f"{v:.{METRICS[metric].digits}f}"


def _change(metric: str, step: Step) -> str:
    return f"{step.change:+.1%}" if METRICS[metric].relative else f"{step.change:+.4f}"


def _sigma(metric: str, sigma: float, tolerance: float) -> tuple[str, str]:
    if math.isnan(sigma):
        return "too few nights", "—"
    if METRICS[metric].relative:  # on the log scale: a relative sd
        return f"±{math.expm1(min(sigma, 700.0)):.1%}", f"{tolerance:.0%}"  # 700: exp's range, as the gate's
    return f"±{sigma:.4f}", f"{tolerance:g}"


def _night(runs: list[Run], i: int) -> tuple[str, str, str]:
    return f"#{i + 1}", fmt_date(runs[i].datetime), fmt_commit(runs[i].commit)


def _compare_url(repo_url: str | None, prev: Run, run: Run) -> str | None:
    a, b = prev.commit.get(schema.COMMIT_ID), run.commit.get(schema.COMMIT_ID)
    if not repo_url or not a or not b or a == b:
        return None
    return f"{repo_url.rstrip('/')}/compare/{a}...{b}"


def _figures(
    name: str, runs: list[Run], dates: list[datetime], found: list[tuple[Trend, list[Step], float]]
) -> list[Figure]:
    """One graph per variant, its metrics in the order found."""
    by_variant: dict[str, list[tuple[Trend, list[Step], float]]] = {}
    for item in found:
        by_variant.setdefault(item[0].variant, []).append(item)
    out = []
    for index, (variant, items) in enumerate(by_variant.items()):
        interrupts.checkpoint()  # a graph takes a while to draw: Ctrl-C acts between them
        panels = [(t.metric, t.values) for t, _, _ in items]
        marks = [[(s.night, s.worse, _night(runs, s.night)[2][:7]) for s in steps] for _, steps, _ in items]
        png = plot.trend(f"{variant} ({name})", dates, panels, marks, index)
        out.append(figure(png, f"test accuracy, test loss and throughput of {variant} per night", variant))
    return out


def _rows(runs: list[Run], found: list[tuple[Trend, list[Step], float]]) -> list[StepRow]:
    rows = []
    for trend, steps, _ in found:
        for s in steps:
            night, date, commit = _night(runs, s.night)
            rows.append(
                StepRow(
                    trend.variant,
                    trend.metric,
                    night,
                    date,
                    commit,
                    _value(trend.metric, s.before),
                    _value(trend.metric, s.after),
                    _change(trend.metric, s),
                    s.worse,
                    f"night-{s.night + 1}",
                )
            )
    return sorted(rows, key=lambda r: (int(r.night[1:]), r.variant))


def _changed(runs: list[Run], nights: list[int], repo_url: str | None) -> list[NightChanges]:
    out = []
    for i in sorted(set(nights)):
        night, date, commit = _night(runs, i)
        what = changes(runs[i - 1], runs[i]) if i else []
        url = _compare_url(repo_url, runs[i - 1], runs[i]) if i else None
        out.append(NightChanges(f"night-{i + 1}", night, date, commit, url, what))
    return out


def _noise(found: list[tuple[Trend, list[Step], float]], config: Config) -> list[NoiseRow]:
    rows = []
    for trend, _, sigma in found:
        tolerance = getattr(config.for_variant(trend.variant), METRICS[trend.metric].tolerance)
        rows.append(NoiseRow(trend.variant, trend.metric, trend.key, *_sigma(trend.metric, sigma, tolerance)))
    return rows


def section(name: str, dated: list[tuple[datetime, Run]], config: Config, repo_url: str | None = None) -> Section:
    """One series: its runs with their dates, oldest first."""
    dates, runs = [d for d, _ in dated], [r for _, r in dated]
    found = detect_all(runs, config)
    return Section(
        name=name,
        nights=len(runs),
        first=fmt_date(runs[0].datetime),
        last=fmt_date(runs[-1].datetime),
        figures=_figures(name, runs, dates, found),
        steps=_rows(runs, found),
        changed=_changed(runs, [s.night for _, steps, _ in found for s in steps], repo_url),
        noise=_noise(found, config),
    )


def build(
    series: dict[str, list[Run]],
    config: Config | None = None,
    repo_url: str | None = None,
    title: str = "flowers-bench trends",
) -> Page:
    """The page over every series of a store (:func:`flowers.store.load`); a run without a
    date a trend can show is left out with a warning."""
    config = config or Config()
    warnings, sections = [], []
    for name, runs in series.items():
        dated = []
        for run in runs:
            try:
                dated.append((when(run), run))
            except ResultsError as exc:
                warnings.append(f"{exc}; left out of the trends")
        if dated:
            sections.append(section(name, sorted(dated, key=lambda pair: pair[0]), config, repo_url))
    return Page(title=title, generator=f"flowers trends {__version__}", sections=sections, warnings=warnings)
