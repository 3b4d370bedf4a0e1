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

# The docstring above is also ``flowers check --help``'s description (flowers/cli.py).  The package:
#   settings      [tool.flowers.check] thresholds from pyproject.toml (Thresholds, Config)
#   significance  one-sided p-values over seeds (Welch's t-test; one value against several)
#   metrics       each gated metric with its gate (Metric: key, direction, tolerance, test; Verdict)
#   comparison    compare(): two runs -> Comparison, one VerdictRow per variant and metric
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
    FAILING,
    IMPROVED,
    METRICS,
    MISSING,
    NEW,
    OK,
    REGRESSED,
    SKIPPED,
    Metric,
    Verdict,
    binomial_limit,
    gate_accuracy,
    gate_loss,
    gate_throughput,
)
from flowers.check.settings import THRESHOLD_KEYS, Config, Thresholds, find_pyproject, load_config, parse_config
from flowers.check.significance import one_sided_p, one_vs_several_p, seed_p
from flowers.check.table import HEADER, describe, render
from flowers.results import STEADY_THROUGHPUT

__all__ = [
    "ALIASES", "ALL_METRICS", "FAILING", "HEADER", "IMPROVED", "METRICS", "MISSING", "NEW", "OK", "REGRESSED",
    "SKIPPED", "STEADY_THROUGHPUT", "THRESHOLD_KEYS", "Comparison", "Config", "Metric", "Thresholds", "Verdict",
    "VerdictRow", "add_arguments", "binomial_limit", "compare", "describe", "failure_text", "find_pyproject",
    "gate_accuracy", "gate_loss", "gate_throughput", "load_config", "machine_difference", "one_sided_p",
    "one_vs_several_p", "parse_config", "parse_metrics", "render", "run", "seed_p", "update_baseline",
]
