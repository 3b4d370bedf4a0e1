"""The accuracy-time curve the lite profile's image size and epochs were chosen from (docs/running.md).

    python scripts/lite_curve.py curve-32.json curve-64.json ... --picture docs/lite_curve.png

Each file is one run of ``basic_cnn`` and ``mobilenet_v2_transfer`` at one image size, for E epochs
and a few seeds, e.g. ``pytest benchmarks -k "basic_cnn or mobilenet" --data PHOTOS --weights DIR
--image-size 64 --epochs 12 --seeds 3 --no-jit-compile --benchmark-json curve-64.json``.  A run of e
epochs is the first e epochs of a run of E (an epoch's batch order depends only on the seed and the
epoch: ``flowers.training.train.epoch_order``), so one run gives every point of its size: after epoch e, the
case's time so far (model set-up, feature cache, e epochs with their validation, evaluation; the data
load, once per session, left out) and the validation accuracy, each the mean over the seeds.  The
table also gives the test accuracy after the last epoch.  On a shared machine the times move with the
neighbours' load, so the picture's second row puts the same points against the work done instead:
the feature cache's FLOPs and e epochs of training steps (:mod:`flowers.cost`, from the FLOPs each
result records).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from flowers import schema
from flowers.report.plots import color

VARIANTS = ("basic_cnn", "mobilenet_v2_transfer")


def cases(paths: list[str]) -> dict[tuple[str, int], list[dict]]:
    """``{(variant, image size): [extra_info of each ok seed]}`` of the given runs."""
    found: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for path in paths:
        for bench in json.loads(Path(path).read_text())[schema.BENCHMARKS]:
            info = bench[schema.EXTRA_INFO]
            if info.get(schema.STATUS) == schema.OK and info[schema.VARIANT] in VARIANTS:
                found[info[schema.VARIANT], info[schema.CONFIG][schema.IMAGE_SIZE]].append(info)
    return dict(sorted(found.items()))


def points(infos: list[dict], work: bool = False) -> list[tuple[float, float]]:
    """(seconds, or GFLOPs with ``work``, validation accuracy) after each epoch, means over the seeds."""
    epochs = min(len(info[schema.EPOCH_SECONDS]) for info in infos)
    out = []
    for e in range(1, epochs + 1):
        cost = [gflops(info, e) if work else seconds(info, e) for info in infos]
        accuracy = [info[schema.HISTORY][schema.VAL_ACCURACY][e - 1] for info in infos]
        out.append((statistics.mean(cost), statistics.mean(accuracy)))
    return out


def seconds(info: dict, epochs: int) -> float:
    parts = info[schema.BREAKDOWN]
    spent = parts[schema.SETUP] + parts[schema.FEATURE_CACHE_BUILD] + parts[schema.EVALUATION]
    return spent + sum(info[schema.EPOCH_SECONDS][:epochs])


def gflops(info: dict, epochs: int) -> float:
    """The feature cache's FLOPs and ``epochs`` epochs of training steps, in GFLOP (the recorded
    achieved GFLOP/s over the training time counts both, for every epoch run)."""
    n_train = info[schema.DATASET][schema.SPLITS][schema.TRAIN]
    step = info[schema.FLOPS_PER_IMAGE] * n_train
    total = info[schema.ACHIEVED_GFLOPS] * 1e9 * info[schema.TRAIN_SECONDS]
    cache = total - step * info[schema.EPOCHS]
    return (cache + step * epochs) / 1e9


def table(found: dict[tuple[str, int], list[dict]]) -> str:
    lines = [f"{'variant':22s} {'px':>4s} {'seeds':>5s}  validation accuracy after epoch 1, 2, ... (seconds)"]
    for (variant, size), infos in found.items():
        test = [info[schema.TEST_ACCURACY] for info in infos]
        curve = "  ".join(f"{acc:.3f} ({sec:.0f})" for sec, acc in points(infos))
        lines.append(f"{variant:22s} {size:4d} {len(infos):5d}  {curve}")
        lines.append(
            f"{'':34s}test accuracy after the last: {statistics.mean(test):.3f} [{min(test):.3f}-{max(test):.3f}]"
        )
    return "\n".join(lines)


XLABELS = ("seconds per case (2 shared cores, AVX2 code path)", "work per case, GFLOP (feature cache + training)")


def picture(found: dict[tuple[str, int], list[dict]]) -> bytes:
    figure = Figure(figsize=(10, 7.5), dpi=110, layout="constrained")
    grid = figure.subplots(2, len(VARIANTS), sharey=True)
    sizes = sorted({size for _, size in found})
    for row, xlabel in zip(grid, XLABELS):
        for ax, variant in zip(row, VARIANTS):
            for (name, size), infos in found.items():
                if name == variant:
                    cost, accuracy = zip(*points(infos, work=xlabel is XLABELS[1]))
                    ax.plot(cost, accuracy, "o-", ms=3, color=color(sizes.index(size)), label=f"{size} px")
                    ax.annotate(
                        str(len(cost)), (cost[-1], accuracy[-1]), fontsize=7, xytext=(3, 0), textcoords="offset points"
                    )
            ax.set_xscale("log")
            ax.set_title(variant)
            ax.set_xlabel(xlabel)
            ax.legend(title="image size", loc="lower right", fontsize=8)
        row[0].set_ylabel("validation accuracy (mean over seeds)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="result files, one image size each")
    parser.add_argument("--picture", help="write the curve as a PNG here")
    args = parser.parse_args()
    found = cases(args.runs)
    print(table(found))
    if args.picture:
        Path(args.picture).write_bytes(picture(found))
        print(f"wrote {args.picture}")


if __name__ == "__main__":
    main()
