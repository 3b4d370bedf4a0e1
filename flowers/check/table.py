"""The comparison as plain aligned text: which runs, which gates, one line per row, PASS or FAIL.

Stable in CI logs: columns padded to the widest cell, the last column ("how") left unpadded, no
trailing spaces.
"""

from __future__ import annotations

from collections import Counter

from flowers import schema
from flowers.check.comparison import Comparison
from flowers.check.metrics import ALL_METRICS, CHANGED, IMPROVED, METRICS, MISSING, NEW, REGRESSED, UNDECIDED
from flowers.results import Run
from flowers.text import printable

HEADER = ("variant", "metric", "baseline", "current", "change", "threshold", "verdict", "how")


def describe(run: Run) -> str:
    """One line naming a run: file, profile, commit, date, device, how many variants and cases."""
    commit = str(run.commit.get(schema.COMMIT_ID) or "")[:10] or "?"
    if run.commit.get(schema.COMMIT_DIRTY):
        commit += "+dirty"
    machine = run.machine_fields
    device = machine["device"] or machine["cpu"] or "?"
    n_variants, n_cases = len(run.variants), len(run.cases)
    return (
        f"{run.source} (profile {run.profile or '?'}, commit {commit}, {run.datetime or 'no date'}, "
        f"{device}, {n_variants} variant{'s' * (n_variants != 1)}, {n_cases} case{'s' * (n_cases != 1)})"
    )


def heading(comp: Comparison) -> list[str]:
    lines = [comp.seeds] if comp.seeds else []  # what these seeds can show, before anything else
    lines += [f"baseline: {describe(comp.baseline)}", f"current:  {describe(comp.current)}"]
    left_out = [m for m in ALL_METRICS if m not in comp.metrics]
    lines.append(
        "gates:    "
        + ", ".join(METRICS[m].key for m in comp.metrics)
        + (f" (not checked: {', '.join(METRICS[m].key for m in left_out)})" if left_out else "")
    )
    return lines + [f"note:     {n}" for n in comp.notes]


def _undecided(comp: Comparison) -> str:
    """How many gates could not decide, why (the text before the first colon of each reason) and
    what would let them."""
    undecided, gates = comp.undecided, comp.gates
    if not undecided:
        return ""
    reasons = Counter(r.how.split(":")[0].split(";")[0] for r in undecided)
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    fixes = "; ".join(dict.fromkeys(r.fix for r in undecided if r.fix))
    return f"; {len(undecided)} of {len(gates)} gates undecided ({why})" + (f": {fixes}" if fixes else "")


def summary(comp: Comparison) -> str:
    counts = {v.lower(): comp.count(v) for v in (CHANGED, REGRESSED, MISSING, UNDECIDED, IMPROVED, NEW)}
    n_variants = len({r.variant for r in comp.rows})
    variants = f"{n_variants} variant{'s' * (n_variants != 1)}"
    failing = sorted({r.variant for r in comp.rows if r.failing})
    if failing:
        bad = ", ".join(f"{counts[k]} {k}" for k in ("changed", "regressed", "missing", "undecided") if counts[k])
        return f"FAIL: {bad} of {variants}: {', '.join(failing)}{_undecided(comp)}"
    good = ", ".join(f"{counts[k]} {k}" for k in ("improved", "new") if counts[k])
    return f"PASS: nothing regressed in {variants}" + (f" ({good})" if good else "")


def render(comp: Comparison) -> str:
    """The comparison as plain aligned text (stable in CI logs); every value :func:`printable`, so
    text from a result file prints no line of its own."""
    table = [HEADER] + [
        tuple(map(printable, (r.variant, r.metric, r.baseline, r.current, r.change, r.threshold, r.verdict, r.how)))
        for r in comp.rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER) - 1)]
    lines = [*map(printable, heading(comp)), ""]
    for row in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    lines += ["", printable(summary(comp))]
    return "\n".join(line.rstrip() for line in lines)
