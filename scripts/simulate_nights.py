"""Play nights of the nightly benchmark into a history store, with steps injected on known nights,
and check that ``flowers trends`` flags every injected step and nothing else.

    python scripts/simulate_nights.py STORE [--nights 40] [--seed 1]    # play, detect, score
    python scripts/simulate_nights.py STORE --nights 300 --trends DIR   # ...and time flowers trends
    python scripts/simulate_nights.py --calibrate 200 [--nights 40]     # rates over 200 draws, no files
    python scripts/simulate_nights.py STORE --picture docs/trends.png   # the picture in docs/nightly.md

Each night is a result file shaped like a real one: the committed smoke baseline
(benchmarks/baselines/smoke-cpu.json) with every variant run for SEEDS seeds, a new commit and date,
and test accuracy, test loss and steady throughput drawn with realistic seed noise: accuracy as
correct images of the template's test split (n = 50 in the smoke profile), Binomial(n, p) / n per
seed; loss with 8% and
throughput with 5% lognormal noise per seed.  STEPS are injected on known nights (fractions of the
nights): each comes with what a real cause would change that night (a config value of the
variant), so the trend page's "what changed" has the cause to show.

Scored per variant and metric: an injected step is found when a step is flagged within one night
of it; every other flagged step is a false flag.  Exit 1 when a step is missed or falsely flagged.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from flowers.resultedit import dated, load, recorded, save, scaled
from flowers.schema import config_hash

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "benchmarks" / "baselines" / "smoke-cpu.json"
SEEDS = 3
LOSS_NOISE, TIME_NOISE = 0.08, 0.05  # lognormal sd per seed
ACCURACY_RANGE = (0.55, 0.93)  # the template's accuracies, kept where a test split has noise
START = datetime(2026, 1, 1, 2, 17, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Injected:
    variant: str
    metric: str  # accuracy | loss | time
    at: float  # night, as a fraction of the nights
    shift: float  # accuracy: added to p; loss and time: factor
    cause: tuple[str, object]  # the config key and value the variant gets from that night on


STEPS = (
    Injected("resnet50v2_finetune", "accuracy", 0.3, -0.20, ("learning_rate", 0.001)),
    Injected("resnet50v2_finetune", "loss", 0.3, 1.40, ("learning_rate", 0.001)),
    Injected("mobilenet_v2_transfer", "time", 0.55, 0.75, ("batch_size", 16)),
    Injected("resnet50v2_finetune", "accuracy", 0.8, +0.20, ("learning_rate", 0.0001)),
    Injected("resnet50v2_finetune", "loss", 0.8, 1 / 1.40, ("learning_rate", 0.0001)),
)


def step_nights(nights: int) -> dict[tuple[str, str], list[int]]:
    """The night each injected step starts on, per (variant, metric)."""
    out: dict[tuple[str, str], list[int]] = {}
    for s in STEPS:
        out.setdefault((s.variant, s.metric), []).append(round(s.at * nights))
    return out


def n_test(template: dict) -> int:
    """The template's test split: the simulated accuracies are drawn on as many images, as the trends read."""
    return int(template["benchmarks"][0]["extra_info"]["dataset"]["splits"]["test"])


def per_variant(template: dict) -> list[dict]:
    """The template's first case of each variant (the committed baseline holds several seeds)."""
    return list({b["extra_info"]["variant"]: b for b in reversed(template["benchmarks"])}.values())[::-1]


def levels(template: dict, nights: int) -> dict[str, dict[str, np.ndarray]]:
    """Per variant, the true level of each metric on each night (accuracy: p of a test image)."""
    out = {}
    for bench in per_variant(template):
        info = bench["extra_info"]
        base = {
            "accuracy": min(max(info["test_accuracy"], ACCURACY_RANGE[0]), ACCURACY_RANGE[1]),
            "loss": info["test_loss"],
            "time": info["steady_images_per_second"],
        }
        out[info["variant"]] = {m: np.full(nights, float(v)) for m, v in base.items()}
    for s in STEPS:
        at = round(s.at * nights)
        if s.metric == "accuracy":
            out[s.variant][s.metric][at:] += s.shift
        else:
            out[s.variant][s.metric][at:] *= s.shift
    return out


def draw(template: dict, nights: int, rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """Per variant and metric, an array [night, seed] of values drawn around :func:`levels`."""
    out, n = {}, n_test(template)
    for variant, lv in levels(template, nights).items():
        p = np.clip(lv["accuracy"], 0, 1)[:, None]
        out[variant] = {
            "accuracy": rng.binomial(n, p, size=(nights, SEEDS)) / n,
            "loss": lv["loss"][:, None] * np.exp(rng.normal(0, LOSS_NOISE, (nights, SEEDS))),
            "time": lv["time"][:, None] * np.exp(rng.normal(0, TIME_NOISE, (nights, SEEDS))),
        }
    return out


def _config(variant: str, night: int, nights: int, base: dict) -> dict:
    config = dict(base)
    for s in STEPS:
        if s.variant == variant and night >= round(s.at * nights):
            config[s.cause[0]] = s.cause[1]
    return config


def _case(bench: dict, seed: int, values: dict[str, float], config: dict) -> dict:
    case = copy.deepcopy(bench)
    variant = case["extra_info"]["variant"]
    case["name"] = f"test_variant[{variant}-seed={seed}]"
    case["fullname"] = f"benchmarks/test_variants.py::{case['name']}"
    case["params"] = {"variant": variant, "seed": seed}
    # A slower or faster night is so for the whole case: every throughput figure and timing moves alike.
    info = scaled(case["extra_info"], case["extra_info"]["steady_images_per_second"] / float(values["time"]))
    info.update(
        seed=seed,
        config={**config, "seed": seed},
        config_hash=config_hash(config),
        test_accuracy=float(values["accuracy"]),
        test_loss=float(values["loss"]),
        steady_images_per_second=float(values["time"]),
    )
    case["extra_info"] = info
    return case


def night_run(template: dict, drawn: dict, night: int, nights: int) -> dict:
    """Night ``night`` as a result file's JSON."""
    cases = []
    for bench in per_variant(template):
        variant = bench["extra_info"]["variant"]
        config = _config(
            variant, night, nights, {k: v for k, v in bench["extra_info"]["config"].items() if k != "seed"}
        )
        for seed in range(SEEDS):
            values = {m: drawn[variant][m][night, seed] for m in ("accuracy", "loss", "time")}
            cases.append(_case(bench, seed, values, config))
    when = (START + timedelta(days=night, seconds=night % 60)).isoformat()
    commit = hashlib.sha1(f"night {night}".encode()).hexdigest()
    run = {**{k: v for k, v in template.items() if k != "benchmarks"}, "benchmarks": cases}
    return recorded(dated(run, when, commit))


def play(store: Path, nights: int, seed: int) -> None:
    """Write ``nights`` nights into ``store`` through ``flowers store add``."""
    from flowers import store as history

    template = load(TEMPLATE)
    drawn = draw(template, nights, np.random.default_rng(seed))
    with tempfile.TemporaryDirectory() as tmp:
        for night in range(nights):
            history.add(store, [save(Path(tmp) / "out.json", night_run(template, drawn, night, nights))])


@dataclass
class Score:
    injected: int = 0
    found: int = 0
    false_flags: int = 0
    series: int = 0
    nights: int = 0

    def add(self, flagged: list[int], injected: list[int]) -> None:
        self.injected += len(injected)
        self.found += sum(any(abs(f - i) <= 1 for f in flagged) for i in injected)
        self.false_flags += sum(all(abs(f - i) > 1 for i in injected) for f in flagged)
        self.series += 1

    def line(self) -> str:
        return (
            f"{self.found}/{self.injected} injected steps flagged within one night, {self.injected - self.found} "
            f"missed; {self.false_flags} false flags over {self.series} series of {self.nights} nights"
        )


def score_store(store: Path, nights: int) -> Score:
    """Detect steps in the store's smoke-cpu series, as flowers trends does, and score them."""
    from flowers import store as history
    from flowers.trends.steps import detect_all

    runs = history.load(store)["smoke-cpu"]
    expected = step_nights(nights)
    score = Score(nights=len(runs))
    for trend, steps, _ in detect_all(runs):
        score.add([s.night for s in steps], expected.get((trend.variant, trend.metric), []))
    return score


def calibrate(draws: int, nights: int) -> Score:
    """The score over ``draws`` simulated histories, straight from the drawn values (no files)."""
    from flowers.check.metrics import METRICS
    from flowers.check.settings import Config
    from flowers.trends.series import Trend
    from flowers.trends.steps import detect

    template = load(TEMPLATE)
    th, expected, n = Config().defaults, step_nights(nights), n_test(template)
    score = Score(nights=nights)
    for seed in range(draws):
        for variant, metrics in draw(template, nights, np.random.default_rng(10_000 + seed)).items():
            for metric, values in metrics.items():
                trend = Trend(variant, metric, metric, [list(map(float, row)) for row in values], n)
                tolerance = getattr(th, METRICS[metric].tolerance)
                score.add([s.night for s in detect(trend, tolerance)[0]], expected.get((variant, metric), []))
    return score


def picture(store: Path, path: Path, variant: str = STEPS[0].variant) -> None:
    """The trend graph of ``variant`` as flowers trends draws it, in 64 colours (small enough to commit)."""
    import io

    from PIL import Image

    from flowers import store as history
    from flowers.trends.page import build

    page = build(history.load(store))
    png = next(f.png for f in page.figures if f.title == variant)
    Image.open(io.BytesIO(png)).convert("RGB").quantize(64).save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", type=Path, help="store folder to play the nights into (must not exist)")
    parser.add_argument("--nights", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1, help="random seed of the draw")
    parser.add_argument("--trends", type=Path, metavar="DIR", help="then run flowers trends STORE -o DIR and time it")
    parser.add_argument("--calibrate", type=int, metavar="DRAWS", help="score DRAWS draws without files")
    parser.add_argument("--picture", type=Path, metavar="PNG", help=f"then save the graph of {STEPS[0].variant} to PNG")
    args = parser.parse_args(argv)
    if args.calibrate:
        score = calibrate(args.calibrate, args.nights)
        print(f"calibration, {args.calibrate} draws: {score.line()}")
        return 0
    if args.store is None or args.store.exists():
        parser.error("give a STORE folder that does not exist yet")
    started = time.perf_counter()
    play(args.store, args.nights, args.seed)
    print(f"played {args.nights} nights into {args.store} in {time.perf_counter() - started:.1f} s")
    score = score_store(args.store, args.nights)
    print(score.line())
    if args.trends:
        from flowers import cli

        started = time.perf_counter()
        cli.main(["trends", str(args.store), "-o", str(args.trends)])
        print(f"flowers trends over {args.nights} nights: {time.perf_counter() - started:.2f} s")
    if args.picture:
        picture(args.store, args.picture)
        print(f"wrote {args.picture}")
    return 0 if score.found == score.injected and not score.false_flags else 1


if __name__ == "__main__":
    sys.exit(main())
