"""Compare a run with a baseline: noise-aware, direction-aware gates; exit 1 on a regression.

``flowers check BASELINE CURRENT`` prints one row per variant and metric (baseline, current, change,
threshold, verdict, and how the verdict was reached) and exits 0 when nothing regressed, 1 when
something did, 2 when an input cannot be used.  ``flowers check --update-baseline BASELINE CURRENT``
validates CURRENT and copies it over BASELINE atomically.

Gates (defaults, all overridable in pyproject.toml under [tool.flowers.check], per variant under
[tool.flowers.check.variants.NAME]):

* test_accuracy regresses when it falls.  One seed on a side: the drop must exceed both
  accuracy_tolerance (0.02) and se_multiple (2) binomial standard errors sqrt(p(1-p)/n_test), with
  p the baseline accuracy (kept within [1/n_test, 1 - 1/n_test], so that a perfect baseline still
  allows for noise) and n_test the test split size from the dataset fingerprint.  Several
  seeds on both sides: Welch's t-test, one-sided, p < alpha (0.05) and a mean drop above the
  tolerance.  One seed against several: the same one-sided test with the single value taken as one
  more draw from the other side's seed spread, and the drop must also pass the one-seed limit
  (binomial path alone if that side has no spread).
* test_loss regresses when it rises more than loss_tolerance (0.10, relative); with several seeds
  a side the same t-test must also agree.
* throughput regresses when it falls more than throughput_tolerance (0.15, relative); compared only
  when both runs come from the same machine and device, else skipped.  The figure is
  steady_images_per_second (training steps of epochs 2 and later: no graph tracing, no cache
  build) when every case of both runs has it, else train_images_per_second.
* a variant of the baseline that is absent from the current run, or failed there, is ``missing``
  and counts as a regression; a variant only in the current run is ``new``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tomllib
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from flowers import architecture, atomic
from flowers.results import Case, ResultsError, Run, load_run, load_runs

# --------------------------------------------------------------------------------------------
# Metrics and thresholds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    name: str  # short name for --metrics
    key: str  # extra_info key
    higher_is_better: bool


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", "test_accuracy", True),
    "loss": Metric("loss", "test_loss", False),
    "time": Metric("time", "train_images_per_second", True),
}
STEADY_THROUGHPUT = "steady_images_per_second"  # the time gate's figure when both runs have it
ALL_METRICS = tuple(METRICS)


@dataclass(frozen=True)
class Thresholds:
    """Gate settings for one variant; the defaults are the documented ones."""

    accuracy_tolerance: float = 0.02  # absolute drop in test accuracy
    se_multiple: float = 2.0  # one seed a side: the drop must also exceed this many binomial SEs
    loss_tolerance: float = 0.10  # relative rise in test loss
    throughput_tolerance: float = 0.15  # relative fall in training images per second
    alpha: float = 0.05  # significance of the one-sided Welch t-test (several seeds a side)


THRESHOLD_KEYS = tuple(f.name for f in fields(Thresholds))


@dataclass
class Config:
    """``[tool.flowers.check]``: defaults plus per-variant overrides."""

    defaults: Thresholds = field(default_factory=Thresholds)
    variants: dict[str, Thresholds] = field(default_factory=dict)
    source: str = "built-in defaults"

    def for_variant(self, variant: str) -> Thresholds:
        return self.variants.get(variant, self.defaults)


def _thresholds(base: Thresholds, table: dict[str, Any], where: str) -> Thresholds:
    values: dict[str, float] = {}
    for key, value in table.items():
        if key not in THRESHOLD_KEYS:
            raise ResultsError(f"{where}: unknown key {key!r}; known keys: {', '.join(THRESHOLD_KEYS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ResultsError(f"{where}: {key} must be a number, not {value!r}")
        if value < 0 or (key == "alpha" and not 0 < value < 1):
            raise ResultsError(f"{where}: {key} = {value} is out of range (tolerances >= 0, 0 < alpha < 1)")
        values[key] = float(value)
    return replace(base, **values)


def parse_config(table: dict[str, Any], source: str = "pyproject.toml") -> Config:
    """Build a :class:`Config` from the ``[tool.flowers.check]`` table."""
    where = f"{source} [tool.flowers.check]"
    if not isinstance(table, dict):
        raise ResultsError(f"{where}: must be a table")
    table = dict(table)
    variant_tables = table.pop("variants", {})
    if not isinstance(variant_tables, dict):
        raise ResultsError(f"{where}: 'variants' must be a table of tables")
    defaults = _thresholds(Thresholds(), table, where)
    variants = {}
    for name, sub in variant_tables.items():
        sub_where = f"{source} [tool.flowers.check.variants.{name}]"
        if not isinstance(sub, dict):
            raise ResultsError(f"{sub_where}: must be a table")
        variants[name] = _thresholds(defaults, sub, sub_where)
    return Config(defaults=defaults, variants=variants, source=source)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` from ``start`` (default: the working folder) upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None) -> Config:
    """Read ``[tool.flowers.check]`` from ``path`` or the nearest pyproject.toml; defaults if absent."""
    path = path or find_pyproject()
    if path is None:
        return Config()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file; give --config a pyproject.toml") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ResultsError(f"{path}: cannot be read as TOML ({exc}); fix the file") from None
    table = data.get("tool", {}).get("flowers", {}).get("check")
    if table is None:
        return Config(source=f"{path} (no [tool.flowers.check]: defaults)")
    return parse_config(table, str(path))


# --------------------------------------------------------------------------------------------
# Gates: pure functions of numbers
# --------------------------------------------------------------------------------------------

OK, IMPROVED, REGRESSED, MISSING, NEW, SKIPPED = "ok", "improved", "REGRESSED", "missing", "new", "skipped"
FAILING = (REGRESSED, MISSING)


@dataclass
class Verdict:
    verdict: str
    change: str = ""
    threshold: str = ""
    how: str = ""


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def one_sided_p(baseline: Sequence[float], current: Sequence[float], worse: str) -> float:
    """Welch's t-test p-value for "current is worse than baseline" (``worse`` = "lower" or "higher")."""
    from scipy import stats  # imported here: only the several-seed path needs it

    diff = _mean(current) - _mean(baseline)
    if _spread(baseline) == 0 and _spread(current) == 0:
        # No spread on either side (scipy would give NaN): the difference is exact, certain or absent.
        bad = diff < 0 if worse == "lower" else diff > 0
        return 0.0 if bad else 1.0 if diff else 0.5
    alternative = "less" if worse == "lower" else "greater"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # near-identical samples: precision note only
        result = stats.ttest_ind(list(current), list(baseline), equal_var=False, alternative=alternative)
    p = float(result.pvalue)
    return 1.0 if math.isnan(p) else p


def _spread(values: Sequence[float]) -> float:
    """max - min, with float noise (e.g. 0.9 - 0.1 + 0.1) counted as none."""
    span = max(values) - min(values)
    return 0.0 if span <= 1e-12 * max(1.0, max(abs(v) for v in values)) else span


def one_vs_several_p(baseline: Sequence[float], current: Sequence[float], worse: str) -> float:
    """One value on one side, several seeds on the other: p-value that current is worse.

    Welch's test needs a spread on both sides; with one value on a side it is taken as one more
    draw from the seed distribution of the other side, so the difference of the two centres has
    variance s^2 (1 + 1/n) (a prediction-interval t-test, n - 1 degrees of freedom).
    """
    from scipy import stats

    several = baseline if len(baseline) > 1 else current
    n = len(several)
    se = statistics.stdev(several) * math.sqrt(1 + 1 / n)
    diff = _mean(current) - _mean(baseline)
    if se == 0:
        bad = diff < 0 if worse == "lower" else diff > 0
        return 0.0 if bad else 1.0 if diff else 0.5
    t = diff / se
    return float(stats.t.cdf(t, n - 1) if worse == "lower" else stats.t.sf(t, n - 1))


def seed_p(baseline: Sequence[float], current: Sequence[float], worse: str) -> float | None:
    """p-value from the spread between seeds that current is worse than baseline, or None when the
    seeds cannot give one (one value a side, or no spread on the only side with several)."""
    if len(baseline) >= 2 and len(current) >= 2:
        return one_sided_p(baseline, current, worse)
    if len(baseline) == 1 and len(current) == 1:
        return None
    several = baseline if len(baseline) > 1 else current
    if _spread(several) == 0:
        return None
    return one_vs_several_p(baseline, current, worse)


def _t_how(p: float, baseline: Sequence[float], current: Sequence[float]) -> str:
    return f"t-test p={p:.3g}, n={len(baseline)}/{len(current)}"


def gate_accuracy(
    baseline: Sequence[float], current: Sequence[float], n_test: int | None, th: Thresholds
) -> Verdict:
    """Test accuracy: regressed when it fell by more than the tolerance and more than the noise."""
    base, cur = _mean(baseline), _mean(current)
    change = f"{cur - base:+.4f}"
    tol = th.accuracy_tolerance
    if n_test:
        # p is kept one test image away from 0 and 1: a perfect score still has noise (se > 0).
        p = min(max(base, 1 / n_test), 1 - 1 / n_test) if n_test > 1 else 0.5
        se = math.sqrt(p * (1 - p) / n_test)
        limit = max(tol, th.se_multiple * se)
        binomial = f"binomial se={se:.3f}, n_test={n_test}" + (" (p clamped)" if p != base else "")
    else:
        limit = tol
        binomial = "tolerance only (n_test unknown)"
    p_worse = seed_p(baseline, current, "lower")
    if p_worse is not None:
        # One value against several: that value has its own test-set noise, which a small seed
        # spread on the other side may understate, so the binomial limit applies as well.
        if len(baseline) == 1 or len(current) == 1:
            tol = limit
        p_better = seed_p(baseline, current, "higher")
        threshold = f"drop>{tol:.3g} & p<{th.alpha:g}"
        if base - cur > tol and p_worse < th.alpha:
            return Verdict(REGRESSED, change, threshold, _t_how(p_worse, baseline, current))
        if cur - base > tol and p_better < th.alpha:
            return Verdict(IMPROVED, change, threshold, _t_how(p_better, baseline, current))
        return Verdict(OK, change, threshold, _t_how(p_worse, baseline, current))
    how = binomial
    if len(baseline) > 1 or len(current) > 1:
        how += f", means of n={len(baseline)}/{len(current)}"
    threshold = f"drop>{limit:.3g}"
    if base - cur > limit:
        return Verdict(REGRESSED, change, threshold, how)
    if cur - base > limit:
        return Verdict(IMPROVED, change, threshold, how)
    return Verdict(OK, change, threshold, how)


def _relative(base: float, cur: float) -> float:
    if base == 0:
        return 0.0 if cur == 0 else math.copysign(math.inf, cur)
    return (cur - base) / abs(base)


def gate_loss(baseline: Sequence[float], current: Sequence[float], th: Thresholds) -> Verdict:
    """Test loss: regressed when it rose by more than the relative tolerance (and the t-test agrees)."""
    base, cur = _mean(baseline), _mean(current)
    rel = _relative(base, cur)
    change = f"{rel:+.1%}"
    tol = th.loss_tolerance
    p_worse = seed_p(baseline, current, "higher")
    if p_worse is not None:
        p_better = seed_p(baseline, current, "lower")
        threshold = f"rise>{tol:.0%} & p<{th.alpha:g}"
        if rel > tol and p_worse < th.alpha:
            return Verdict(REGRESSED, change, threshold, _t_how(p_worse, baseline, current))
        if rel < -tol and p_better < th.alpha:
            return Verdict(IMPROVED, change, threshold, _t_how(p_better, baseline, current))
        return Verdict(OK, change, threshold, _t_how(p_worse, baseline, current))
    how = "relative" if len(baseline) == len(current) == 1 else f"relative, means of n={len(baseline)}/{len(current)}"
    threshold = f"rise>{tol:.0%}"
    if rel > tol:
        return Verdict(REGRESSED, change, threshold, how)
    if rel < -tol:
        return Verdict(IMPROVED, change, threshold, how)
    return Verdict(OK, change, threshold, how)


def gate_throughput(baseline: Sequence[float], current: Sequence[float], th: Thresholds) -> Verdict:
    """Training images per second (same machine only): regressed when it fell by more than the tolerance."""
    base, cur = _mean(baseline), _mean(current)
    rel = _relative(base, cur)
    change = f"{rel:+.1%}"
    tol = th.throughput_tolerance
    threshold = f"fall>{tol:.0%}"
    how = "same machine" + ("" if len(baseline) == len(current) == 1 else f", means of n={len(baseline)}/{len(current)}")
    if rel < -tol:
        return Verdict(REGRESSED, change, threshold, how)
    if rel > tol:
        return Verdict(IMPROVED, change, threshold, how)
    return Verdict(OK, change, threshold, how)


# --------------------------------------------------------------------------------------------
# Comparing two runs
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    variant: str
    metric: str  # extra_info key, or "cases"
    baseline: str
    current: str
    verdict: str
    change: str = ""
    threshold: str = ""
    how: str = ""

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING


@dataclass
class Comparison:
    baseline: Run
    current: Run
    metrics: tuple[str, ...]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return any(r.failing for r in self.rows)

    def count(self, verdict: str) -> int:
        return len({r.variant for r in self.rows if r.verdict == verdict})


MACHINE_FIELDS = ("node", "machine", "cpu", "device")


def machine_difference(baseline: Run, current: Run) -> str | None:
    """None when both runs come from one known machine and device, else the reason they do not."""
    a, b = baseline.machine_key, current.machine_key
    if all(v is None for v in a) or all(v is None for v in b):
        return "machine unknown"
    diffs = [f"{name} {x}!={y}" for name, x, y in zip(MACHINE_FIELDS, a, b) if x != y]
    cores = [run.environment.get("cores") for run in (baseline, current)]
    if None not in cores and cores[0] != cores[1]:  # e.g. a shard pinned to one core (recorded since 0.1)
        diffs.append(f"cores {cores[0]}!={cores[1]}")
    if diffs:
        return "different machine: " + "; ".join(diffs)
    return None


def _values(cases: Iterable[Case], key: str) -> list[float]:
    return [v for v in (c.metric(key) for c in cases) if v is not None]


def _fmt(values: Sequence[float], key: str) -> str:
    if not values:
        return "-"
    digits = 1 if key in ("train_images_per_second", STEADY_THROUGHPUT) else 4
    text = f"{_mean(values):.{digits}f}"
    if len(values) > 1:
        text += f"±{statistics.stdev(values):.{digits}f}"
    return text


def _metric_key(metric: Metric, base: Sequence[Case], cur: Sequence[Case]) -> str:
    """The extra_info key a gate reads: for time, the steady figure when every case on both sides has it."""
    if metric.name == "time" and all(c.metric(STEADY_THROUGHPUT) is not None for c in [*base, *cur]):
        return STEADY_THROUGHPUT
    return metric.key


def _n_test(*groups: Sequence[Case]) -> int | None:
    for cases in groups:
        for case in cases:
            splits = (case.info.get("dataset") or {}).get("splits") or {}
            n = splits.get("test")
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                return n
    return None


def _config_change(base: Sequence[Case], cur: Sequence[Case]) -> str:
    """A short note when the variant's configuration (seed aside) or data changed."""

    def conf(cases: Sequence[Case]) -> dict[str, Any]:
        for c in cases:
            if isinstance(c.info.get("config"), dict):
                return {k: v for k, v in c.info["config"].items() if k != "seed"}
        return {}

    def data_hash(cases: Sequence[Case]) -> Any:
        for c in cases:
            if isinstance(c.info.get("dataset"), dict):
                return c.info["dataset"].get("hash")
        return None

    a, b = conf(base), conf(cur)
    notes = []
    changed = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)] if a and b else []
    if changed:
        shown = ", ".join(f"{k} {a.get(k)!r}->{b.get(k)!r}" for k in changed[:3])
        notes.append(f"config changed: {shown}{' ...' if len(changed) > 3 else ''}")
    ha, hb = data_hash(base), data_hash(cur)
    if ha and hb and ha != hb:
        notes.append(f"dataset changed: {ha}->{hb}")
    if base and cur:  # model and weights: on record since model fingerprints (None for older files)
        notes += architecture.model_changes(base[0].info, cur[0].info) or []
    return "; ".join(notes)


def _failure_text(cases: Sequence[Case]) -> str:
    parts = []
    for c in cases[:2]:
        label = f"seed={c.seed}" if c.seed is not None else c.name
        error = " ".join(str(c.error or "").split())[:80]
        status = "" if c.status == "failed" and error else f"{c.status}" + (": " if error else "")
        parts.append(f"{label}: {status}{error}")
    more = f" (+{len(cases) - 2} more)" if len(cases) > 2 else ""
    return "; ".join(parts) + more


def compare(
    baseline: Run,
    current: Run,
    config: Config | None = None,
    metrics: Sequence[str] = ALL_METRICS,
    variants: Sequence[str] | None = None,
) -> Comparison:
    """Gate every variant of ``baseline`` against ``current``; a pure function of the two runs."""
    config = config or Config()
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ResultsError(f"unknown metric {unknown[0]!r}; choose from {', '.join(ALL_METRICS)}")
    if baseline.profile and current.profile and baseline.profile != current.profile:
        raise ResultsError(
            f"{baseline.source} is profile {baseline.profile!r} but {current.source} is "
            f"{current.profile!r}; compare a run with the baseline of its own profile"
        )
    base_groups, cur_groups = baseline.by_variant(), current.by_variant()
    names = list(dict.fromkeys([*base_groups, *cur_groups]))
    if variants:
        wrong = [v for v in variants if v not in names]
        if wrong:
            raise ResultsError(f"--variants: {wrong[0]!r} is in neither run; known: {', '.join(names)}")
        names = [n for n in names if n in variants]

    notes: list[str] = []
    if not current.complete:
        notes.append(f"{current.source} is from an interrupted run (flowers.complete is false)")
    if not baseline.complete:
        notes.append(f"{baseline.source} is from an interrupted run (flowers.complete is false)")
    machine = machine_difference(baseline, current)

    rows: list[Row] = []
    for name in names:
        th = config.for_variant(name)
        base_all, cur_all = base_groups.get(name, []), cur_groups.get(name, [])
        base_ok = [c for c in base_all if c.ok]
        cur_ok = [c for c in cur_all if c.ok]
        cur_failed = [c for c in cur_all if not c.ok]

        if not base_ok:
            if base_all:
                how = "failed in baseline: " + _failure_text(base_all)
            else:
                how = "not in baseline"
            if not cur_ok and cur_failed:
                how += "; failed here too: " + _failure_text(cur_failed)
            for m in metrics:
                key = METRICS[m].key
                rows.append(Row(name, key, "-", _fmt(_values(cur_ok, key), key), NEW, how=how))
            continue

        if not cur_ok:
            how = ("not ok: " + _failure_text(cur_failed)) if cur_failed else "absent from the current run"
            if cur_failed and all(c.status == "failed" for c in cur_failed):
                how = "failed: " + _failure_text(cur_failed)
            for m in metrics:
                key = METRICS[m].key
                rows.append(Row(name, key, _fmt(_values(base_ok, key), key), "-", MISSING, how=how))
            continue

        if cur_failed:
            rows.append(
                Row(
                    name,
                    "cases",
                    str(len(base_all)),
                    f"{len(cur_ok)} ok",
                    MISSING,
                    how=f"{len(cur_failed)} of {len(cur_all)} not ok: " + _failure_text(cur_failed),
                )
            )

        change_note = _config_change(base_ok, cur_ok)
        for m in metrics:
            metric = METRICS[m]
            key = _metric_key(metric, base_ok, cur_ok)
            b, c = _values(base_ok, key), _values(cur_ok, key)
            row = Row(name, key, _fmt(b, key), _fmt(c, key), SKIPPED)
            if m == "time" and machine:
                row.how = machine
                if b and c:
                    row.change = f"{_relative(_mean(b), _mean(c)):+.1%}"
            elif not b or not c:
                row.how = f"no {key} in the {'baseline' if not b else 'current run'}"
            else:
                if m == "accuracy":
                    v = gate_accuracy(b, c, _n_test(base_ok, cur_ok), th)
                elif m == "loss":
                    v = gate_loss(b, c, th)
                else:
                    v = gate_throughput(b, c, th)
                row.verdict, row.change, row.threshold, row.how = v.verdict, v.change, v.threshold, v.how
            if change_note:  # whatever the verdict: a regression and its likely cause read together
                row.how += f"; {change_note}"
            rows.append(row)
    return Comparison(baseline, current, tuple(metrics), rows, notes)


# --------------------------------------------------------------------------------------------
# Output and command line
# --------------------------------------------------------------------------------------------

HEADER = ("variant", "metric", "baseline", "current", "change", "threshold", "verdict", "how")


def _describe(run: Run) -> str:
    commit = str(run.commit.get("id") or "")[:10] or "?"
    if run.commit.get("dirty"):
        commit += "+dirty"
    device = run.environment.get("device") or (run.machine.get("cpu") or {}).get("brand_raw") or "?"
    n_variants, n_cases = len(run.variants), len(run.cases)
    return (
        f"{run.source} (profile {run.profile or '?'}, commit {commit}, {run.datetime or 'no date'}, "
        f"{device}, {n_variants} variant{'s' * (n_variants != 1)}, {n_cases} case{'s' * (n_cases != 1)})"
    )


def render(comp: Comparison) -> str:
    """The comparison as plain aligned text (stable in CI logs)."""
    lines = [f"baseline: {_describe(comp.baseline)}", f"current:  {_describe(comp.current)}"]
    left_out = [m for m in ALL_METRICS if m not in comp.metrics]
    lines.append(
        "gates:    " + ", ".join(METRICS[m].key for m in comp.metrics)
        + (f" (not checked: {', '.join(METRICS[m].key for m in left_out)})" if left_out else "")
    )
    lines += [f"note:     {n}" for n in comp.notes]
    table = [HEADER] + [
        (r.variant, r.metric, r.baseline, r.current, r.change, r.threshold, r.verdict, r.how) for r in comp.rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER) - 1)]
    lines.append("")
    for row in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    lines.append("")
    counts = {v.lower(): comp.count(v) for v in (REGRESSED, MISSING, IMPROVED, NEW)}
    n_variants = len({r.variant for r in comp.rows})
    failing = sorted({r.variant for r in comp.rows if r.failing})
    if failing:
        bad = ", ".join(f"{counts[k]} {k}" for k in ("regressed", "missing") if counts[k])
        lines.append(f"FAIL: {bad} of {n_variants} variant(s): {', '.join(failing)}")
    else:
        good = ", ".join(f"{counts[k]} {k}" for k in ("improved", "new") if counts[k])
        lines.append(f"PASS: nothing regressed in {n_variants} variant(s)" + (f" ({good})" if good else ""))
    return "\n".join(line.rstrip() for line in lines)


def parse_metrics(text: str) -> tuple[str, ...]:
    aliases = {m.key: m.name for m in METRICS.values()}
    aliases.update({"throughput": "time", "train_images_per_second": "time"})
    chosen = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name = aliases.get(part, part)
        if name not in METRICS:
            raise argparse.ArgumentTypeError(f"unknown metric {part!r}; choose from {', '.join(ALL_METRICS)}")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise argparse.ArgumentTypeError("give at least one metric")
    return tuple(chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the gate list as written
    parser.add_argument("baseline", metavar="BASELINE", help="baseline result file, e.g. benchmarks/baselines/smoke-cpu.json")
    parser.add_argument(
        "current",
        metavar="CURRENT",
        help="result file to check (--benchmark-json output or an autosave file; a folder means its newest run)",
    )
    parser.add_argument(
        "--metrics",
        type=parse_metrics,
        default=ALL_METRICS,
        help="comma-separated gates to apply: accuracy, loss, time (default: all); "
        "use accuracy,loss to compare runs from different machines",
    )
    parser.add_argument("--variants", type=lambda s: [v for v in s.split(",") if v], help="only these variants (comma-separated)")
    parser.add_argument("--config", type=Path, help="pyproject.toml with [tool.flowers.check] (default: nearest from the working folder up)")
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="validate CURRENT and copy it over BASELINE atomically (prints what changes; exits 0)",
    )
    parser.add_argument("--force", action="store_true", help="with --update-baseline: accept an interrupted run, failed cases or another profile")


def _load(path: str) -> Run:
    """One run: a file, or the newest run in a pytest-benchmark storage folder."""
    if Path(path).is_dir():
        return load_runs([path])[-1]
    return load_run(path)


def _source_file(path: str) -> Path:
    p = Path(path)
    if p.is_dir():
        return Path(load_runs([p])[-1].source)
    return p


def update_baseline(args: argparse.Namespace, config: Config) -> int:
    current = _load(args.current)
    problems = []
    if not current.complete:
        problems.append("it is from an interrupted run")
    failed = [c for c in current.cases if not c.ok]
    if failed:
        problems.append(f"{len(failed)} case(s) failed ({_failure_text(failed)})")
    old: Run | None = None
    if Path(args.baseline).exists():
        try:
            old = load_run(args.baseline)
        except ResultsError as exc:
            print(f"note: the old baseline is unusable and will be replaced: {exc}")
    if old and old.profile and current.profile and old.profile != current.profile:
        problems.append(f"it is profile {current.profile!r} but {args.baseline} holds {old.profile!r}")
    if problems and not args.force:
        raise ResultsError(
            f"{current.source}: not made a baseline: {'; '.join(problems)}; rerun the benchmarks, or pass --force"
        )
    if old is not None:
        try:
            print(render(compare(old, current, config, args.metrics, args.variants)))
            print()
        except ResultsError as exc:
            print(f"note: cannot compare with the old baseline: {exc}")
    target = Path(args.baseline)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(target, _source_file(args.current).read_bytes())
    print(f"updated {target} from {_describe(current)}; commit it: git add {target}")
    return 0


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.update_baseline:
        return update_baseline(args, config)
    if not Path(args.baseline).exists():
        raise ResultsError(
            f"{args.baseline}: no such baseline; make one with: flowers check --update-baseline "
            f"{args.baseline} CURRENT"
        )
    baseline = _load(args.baseline)
    current = _load(args.current)
    comp = compare(baseline, current, config, args.metrics, args.variants)
    code = 1 if comp.regressed else 0
    try:
        print(render(comp), flush=True)
    except BrokenPipeError:  # e.g. `flowers check ... | head`: the verdict still decides the exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code
