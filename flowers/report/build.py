"""Build the report's data model (:class:`~flowers.report.model.Report`) from loaded runs: one group
per profile, each with, over several runs, the comparison view of its runs against a reference
(:mod:`.sidebyside`); the Results table, learning curves and time breakdown of every run compared;
the details of its latest run; and the history of its runs; plus the warnings about the runs as a
whole."""

from __future__ import annotations

from pathlib import Path

from flowers import __version__, schema
from flowers.display import fmt_date, fmt_value
from flowers.errors import ResultsError
from flowers.registry import ordered
from flowers.report.breakdown import breakdown
from flowers.report.comparison import columns, comparison_row
from flowers.report.curves import curves
from flowers.report.details import details
from flowers.report.gate import gate_limits
from flowers.report.history import changes, history
from flowers.report.model import ComparisonRow, Group, Report
from flowers.report.sidebyside import pick, side_by_side
from flowers.results import Run

DEFAULT_HELP = "give RESULTS, or run pytest benchmarks --benchmark-json out.json first"


def build(runs: list[Run], title: str = "flowers-bench report", reference: int | Run | None = None) -> Report:
    """The report's data model from loaded runs (any order; sorted oldest first here).

    ``reference``: the run the others are compared with, by its label's number in its profile
    (``2`` for ``#2``) or as a run (one of ``runs``, or the same session); default the oldest."""
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
        groups=[_group(p, rs, several, _reference(rs, reference, p)) for p, rs in by_profile.items()],
        base=3 if several else 2,
    )


def _key(run: Run) -> tuple:
    """What makes two result files one session (the same run saved twice)."""
    return run.datetime, run.commit.get(schema.COMMIT_ID), tuple(sorted(c.name for c in run.cases))


def _reference(runs: list[Run], reference: int | Run | None, profile: str) -> int:
    """The index of the reference among one profile's ``runs`` (oldest first)."""
    if isinstance(reference, Run):
        return next((i for i, run in enumerate(runs) if _key(run) == _key(reference)), 0)
    if reference is None or len(runs) < 2:
        return 0
    if not 1 <= reference <= len(runs):
        raise ResultsError(
            f"--reference {reference}: profile {profile} has runs #1 to #{len(runs)}; give one of them or a result file"
        )
    return reference - 1


def _dedupe(runs: list[Run], warnings: list[str]) -> list[Run]:
    """The same session saved twice (``--benchmark-json`` and ``--benchmark-autosave``) counts once."""
    seen: dict[tuple, Run] = {}
    for run in runs:
        key = _key(run)
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


def _results(
    variants: list[str], runs: list[Run], labels: list[str], all_labels: list[str], history: list[Run]
) -> tuple[list[ComparisonRow], list[str]]:
    """The Results rows: per variant, one for each run shown (labelled when there are several),
    and the numbered notes under the table."""
    notes: list[str] = []
    rows = []
    for v in variants:
        for run, label in zip(runs, labels):
            mine = history.index(run)
            seen_in = next((all_labels[i] for i in range(mine - 1, -1, -1) if v in history[i].variants), None)
            row = comparison_row(v, run.by_variant().get(v, []), run, seen_in, notes)
            row.run = label if len(runs) > 1 else ""
            rows.append(row)
    return rows, notes


def _group(profile: str, runs: list[Run], several: bool, reference: int) -> Group:
    """One profile's section: with several runs the comparison view, then the Results, curves and
    time of every run compared, the details of its latest run, and the history of all its runs."""
    variants = ordered([v for r in runs for v in r.variants])
    colors = {v: i for i, v in enumerate(variants)}
    latest, labels = runs[-1], [f"#{i}" for i in range(1, len(runs) + 1)]
    shown, ref = pick(runs, reference) if len(runs) > 1 else ([0], 0)
    compared, compared_labels = [runs[i] for i in shown], [labels[i] for i in shown]
    rows, notes = _results(variants, compared, compared_labels, labels, runs)
    per_run = [(label if len(compared) > 1 else "", run.by_variant()) for run, label in zip(compared, compared_labels)]
    graphs, no_curves, overlay = curves(variants, per_run, colors, labels[-1])
    all_changes = [None] + [changes(runs[i - 1], runs[i]) for i in range(1, len(runs))]
    each = [columns(groups) for _, groups in per_run]
    return Group(
        profile=profile,
        heading=f"Profile {profile}" if several else None,
        latest_label=labels[-1],
        latest_date=fmt_date(latest.datetime),
        latest_source=Path(latest.source).name,
        runs=len(runs),
        caveat=_caveat(latest.dataset or {}),
        latest_changes=all_changes[-1],
        columns={key: any(c[key] for c in each) for key in each[0]},
        rows=rows,
        notes=notes,
        curves=graphs,
        no_curves=no_curves,
        overlay=overlay,
        details=details(latest, labels[-1]),
        history=history(runs, labels, variants, colors, all_changes),
        breakdown=breakdown(variants, per_run),
        gate=gate_limits(latest),
        sidebyside=side_by_side(compared, compared_labels, ref, variants, len(runs) - len(compared))
        if len(compared) > 1
        else None,
        compared=compared_labels,
    )
