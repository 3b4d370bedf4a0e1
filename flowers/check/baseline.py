"""Make a run the new baseline: ``flowers check --update-baseline BASELINE CURRENT``.

CURRENT must be a whole run (not interrupted), with every case ok (none failed, skipped, missing or
invalid), of the baseline's profile and with at least :data:`BASELINE_SEEDS` seeds of every
variant, unless forced; the comparison with the old baseline is printed first (what the update
changes), and the file is copied over BASELINE atomically (:mod:`flowers.atomic`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flowers import atomic
from flowers.check.comparison import compare, failure_text
from flowers.check.settings import DEFAULT_METRICS, Config
from flowers.check.table import describe, render
from flowers.errors import ResultsError
from flowers.jsonfile import read_regular
from flowers.results import Run, load_run
from flowers.text import printable

# Seeds a baseline needs so that the gate can measure each metric's noise: with 10, Student's t at
# the gate's false-alarm rate (about 0.002 a gate) is 3.9 against 2.9 for a known spread (35%
# wider limits), with 5 it is 7.2 (2.5 times wider); 20 would buy 15% more for twice the cost.
BASELINE_SEEDS = 10


def _old_baseline(path: Path) -> Run | None:
    """The baseline being replaced, or None when there is none or it cannot be read (said so)."""
    if not path.exists():
        return None
    try:
        return load_run(path)
    except ResultsError as exc:
        print(f"note: the old baseline is unusable and will be replaced: {printable(exc)}")
        return None


def _problems(current: Run, old: Run | None, baseline: str | Path) -> list[str]:
    """Why ``current`` should not become the baseline (empty when it may)."""
    problems = []
    if not current.complete:
        problems.append("it is from an interrupted run")
    not_ok = [c for c in current.cases if not c.ok]  # failed, skipped, missing or invalid (bad scores)
    if not_ok:
        word = "failed" if all(c.status == "failed" for c in not_ok) else "not ok"
        problems.append(f"{len(not_ok)} case(s) {word} ({failure_text(not_ok)})")
    few = {v: n for v, cases in current.by_variant().items() if (n := len({c.seed for c in cases})) < BASELINE_SEEDS}
    if few:
        shown = ", ".join(f"{v} {n}" for v, n in list(few.items())[:3])
        problems.append(
            f"it has fewer than {BASELINE_SEEDS} seeds per variant ({shown}), too few to measure the "
            f"noise the gate judges by (pytest benchmarks --seeds {BASELINE_SEEDS})"
        )
    if old and old.profile and current.profile and old.profile != current.profile:
        problems.append(f"it is profile {current.profile!r} but {baseline} holds {old.profile!r}")
    return problems


def update_baseline(
    baseline: str | Path,
    current: Run,
    config: Config,
    metrics: Sequence[str] = DEFAULT_METRICS,
    variants: Sequence[str] | None = None,
    force: bool = False,
) -> None:
    """Copy the file ``current`` was read from over ``baseline``, after checking it may (``force``:
    regardless) and printing how it compares with the old baseline (``metrics``, ``variants``)."""
    target = Path(baseline)
    old = _old_baseline(target)
    problems = _problems(current, old, baseline)
    if problems and not force:
        raise ResultsError(
            f"{current.source}: not made a baseline: {'; '.join(problems)}; rerun the benchmarks, or pass --force"
        )
    if old is not None:
        try:
            print(render(compare(old, current, config, metrics, variants)))
            print()
        except ResultsError as exc:
            print(f"note: cannot compare with the old baseline: {printable(exc)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(target, read_regular(current.source))
    print(printable(f"updated {target} from {describe(current)}; commit it: git add {target}"))
