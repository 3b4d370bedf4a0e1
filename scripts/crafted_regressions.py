"""Craft regressions from a real run, each of a kind a gate could let pass, and check that each fails.

    python scripts/crafted_regressions.py [BASELINE]     # default: benchmarks/baselines/smoke-cpu.json

The current run of every case is one seed of BASELINE itself (nothing changed: must pass), then
altered one way at a time (with :mod:`flowers.resultedit`): a score that is not a valid number, a
small variant 20 times slower (alone, and in a run merged from parts), two of three seeds
collapsing, each change of what a variant is.  Each must make ``flowers check BASELINE CURRENT``
exit 1 naming the variant (or 2 naming the file, for an unreadable newest run).  A change of what a
variant is (its preprocessing, a feature cache skipped, layers unfrozen, its head, learning rate,
epochs or weights) must fail with accuracy and loss unchanged and only ``--metrics accuracy`` asked
for, on a ``CHANGED`` row naming the fact.  Prints one line per case and exits 1 when any is not
caught.  tests/test_check_gates.py, tests/test_facts.py and tests/test_results_robust.py test the
same kinds on made-up runs; this shows them on real numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import sys
import tempfile
from pathlib import Path

from flowers import cli
from flowers.resultedit import edit, infos, keep_seeds, load, save, slower

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "benchmarks" / "baselines" / "smoke-cpu.json"
SMALL = ("basic_cnn", "vgg16_transfer", "mobilenet_v2_transfer")  # timed over a fraction of a second


def check(*argv: object) -> tuple[int, str, str]:
    """``flowers check ARGV``: its exit code, its last line and all it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["check", *map(str, argv)])
    text = (out.getvalue() + err.getvalue()).strip()
    return code, text.splitlines()[-1], text


def merged(run: dict) -> dict:
    """``run`` as ``flowers merge`` writes parts from runners of different names."""
    run = copy.deepcopy(run)
    for i, b in enumerate(run["benchmarks"]):
        b["extra_info"]["machine_info"] = dict(copy.deepcopy(run["machine_info"]), node=f"runner-{i % 3}")
    run["machine_info"]["node"] = "runner-0 + runner-1 + runner-2"
    return run


def changed_facts(run: dict) -> list[tuple[str, dict, str]]:
    """(what, current run, the words its CHANGED row must hold): each a change no score shows."""
    vgg16, resnet = infos(run, "vgg16_transfer")[0], infos(run, "resnet50v2_finetune")[0]
    work = vgg16["work"]
    through = work["train_images"] + work["validation_images"] + work["test_images"]
    frozen = "block5_conv3 Conv2D frozen"
    steps = vgg16["config"]["epochs"]
    return [
        (
            "vgg16_transfer given ResNet50V2's preprocessing",
            edit(run, "vgg16_transfer", identity=lambda i: {**i, "preprocessing": resnet["identity"]["preprocessing"]}),
            "preprocessing keras.applications.vgg16:preprocess_input → keras.applications.resnet_v2:preprocess_input",
        ),
        (
            "vgg16_transfer's feature cache skipped in code",
            edit(
                run,
                "vgg16_transfer",
                feature_cache=lambda c: {**c, "enabled": False},
                work=lambda w: {**w, "backbone_images": through},
            ),
            f"backbone images {work['backbone_images']:,} → {through:,} (feature cache not used)",
        ),
        (
            "vgg16_transfer's block5_conv3 unfrozen",
            edit(
                run,
                "vgg16_transfer",
                identity=lambda i: {
                    **i,
                    "layers": [e.replace(frozen, "block5_conv3 Conv2D trainable") for e in i["layers"]],
                },
            ),
            "layer block5_conv3 frozen → trainable",
        ),
        (
            "vgg16_transfer's head Dense(1000) made Dense(512)",
            edit(
                run,
                "vgg16_transfer",
                identity=lambda i: {**i, "head": [e.replace("Dense(1000)", "Dense(512)") for e in i["head"]]},
            ),
            "head Dense(1000) → Dense(512)",
        ),
        (
            "vgg16_transfer's learning rate ten times higher",
            edit(run, "vgg16_transfer", config=lambda c: {**c, "learning_rate": c["learning_rate"] * 10}),
            "config learning_rate",
        ),
        (
            "vgg16_transfer's epochs halved",
            edit(run, "vgg16_transfer", config=lambda c: {**c, "epochs": steps // 2}),
            f"config epochs {steps} → {steps // 2}",
        ),
        (
            "vgg16_transfer's weights not calibrated",
            edit(run, "vgg16_transfer", weights_identity={"source": "none"}),
            "weights random-calibrated",
        ),
    ]


def cases(run: dict) -> list[tuple[str, dict, tuple[str, ...], str, str]]:
    """(what, current run, check options, variant the verdict must name, words it must print)."""
    one = keep_seeds(run, {0})
    out = [("unchanged, one seed", one, (), "", "")]
    for key, bad in [
        ("test_accuracy", float("nan")),
        ("test_accuracy", float("inf")),
        ("test_accuracy", None),
        ("test_accuracy", "0.9"),
        ("test_accuracy", 1.5),
        ("test_loss", float("-inf")),
        ("test_loss", -0.1),
    ]:
        out.append(
            (f"ok case with {key} = {bad!r}", edit(one, "vgg16_transfer", **{key: bad}), (), "vgg16_transfer", "")
        )
    for variant in SMALL:
        out.append((f"{variant} 20x slower", slower(one, 20, variant), ("--metrics", "time"), variant, ""))
    out.append(
        (
            "merged parts of runners with other names, mobilenet 20x slower",
            merged(slower(one, 20, "mobilenet_v2_transfer")),
            ("--metrics", "time"),
            "mobilenet_v2_transfer",
            "",
        )
    )
    three = keep_seeds(run, {0, 1, 2})
    collapsed = copy.deepcopy(three)
    for b in collapsed["benchmarks"]:
        if b["extra_info"]["variant"] == "basic_cnn" and b["extra_info"]["seed"] != 1:
            b["extra_info"]["test_accuracy"] = 0.6
    out.append(("three seeds, two of basic_cnn's collapsing to 0.6", collapsed, (), "basic_cnn", ""))
    out += [
        (what, current, ("--metrics", "accuracy"), "vgg16_transfer", words)
        for what, current, words in changed_facts(one)
    ]
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", nargs="?", type=Path, default=BASELINE, help=f"a result file (default: {BASELINE})")
    baseline = parser.parse_args(argv).baseline
    run, failures = load(baseline), 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, current, options, variant, words in cases(run):
            code, last, text = check(baseline, save(Path(tmp) / "current.json", current), *options)
            caught = code == 0 if not variant else code == 1 and variant in last and words in text
            failures += not caught
            print(f"{'ok    ' if caught else 'MISSED'} exit {code}  {what}: {last}")
        folder = Path(tmp) / "runs"
        save(folder / "0001_old.json", keep_seeds(run, {0}))
        (folder / "0002_new.json").write_text(json.dumps(keep_seeds(run, {0}))[:5000])  # truncated
        code, last, _ = check(baseline, folder)
        caught = code == 2 and "0002_new.json" in last
        failures += not caught
        print(f"{'ok    ' if caught else 'MISSED'} exit {code}  newest file of a folder truncated: {last}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
