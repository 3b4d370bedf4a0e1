"""Compare a run with a baseline: noise-aware, direction-aware gates; exit 1 on a regression.

``flowers check BASELINE CURRENT`` says first what it can detect with the seeds both runs have,
then prints one row per variant and metric (baseline, current, change, threshold, verdict, and how
the verdict was reached) and exits 0 when nothing regressed, 1 when something did, 2 when an input
cannot be used.  ``flowers check --update-baseline BASELINE CURRENT`` validates CURRENT and copies
it over BASELINE atomically.

Each gate judges the current value against the baseline's own spread between seeds (make a
baseline with ``--seeds 10``): a value is worse when it lies outside the one-sided prediction
interval the baseline's seeds give (Student t; accuracy on the arcsine scale, where the test
split's binomial noise 1/(2 sqrt(n_test)) is a floor) *and* by more than a fixed tolerance.  A
baseline of fewer than 5 seeds is judged by the few-seed rule instead: normal quantiles on the
largest of its seeds' spread, the binomial floor and a prior spread per metric.  With several
current seeds, the worst seed is judged too (Bonferroni over the seeds), so a partial collapse is
caught.  The run's false-alarm budget (false_alarm, 0.02: a run with nothing changed fails at most
2% of the time, all gates together) is split evenly over its gates; ``flowers check --calibrate``
measures what the gate really does on runs of unchanged code.  Settings, in pyproject.toml under
[tool.flowers.check] (per variant under [tool.flowers.check.variants.NAME]); ``metrics`` there
names the gates a plain check applies (default accuracy and loss; --metrics overrides it):

* test_accuracy regresses when it falls; tolerance accuracy_tolerance (0.02, absolute).
* test_loss regresses when it rises; judged on log(loss + 0.01), so that a loss near zero is not
  read as large ratios; tolerance loss_tolerance (0.10, of loss + 0.01).
* throughput, gated only when asked (--metrics time), regresses when it falls; log scale;
  tolerance throughput_tolerance (0.15).  It cannot decide between runs of different machines:
  it compares only cases that ran on one kind of machine and device (architecture, CPU model,
  cores, device; each case of a merged run on its own machine).  It reads the first of steady,
  whole-training and whole-case images/s that the baseline timed over at least min_timed_seconds
  (2 s), chosen by the baseline alone, so a slower current run cannot switch its gate off; when
  none was, the whole case's, with tolerance short_timing_tolerance (0.75: a 4x slowdown).
* a baseline variant absent from the current run, failed there, or holding an invalid metric is
  ``missing`` and counts as a regression; a variant only in the current run is ``new``.
* a gate asked for that cannot decide (the current run recorded no throughput, a machine is
  unknown, the runs were made on different kinds of machine) is ``UNDECIDED`` and fails too: the
  row and the summary line say why and what to do (e.g. leave time out of --metrics).
* a baseline that cannot gate a variant (no usable case: every seed failed or invalid; no
  throughput figure under --metrics time) is unusable input: exit 2 naming it; remake the baseline.
* whatever the metrics, what each variant is (its model, layers and their trainable flags, head,
  preprocessing, weights, config, data, and the work counted while it ran) is compared exactly:
  each difference is a ``CHANGED`` row, ``fact before → after``, that fails the check.  Accept a
  change on purpose with the command the check prints (pytest benchmarks --update-baseline FILE
  -k VARIANTS: reruns those variants with the baseline's seeds and rewrites their cases in FILE).
"""

# The docstring above is also ``flowers check --help``'s description (flowers/cli.py).  The package:
#   settings      [tool.flowers.check] thresholds from pyproject.toml (Thresholds, Config)
#   noise         the spread of one seed, measured from the baseline's seeds, and the limits it gives
#   power         the first line: what the check flags with the seeds it has, and how many would do
#   metrics       each gated metric with its gate (Metric: key, direction, scale, tolerance; Verdict)
#   comparison    compare(): two runs -> Comparison, one VerdictRow per variant and metric
#   identity      the fact gate: each variant's facts (flowers.facts) compared exactly, CHANGED rows
#   table         render(): the comparison as aligned text with PASS/FAIL
#   baseline      update_baseline(): validate a run and copy it over the baseline atomically
#   cli           add_arguments() and run(): the thin command-line layer
# Everything is re-exported here, so ``from flowers import check; check.compare(...)`` keeps working.

from flowers.check.baseline import update_baseline
from flowers.check.cli import add_arguments, parse_metrics, run
from flowers.check.comparison import Comparison, VerdictRow, compare, failure_text, machine_difference
from flowers.check.metrics import (
    ALIASES,
    ALL_METRICS,
    CHANGED,
    FAILING,
    IMPROVED,
    METRICS,
    MISSING,
    NEW,
    OK,
    REGRESSED,
    UNDECIDED,
    Metric,
    Verdict,
)
from flowers.check.noise import Noise
from flowers.check.settings import THRESHOLD_KEYS, Config, Thresholds, find_pyproject, load_config, parse_config
from flowers.check.table import HEADER, describe, render
from flowers.schema import STEADY_THROUGHPUT

__all__ = [
    "ALIASES",
    "ALL_METRICS",
    "CHANGED",
    "FAILING",
    "HEADER",
    "IMPROVED",
    "METRICS",
    "MISSING",
    "NEW",
    "OK",
    "REGRESSED",
    "STEADY_THROUGHPUT",
    "THRESHOLD_KEYS",
    "UNDECIDED",
    "Comparison",
    "Config",
    "Metric",
    "Noise",
    "Thresholds",
    "Verdict",
    "VerdictRow",
    "add_arguments",
    "compare",
    "describe",
    "failure_text",
    "find_pyproject",
    "load_config",
    "machine_difference",
    "parse_config",
    "parse_metrics",
    "render",
    "run",
    "update_baseline",
]
