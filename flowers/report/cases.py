"""Readings of a run's cases, per variant, that several sections of the report share: a variant's
status over its seeds, means of a metric, configs, seeds and the case that holds the model record
(the order of the variants is :func:`flowers.registry.ordered`)."""

from __future__ import annotations

from typing import Any

from flowers import schema
from flowers.results import Case, Run, metric_values
from flowers.schema import INVALID, MISSING, OK, SKIPPED, without_seed
from flowers.stats import mean_sd


def mean(numbers: list[float]) -> float | None:
    return mean_sd(numbers)[0] if numbers else None


def mean_of(cases: list[Case], key: str) -> float | None:
    """The mean of metric ``key`` over ``cases`` (None when none recorded it)."""
    return mean(metric_values(cases, key))


def status(cases: list[Case]) -> str:
    """ok | partial (some seeds not ok) | failed | skipped | invalid (marked ok, scores not valid) | missing
    (no case in the run)."""
    if not cases:
        return MISSING
    ok = sum(c.ok for c in cases)
    if ok == len(cases):
        return OK
    if ok:
        return "partial"
    for name in (SKIPPED, MISSING, INVALID):  # missing: a shard's case that no merged part holds
        if all(c.status == name for c in cases):
            return name
    return schema.FAILED


def variant_configs(run: Run) -> dict[str, dict[str, Any]]:
    """Per variant, the config (seed left out) of its first case that recorded one, ok cases first."""
    out: dict[str, dict[str, Any]] = {}
    for variant, cases in run.by_variant().items():
        for c in sorted(cases, key=lambda c: not c.ok):
            if c.config:
                out[variant] = without_seed(c.config)
                break
    return out


def seeds(run: Run) -> dict[str, list[int]]:
    return {v: sorted({c.seed for c in cases if c.seed is not None}) for v, cases in run.by_variant().items()}


def model_cases(run: Run) -> dict[str, Case | None]:
    """Per variant, its first ok case (where the model record lives), None when no case is ok."""
    return {v: next((c for c in cases if c.ok), None) for v, cases in run.by_variant().items()}
