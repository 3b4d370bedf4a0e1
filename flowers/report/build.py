"""Build the report's data model (:class:`~flowers.report.model.Report`) from loaded runs: one group
per profile, each with its latest run's comparison table, curves, time breakdown and details, and the
history of its runs; plus the warnings about the runs as a whole."""

from __future__ import annotations

from pathlib import Path

from flowers import __version__, schema
from flowers.errors import ResultsError
from flowers.report.breakdown import breakdown
from flowers.report.cases import ordered
from flowers.report.comparison import columns, comparison_row
from flowers.report.curves import curves
from flowers.report.details import details
from flowers.report.format import fmt_date, fmt_value
from flowers.report.gate import gate_limits
from flowers.report.history import changes, history
from flowers.report.model import Group, Report
from flowers.results import Run

DEFAULT_HELP = "give RESULTS, or run pytest benchmarks --benchmark-json out.json first"


def build(runs: list[Run], title: str = "flowers-bench report") -> Report:
    """The report's data model from loaded runs (any order; sorted oldest first here)."""
    if not runs:
        raise ResultsError(f"no runs to report; {DEFAULT_HELP}")
    warnings: list[str] = []
    runs = _dedupe(sorted(runs, key=lambda r: r.datetime), warnings)
    by_profile: dict[str, list[Run]] = {}
    for run in runs:
        by_profile.setdefault(run.profile or "unknown", []).append(run)
    warnings += _warnings(by_profile)
    several = len(by_profile) > 1
    return Report(
        title=title,
        generator=f"flowers report {__version__}",
        sources=[Path(r.source).name for r in runs],
        runs=len(runs),
        warnings=warnings,
        groups=[_group(p, rs, several) for p, rs in by_profile.items()],
        base=3 if several else 2,
    )


def _dedupe(runs: list[Run], warnings: list[str]) -> list[Run]:
    """The same session saved twice (``--benchmark-json`` and ``--benchmark-autosave``) counts once."""
    seen: dict[tuple, Run] = {}
    for run in runs:
        key = (run.datetime, run.commit.get(schema.COMMIT_ID), tuple(sorted(c.name for c in run.cases)))
        if key in seen:
            warnings.append(f"{Path(run.source).name} is the same run as {Path(seen[key].source).name}; counted once")
            continue
        seen[key] = run
    return list(seen.values())


def _warnings(by_profile: dict[str, list[Run]]) -> list[str]:
    """Mixed profiles, interrupted runs, and runs of one profile from several machines."""
    out = []
    if len(by_profile) > 1:
        counts = ", ".join(f"{p}: {len(rs)} run{'s' if len(rs) > 1 else ''}" for p, rs in by_profile.items())
        out.append(
            f"these results mix profiles ({counts}); each profile is reported on its own, "
            "never mixed in one table or history"
        )
    for profile, runs in by_profile.items():
        for i, run in enumerate(runs):
            if not run.complete:
                out.append(
                    f"run #{i + 1} of profile {profile} ({Path(run.source).name}) was interrupted: "
                    "variants it lacks may simply not have run"
                )
        machines = {r.machine_key for r in runs}
        if len(machines) > 1:
            out.append(
                f"the runs of profile {profile} come from {len(machines)} different machines or devices: "
                "compare train times only between runs of one machine"
            )
    return out


def _caveat(data: dict) -> str | None:
    """A note when the latest run's data set is not the original's (tf_flowers)."""
    name, size = data.get(schema.NAME), data.get(schema.IMAGE_SIZE)
    if not name or name == "tf_flowers":
        return None
    size = f" at {fmt_value(size)} px" if size else ""
    return (
        f"This run used the {fmt_value(name, 40)} data set{size}; the original's numbers are from "
        "tf_flowers at 160 px, so the differences are for orientation only."
    )


def _group(profile: str, runs: list[Run], several: bool) -> Group:
    """One profile's section: its latest run in full, and the history of all its runs."""
    variants = ordered([v for r in runs for v in r.variants])
    colors = {v: i for i, v in enumerate(variants)}
    latest, labels = runs[-1], [f"#{i}" for i in range(1, len(runs) + 1)]
    by_variant = latest.by_variant()
    notes: list[str] = []
    rows = []
    for v in variants:
        seen_in = next((labels[i] for i in range(len(runs) - 2, -1, -1) if v in runs[i].variants), None)
        rows.append(comparison_row(v, by_variant.get(v, []), latest, seen_in, notes))
    graphs, no_curves, overlay = curves(variants, by_variant, colors)
    all_changes = [None] + [changes(runs[i - 1], runs[i]) for i in range(1, len(runs))]
    return Group(
        profile=profile,
        heading=f"Profile {profile}" if several else None,
        latest_label=labels[-1],
        latest_date=fmt_date(latest.datetime),
        latest_source=Path(latest.source).name,
        runs=len(runs),
        caveat=_caveat(latest.dataset or {}),
        latest_changes=all_changes[-1],
        columns=columns(by_variant),
        rows=rows,
        notes=notes,
        curves=graphs,
        no_curves=no_curves,
        overlay=overlay,
        details=details(latest, labels[-1]),
        history=history(runs, labels, variants, colors, all_changes),
        breakdown=breakdown(variants, by_variant),
        gate=gate_limits(latest),
    )
