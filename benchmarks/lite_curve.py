"""The accuracy-time curve the lite profile's image size and epochs were chosen from (docs/running.md).

    python benchmarks/lite_curve.py curve-32.json curve-64.json ... --picture docs/lite_curve.png

Each file is one run of ``basic_cnn`` and ``mobilenet_v2_transfer`` at one image size, for E epochs
and a few seeds, e.g. ``pytest benchmarks -k "basic_cnn or mobilenet" --data PHOTOS --weights DIR
--image-size 64 --epochs 12 --seeds 3 --no-jit-compile --benchmark-json curve-64.json``.  A run of e
epochs is the first e epochs of a run of E (an epoch's batch order depends only on the seed and the
epoch: ``flowers.train.epoch_order``), so one run gives every point of its size: after epoch e, the
case's time so far (model set-up, feature cache, e epochs with their validation, evaluation; the data
load, once per session, left out) and the validation accuracy, each the mean over the seeds.  The
table also gives the test accuracy after the last epoch.  On a shared machine read the times as
ratios between sizes.
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
from flowers.plots import color

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


def points(infos: list[dict]) -> list[tuple[float, float]]:
    """(seconds, validation accuracy) after each epoch, means over the seeds."""
    epochs = min(len(info[schema.EPOCH_SECONDS]) for info in infos)
    out = []
    for e in range(1, epochs + 1):
        seconds = [
            info[schema.BREAKDOWN][schema.SETUP]
            + info[schema.BREAKDOWN][schema.FEATURE_CACHE_BUILD]
            + sum(info[schema.EPOCH_SECONDS][:e])
            + info[schema.BREAKDOWN][schema.EVALUATION]
            for info in infos
        ]
        accuracy = [info[schema.HISTORY][schema.VAL_ACCURACY][e - 1] for info in infos]
        out.append((statistics.mean(seconds), statistics.mean(accuracy)))
    return out


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


def picture(found: dict[tuple[str, int], list[dict]]) -> bytes:
    figure = Figure(figsize=(10, 4), dpi=110, layout="constrained")
    axes = figure.subplots(1, len(VARIANTS), sharey=True)
    sizes = sorted({size for _, size in found})
    for ax, variant in zip(axes, VARIANTS):
        for (name, size), infos in found.items():
            if name != variant:
                continue
            seconds, accuracy = zip(*points(infos))
            ax.plot(seconds, accuracy, "o-", ms=3, color=color(sizes.index(size)), label=f"{size} px")
            ax.annotate(
                f"{len(seconds)}", (seconds[-1], accuracy[-1]), fontsize=7, xytext=(3, 0), textcoords="offset points"
            )
        ax.set_xscale("log")
        ax.set_title(variant)
        ax.set_xlabel("seconds per case (2 shared cores, AVX2 code path)")
        ax.legend(title="image size", loc="lower right")
    axes[0].set_ylabel("validation accuracy (mean over seeds)")
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
