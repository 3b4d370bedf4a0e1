"""The smallest drop in test accuracy (and rise in test loss) the gate flags, for a nightly's shape.

    python scripts/gate_power.py RUN.json --gates 10 --current-seeds 1,3,5 [--n-test 367]

``flowers check --calibrate RUN`` prints the same figures, sharing the 2% false-alarm budget over the
gates of RUN itself; a run of two variants has 4 accuracy and loss gates where the lite nightly has 10
(5 variants), so this asks how the gate would judge with ``--gates`` gates: each gets
``false_alarm / gates`` (``[tool.flowers.check]`` in pyproject.toml), as ``flowers check`` splits it.
With RUN's seeds as the baseline (10 for a baseline), the figure is the smallest worse change of the
mean of ``k`` current seeds that fails (``detects``), for each ``k`` of ``--current-seeds``.
``--n-test`` gives accuracy's binomial floor for a test split of that size instead of RUN's (an
estimate for another split: the seeds' spread is still RUN's).
"""

from __future__ import annotations

import argparse

from flowers.check.metrics import METRICS
from flowers.check.settings import load_config
from flowers.results import load_run


def rows(path: str, gates: int, seeds: list[int], n_test: int | None) -> list[list[str]]:
    run = load_run(path)
    config = load_config()
    out = []
    for variant, cases in run.by_variant().items():
        ok = [c for c in cases if c.ok]
        th = config.for_variant(variant)
        for name in ("accuracy", "loss"):
            metric = METRICS[name]
            values = [v for v in (c.metric(metric.key) for c in ok) if v is not None]
            test = n_test or next((c.test_images for c in ok if c.test_images), None)
            shown = [
                metric.gate(values, values[:k], th, test, th.false_alarm / gates).threshold.split(";")[0] for k in seeds
            ]
            out.append([variant, metric.key, str(len(values)), metric.noise(values, test).source, *shown])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run with several seeds of each variant (the baseline)")
    parser.add_argument("--gates", type=int, default=10, help="gates sharing the false-alarm budget (default 10)")
    parser.add_argument("--current-seeds", default="1,3,5", help="current seeds to show (default 1,3,5)")
    parser.add_argument("--n-test", type=int, help="test images for accuracy's binomial floor (default: the run's)")
    args = parser.parse_args()
    seeds = [int(k) for k in args.current_seeds.split(",")]
    header = ["variant", "metric", "seeds", "noise (one seed)", *(f"detects, {k} seeds" for k in seeds)]
    table = [header, *rows(args.run, args.gates, seeds, args.n_test)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print(f"{args.run}: {args.gates} gates share the false-alarm budget")
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
