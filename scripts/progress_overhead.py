"""What the live progress bars cost training: per batch, against the time of a training batch.

    python scripts/progress_overhead.py [UPDATES]

Prints (a) the cost of one bar update when the bar is live (drawn to a terminal stand-in, at most
every flowers.training.progress.REDRAW_SECONDS, as in a case) and when it is off (output not a terminal), per
update, and of one redraw; (b) the time of one training batch of the smallest case the bars run in
(basic_cnn, smoke profile, 32 px) from a short train.run; (c) the bars' share of a batch.
A batch makes one update, so (c) is the slowdown of training by the bars; larger images or models
only make it smaller.
"""

import argparse
import contextlib
import os
import time

from flowers.training import train
from flowers.training.data import load
from flowers.training.profiles import make_config
from flowers.training.progress import REDRAW_SECONDS, Progress


def per_update(live: bool, updates: int) -> float:
    """Seconds per update of a bar of ``updates`` steps, updated as fast as possible."""
    with open(os.devnull, "w") as devnull:
        progress = Progress(lambda line: None, lambda: contextlib.redirect_stdout(devnull), isatty=live)
        bar = progress.bar(updates, "overhead")
        start = time.perf_counter()
        for _ in range(updates):
            bar.update()
        seconds = time.perf_counter() - start
        bar.close()
    return seconds / updates


def per_redraw(redraws: int = 200) -> float:
    """Seconds per forced redraw of a live bar (what happens at most every REDRAW_SECONDS)."""
    with open(os.devnull, "w") as devnull:
        bar = Progress(lambda line: None, lambda: contextlib.redirect_stdout(devnull), isatty=True).bar(
            redraws, "redraw"
        )
        start = time.perf_counter()
        for _ in range(redraws):
            bar.update()
            bar.refresh()
        seconds = time.perf_counter() - start
        bar.close()
    return seconds / redraws


def batch_seconds() -> float:
    """Median time of a training batch of basic_cnn (smoke profile), epochs 2 and later."""
    config = make_config("smoke", epochs=3)
    result = train.run("basic_cnn", load(config.data, config.image_size), config)
    steps = -(-result["dataset"]["splits"]["train"] // config.batch_size)
    return sorted(result["epoch_step_seconds"][1:])[0] / steps


def main(updates: int = 100_000) -> None:
    live, off, redraw = per_update(True, updates), per_update(False, updates), per_redraw()
    batch = batch_seconds()
    print(f"bar update, live: {live * 1e6:.2f} us; off: {off * 1e6:.2f} us; one redraw: {redraw * 1e6:.0f} us")
    print(f"training batch (basic_cnn, smoke): {batch * 1e3:.2f} ms")
    print(
        f"bars' share of a batch: live {live / batch:.4%}, off {off / batch:.4%}; "
        f"redraws (at most {1 / REDRAW_SECONDS:.0f}/s): {redraw / REDRAW_SECONDS:.4%} of a second"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("updates", nargs="?", type=int, default=100_000, help="bar updates to time (default: 100000)")
    main(parser.parse_args().updates)
