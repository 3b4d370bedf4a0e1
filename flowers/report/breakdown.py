"""Where the time goes: each variant's time breakdown (``extra_info["breakdown"]``, see
:mod:`flowers.schema`) in every run compared, as a table of means over its seeds and a stacked bar
graph."""

from __future__ import annotations

from flowers import schema
from flowers.display import figure, fmt_rate, fmt_seconds
from flowers.report.cases import mean, mean_of
from flowers.report.model import Breakdown, BreakdownRow
from flowers.results import Case
from flowers.schema import finite

# key, label; in time order (schema.BREAKDOWN_PARTS).
BREAKDOWN_PARTS = tuple(
    zip(
        schema.BREAKDOWN_PARTS,
        ("data load", "model setup", "feature cache", "first epoch", "later epochs", "evaluation", "bookkeeping"),
    )
)


def part_means(cases: list[Case]) -> list[float | None]:
    """Each breakdown part's mean over ``cases`` (None where no case recorded it)."""
    means = []
    for key, _ in BREAKDOWN_PARTS:
        means.append(mean([v for v in (finite(c.breakdown.get(key)) for c in cases) if v is not None]))
    return means


def breakdown(variants: list[str], runs: list[tuple[str, dict[str, list[Case]]]]) -> Breakdown | None:
    """The table and stacked bar of the variants' ok cases that recorded a breakdown, a row per
    variant and run (``runs``: (label, cases by variant), the label "" for a single run); None if
    no case recorded one."""
    from flowers.report import plots  # matplotlib is only imported when a report is built

    rows, bars = [], []
    for v in variants:
        for label, by_variant in runs:
            cases = [c for c in by_variant.get(v, []) if c.ok and c.breakdown]
            if not cases:
                continue
            name = f"{v} {label}" if label else v
            means = part_means(cases)
            parts = [fmt_seconds(m) for m in means]
            if all(c.data_cached for c in cases):
                parts[0] = "cached"
            total = sum(m for m in means if m is not None)
            rows.append(
                BreakdownRow(
                    name,
                    parts,
                    fmt_seconds(total),
                    fmt_seconds(mean_of(cases, schema.WALL_SECONDS)),
                    fmt_rate(mean_of(cases, schema.STEADY_THROUGHPUT)),
                )
            )
            bars.append((name, [m or 0.0 for m in means]))
    if not rows:
        return None
    labels = [label for _, label in BREAKDOWN_PARTS]
    png = plots.breakdown(labels, bars)
    return Breakdown(
        labels, rows, figure(png, "Time per variant, stacked by part: " + ", ".join(labels), "Where the time goes")
    )
