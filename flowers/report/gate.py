"""What ``flowers check`` can detect with the latest run as its baseline: the seed noise it measures
per variant and metric, and the smallest change it flags against one and three current seeds.
Shown for runs with enough seeds to measure noise (:data:`flowers.check.MIN_SEEDS`), with
the built-in settings and the accuracy and loss gates that ``flowers check`` applies across machines."""

from __future__ import annotations

from flowers.check import MIN_SEEDS, Config, detectable, seeds_of
from flowers.report.model import GateLimits
from flowers.results import Run

METRICS = ("accuracy", "loss")
CURRENT_SEEDS = (1, 3)


def gate_limits(run: Run) -> GateLimits | None:
    """The table, or None when ``run`` has fewer than MIN_SEEDS seeds of every variant."""
    seeds = len(seeds_of(run))
    if seeds < MIN_SEEDS:
        return None
    rows = detectable(run, Config(), METRICS, CURRENT_SEEDS)
    return GateLimits(seeds=seeds, current_seeds=list(CURRENT_SEEDS), rows=rows) if rows else None
