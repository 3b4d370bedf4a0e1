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
#   markdown      the comparison as Markdown (--markdown FILE, GitHub's job summary)
#   calibrate     --calibrate: what the gate does on runs of unchanged code; what it can detect
#   baseline      update_baseline(): validate a run and copy it over the baseline atomically
#   cli           add_arguments() and run(): the thin command-line layer
# The names below are the package's public interface: what flowers.report and flowers.trends use
# (they import nothing else of it) and what users call: ``from flowers import check;
# check.render(check.compare(baseline, current))``.

from flowers.check.calibrate import MIN_SEEDS, detectable, seeds_of
from flowers.check.cli import add_arguments, run
from flowers.check.comparison import compare, timing_key
from flowers.check.metrics import ALIASES, ALL_METRICS, METRICS, MISSING
from flowers.check.settings import THRESHOLD_KEYS, Config, Thresholds, load_config, parse_config
from flowers.check.table import render

__all__ = [
    "ALIASES",
    "ALL_METRICS",
    "METRICS",
    "MIN_SEEDS",
    "MISSING",
    "THRESHOLD_KEYS",
    "Config",
    "Thresholds",
    "add_arguments",
    "compare",
    "detectable",
    "load_config",
    "parse_config",
    "render",
    "run",
    "seeds_of",
    "timing_key",
]
