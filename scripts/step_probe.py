"""Training speed of each variant under candidate settings, side by side (not a timed test).

    python scripts/step_probe.py          # smoke profile, every variant, default vs XLA, 2 rounds
    python scripts/step_probe.py --variants resnet50v2_finetune --settings default,avx2,avx2-xla,batch64
    python scripts/step_probe.py --list   # the candidate settings
    python scripts/step_probe.py --profile lite --data synthetic --weights none \
        --variants resnet50v2_finetune --settings avx2-xla-32,avx2-xla-48,avx2-xla-64 --epochs 3

The first command runs for minutes on a 2-core CPU (docs/speed.md gives its time and figures), most of
it in ResNet50V2's steps with XLA; ``--variants`` and ``--settings`` narrow it.

Each (round, setting) is a fresh Python process (thread counts and oneDNN's environment variables act
only before TensorFlow starts) that runs ``flowers.training.train.run`` on the profile's data for the chosen
variants in the suite's order, as one benchmark session would (so a later case may reuse an earlier
one's compiled model, as in the suite), with ``--epochs`` epochs (default 2: epoch 2 gives the
steady figure).  Rounds run the settings in turn, reversed every other round
(A B C, C B A, ...), so that a neighbour's load or a drifting clock hits every setting alike.

Printed per variant and setting, as median [min-max] over the rounds:
  steady     training images/s in the training steps of epochs 2 and later (the suite's
             ``steady_images_per_second``)
  x default  the same round's ratio to the ``default`` setting (a side-by-side ratio: the figure to
             read on a loaded machine)
  overhead   seconds the first epoch took beyond a later one (tracing, graph optimisation, XLA's
             compile, first-run setup of the kernels, the first validation pass)
  case       the case's whole ``train.run`` (model, calibration, feature cache, training, evaluation)
  accuracy   test accuracy (settings that change the numerics, like the batch size, change it)
The machine's CPU, whether it has AVX-512, and the load average before and after are printed too: on
a shared machine read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# oneDNN's kernels and XLA's code generation restricted to AVX2: a stand-in for a CPU without AVX-512
AVX2_ONLY = {"ONEDNN_MAX_CPU_ISA": "AVX2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}
# name -> environment variables, TrainConfig overrides, (intra-op, inter-op) threads (0: TensorFlow's default);
# "default" is the profile's own settings (smoke: XLA by the "auto" rule of flowers.training.xla)
SETTINGS = {
    "default": {"env": {}, "config": {}, "threads": (0, 0)},
    "xla": {"env": {}, "config": {"jit_compile": True}, "threads": (0, 0)},
    "no-xla": {"env": {}, "config": {"jit_compile": False}, "threads": (0, 0)},
    "threads-1-1": {"env": {}, "config": {}, "threads": (1, 1)},
    "threads-2-1": {"env": {}, "config": {}, "threads": (2, 1)},
    "batch64": {"env": {}, "config": {"batch_size": 64}, "threads": (0, 0)},
    "batch128": {"env": {}, "config": {"batch_size": 128}, "threads": (0, 0)},
    "xla-batch64": {"env": {}, "config": {"jit_compile": True, "batch_size": 64}, "threads": (0, 0)},
    "xla-batch128": {"env": {}, "config": {"jit_compile": True, "batch_size": 128}, "threads": (0, 0)},
    # XLA's CPU backend flags for other convolution kernels (in TensorFlow 2.21: no change)
    "xla-onednn": {
        "env": {"XLA_FLAGS": "--xla_cpu_use_onednn=true"},
        "config": {"jit_compile": True},
        "threads": (0, 0),
    },
    "xla-onednn-calls": {
        "env": {"XLA_FLAGS": "--xla_cpu_experimental_onednn_custom_call=true"},
        "config": {"jit_compile": True},
        "threads": (0, 0),
    },
    "xla-xnnpack": {
        "env": {"XLA_FLAGS": "--xla_cpu_use_xnnpack=true"},
        "config": {"jit_compile": True},
        "threads": (0, 0),
    },
    "onednn-off": {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}, "config": {}, "threads": (0, 0)},
    "avx2": {"env": AVX2_ONLY, "config": {"jit_compile": False}, "threads": (0, 0)},
    "avx2-xla": {"env": AVX2_ONLY, "config": {"jit_compile": True}, "threads": (0, 0)},
}
# the AVX2 code path at other image sizes (what a smaller or larger profile would cost there)
for _size in (32, 48, 64, 96):
    SETTINGS[f"avx2-{_size}"] = {
        "env": AVX2_ONLY,
        "config": {"jit_compile": False, "image_size": _size},
        "threads": (0, 0),
    }
    SETTINGS[f"avx2-xla-{_size}"] = {
        "env": AVX2_ONLY,
        "config": {"jit_compile": True, "image_size": _size},
        "threads": (0, 0),
    }
DEFAULT_SETTINGS = "default,xla"
CHILD_TIMEOUT = 1800  # seconds: one (round, setting) process


def child(setting: str, profile: str, variants: list[str], epochs: int, given: dict) -> None:
    """Run the variants under ``setting`` in this (fresh) process; one JSON line per variant."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    intra, inter = SETTINGS[setting]["threads"]
    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)
    from flowers.training import data, train
    from flowers.training.profiles import make_config
    from flowers.training.session import SessionCache

    overrides = {**given, **SETTINGS[setting]["config"]}
    configs = {name: make_config(profile, name, epochs=epochs, **overrides) for name in variants}
    splits, session = data.load(configs[variants[0]].data, configs[variants[0]].image_size), SessionCache()
    for name in variants:
        start = time.perf_counter()
        result = train.run(name, splits, configs[name], cache=session)
        seconds = result["epoch_seconds"]
        print(
            json.dumps(
                {
                    "variant": name,
                    "setting": setting,
                    "case_seconds": time.perf_counter() - start,
                    "steady": result["steady_images_per_second"],
                    "jit_compile": result["config"]["jit_compile"],
                    "overhead": seconds[0] - statistics.mean(seconds[1:]) if len(seconds) > 1 else None,
                    "test_accuracy": result["test_accuracy"],
                }
            ),
            flush=True,
        )


def run_child(setting: str, args) -> list[dict]:
    env = {**os.environ, **SETTINGS[setting]["env"]}
    command = [
        sys.executable,
        __file__,
        "--child",
        setting,
        "--profile",
        args.profile,
        "--variants",
        ",".join(args.variants),
        "--epochs",
        str(args.epochs),
        *(f"--{key}={value}" for key, value in given(args).items()),
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    if proc.returncode != 0:
        sys.exit(f"setting {setting}: the probe process failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def given(args) -> dict:
    """The profile settings overridden on the command line (--data, --weights)."""
    return {key: value for key, value in (("data", args.data), ("weights", args.weights)) if value}


def machine() -> str:
    """The CPU's name, core count and whether it has AVX-512 (what flowers.training.xla's rule reads)."""
    import cpuinfo

    from flowers.training import xla

    return (
        f"{cpuinfo.get_cpu_info().get('brand_raw', 'unknown CPU')}, {os.cpu_count()} cores, "
        f"AVX-512 {'yes' if 'avx512f' in xla.cpu_flags() else 'no'}"
    )


def spread(values: list[float], fmt: str) -> str:
    """median [min-max] of ``values``."""
    if not values:
        return "-"
    return f"{format(statistics.median(values), fmt)} [{format(min(values), fmt)}-{format(max(values), fmt)}]"


def table(rows: list[dict], settings: list[str], variants: list[str]) -> None:
    default = {(r["round"], r["variant"]): r["steady"] for r in rows if r["setting"] == "default"}
    print(
        f"{'variant':24s} {'setting':12s} {'steady images/s':>22s} {'x default':>18s} "
        f"{'overhead s':>18s} {'case s':>18s} {'accuracy':>18s}"
    )
    for variant in variants:
        for setting in settings:
            mine = [r for r in rows if r["variant"] == variant and r["setting"] == setting]
            ratios = [
                r["steady"] / default[r["round"], variant]
                for r in mine
                if r["steady"] and default.get((r["round"], variant))
            ]
            print(
                f"{variant:24s} {setting:12s} "
                f"{spread([r['steady'] for r in mine if r['steady']], '.1f'):>22s} "
                f"{spread(ratios, '.2f'):>18s} "
                f"{spread([r['overhead'] for r in mine if r['overhead'] is not None], '.1f'):>18s} "
                f"{spread([r['case_seconds'] for r in mine], '.1f'):>18s} "
                f"{spread([r['test_accuracy'] for r in mine], '.3f'):>18s}"
            )


def main() -> None:
    from flowers.registry import list_variants

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--variants", default=",".join(list_variants()), help="comma-separated (default: all)")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help=f"comma-separated (default: {DEFAULT_SETTINGS})")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--epochs", type=int, default=2, help="at least 2: epochs after the first give the steady figure"
    )
    parser.add_argument("--data", help="the data instead of the profile's (e.g. synthetic, or a folder)")
    parser.add_argument("--weights", help="the weights instead of the profile's (none: as many FLOPs as ImageNet's)")
    parser.add_argument("--list", action="store_true", help="list the candidate settings and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.variants = args.variants.split(",")
    if args.child:
        return child(args.child, args.profile, args.variants, args.epochs, given(args))
    if args.list:
        for name, setting in SETTINGS.items():
            print(f"{name:12s} {setting}")
        return
    settings = args.settings.split(",")
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown or args.epochs < 2 or args.rounds < 1:
        parser.error(f"unknown settings {unknown} (see --list)" if unknown else "--epochs >= 2 and --rounds >= 1")
    if "default" not in settings:
        settings.insert(0, "default")
    print(
        f"{machine()}; profile {args.profile}, {args.epochs} epochs, {args.rounds} rounds; "
        f"load average {os.getloadavg()[0]:.1f} at the start",
        flush=True,
    )
    rows, start = [], time.perf_counter()
    for round_ in range(args.rounds):
        for setting in settings if round_ % 2 == 0 else settings[::-1]:
            t = time.perf_counter()
            new = [{**row, "round": round_} for row in run_child(setting, args)]
            rows += new
            steady = ", ".join(f"{r['variant']} {r['steady'] or 0:.1f}" for r in new)
            print(
                f"  round {round_ + 1} {setting}: {time.perf_counter() - t:.0f} s, steady images/s {steady} "
                f"(load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    print(f"{time.perf_counter() - start:.0f} s in all; load average {os.getloadavg()[0]:.1f} at the end")
    table(rows, settings, args.variants)


if __name__ == "__main__":
    main()
