"""The tests' one factory of result files: dicts shaped like the result schema (flowers/schema.py),
built in code (:func:`make_case`, :func:`make_run`, :func:`standard`, :func:`seeded`), from the
report's hand-made fixtures (:func:`fixture`, :func:`fixture_run`) or from the committed smoke
baseline (:func:`baseline`, :func:`night`); :func:`save` and :func:`write` put one on disk.  A test
changes a run with :mod:`flowers.resultedit` (``edit``, ``slower``...), as the scripts do.
Nothing here trains a model or imports TensorFlow."""

from __future__ import annotations

import copy
from pathlib import Path

from flowers import resultedit

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "report"
BASELINE = ROOT / "benchmarks" / "baselines" / "smoke-cpu.json"
HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
VARIANTS = ("basic_cnn", "vgg16_transfer", "resnet50v2_finetune", "resnet50v2_finetune_aug")
ACC = {"basic_cnn": 0.8667, "vgg16_transfer": 0.80, "resnet50v2_finetune": 0.90, "resnet50v2_finetune_aug": 0.9333}


# ------------------------------------------------------------------------------------------
# Factory
# ------------------------------------------------------------------------------------------


def facts(n_test=30, epochs=2):
    """The facts a case records of what it is (flowers.facts): a small CNN trained ``epochs`` epochs on 240 images."""
    return {
        "identity": {
            "layers": ["conv2d Conv2D trainable", "flatten Flatten trainable", "predictions Dense trainable"],
            "head": ["Conv2D(16) activation=relu kernel_size=3", "Flatten()", "Dense(5) activation=softmax"],
            "preprocessing": {
                "function": "flowers.training.models:scale_to_unit_range",
                "mode": "tf",
                "channels": "RGB",
                "range": [-1.0, 1.0],
                "digest": "8bf888df1cfa94dd",
            },
        },
        "work": {
            "backbone_images": 0,
            "optimizer_steps": 8 * epochs,
            "train_images": 240 * epochs,
            "validation_images": 30 * epochs,
            "test_images": n_test,
            "step_flops": 620404985,
            "total_flops": 650000000 * epochs,
        },
        "execution": {"xla": False, "onednn": "on", "mixed_precision": "float32", "device": "cpu", "replicas": 1},
    }


def make_case(
    variant="basic_cnn",
    seed=0,
    acc=None,
    loss=0.41,
    ips=154.8,
    n_test=30,
    profile="smoke",
    status="ok",
    error=None,
    data_hash="ab12",
):
    acc = ACC.get(variant, 0.85) if acc is None else acc
    name = f"test_variant[{variant}-seed={seed}]"
    config = {
        "variant": variant,
        "data": "synthetic",
        "image_size": 64,
        "weights": "none",
        "optimizer": "adam",
        "learning_rate": 0.0001,
        "batch_size": 32,
        "epochs": 2,
        "augment": False,
        "seed": seed,
    }
    if status != "ok":
        info = {
            "variant": variant,
            "status": status,
            "error": error,
            "profile": profile,
            "seed": seed,
            "config": config,
        }
    else:
        info = {
            "variant": variant,
            "status": "ok",
            "error": None,
            "profile": profile,
            "seed": seed,
            "test_loss": loss,
            "test_accuracy": acc,
            "history": {
                "loss": [1.2, 0.6],
                "accuracy": [0.5, 0.8],
                "val_loss": [0.9, 0.5],
                "val_accuracy": [0.7, 0.87],
            },
            "epochs": 2,
            "train_seconds": 3.1,
            "epoch_seconds": [1.7, 1.4],
            "eval_seconds": 0.2,
            "train_images_per_second": ips,
            "params_total": 2133861,
            "params_trainable": 2133861,
            "config": config,
            "config_hash": f"{hash((variant, seed)) & 0xFFFFFFFF:08x}",
            **facts(n_test),
            "dataset": {
                "name": "synthetic",
                "source": "synthetic",
                "splits": {"train": 240, "validation": 30, "test": n_test},
                "class_names": ["circle", "cross", "ring", "square", "triangle"],
                "hash": data_hash,
                "version": "1",
                "image_size": 64,
                "skipped": {"count": 0, "examples": []},
            },
        }
    return {
        "group": None,
        "name": name,
        "fullname": f"benchmarks/test_variants.py::{name}",
        "params": {"variant": variant, "seed": seed},
        "stats": {"min": 3.1, "max": 3.1, "mean": 3.1, "stddev": 0, "rounds": 1, "median": 3.1},
        "extra_info": info,
    }


def make_run(
    benchmarks,
    node="runner-1",
    device="cpu: AMD EPYC 7763",
    profile="smoke",
    complete=True,
    unrecorded=(),
    when="2026-11-27T22:00:00",
):
    """A result file; ``unrecorded`` are cases that failed before recording (only in flowers.cases)."""
    run = {
        "machine_info": {
            "node": node,
            "processor": "x86_64",
            "machine": "x86_64",
            "python_version": "3.11.7",
            "cpu": {"brand_raw": "AMD EPYC 7763", "count": 2},
            "flowers": {
                "tensorflow": "2.16.1",
                "keras": "3.3.3",
                "device": device,
                "device_kind": "gpu" if "gpu" in device.lower() else "cpu",
            },
        },
        "commit_info": {"id": "0123456789abcdef", "dirty": False, "branch": "main"},
        "benchmarks": benchmarks,
        "datetime": when,
        "version": "4.0.0",
        "flowers": {"schema": 1, "profile": profile, "complete": complete, "cases": []},
    }
    run["flowers"]["cases"] = resultedit.recorded(run)["flowers"]["cases"] + list(unrecorded)
    return run


def standard(
    seeds=1, acc_shift=0.0, loss_factor=1.0, ips_factor=1.0, variants=VARIANTS, spread=0.01, n_test=30, **run_kw
):
    benches = []
    for v in variants:
        for s in range(seeds):
            jitter = (s - (seeds - 1) / 2) * spread if seeds > 1 else 0.0
            benches.append(
                make_case(
                    v,
                    seed=s,
                    acc=ACC[v] + jitter + acc_shift,
                    n_test=n_test,
                    loss=0.41 * loss_factor * (1 + jitter),
                    ips=154.8 * ips_factor * (1 + jitter),
                )
            )
    return make_run(benches, **run_kw)


def save(path: Path, data) -> Path:
    """``data`` (a run, or text as it is) written to ``path``, its folder made first."""
    if not isinstance(data, str):
        return resultedit.save(path, data, indent=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


def write(folder: Path, name: str, data) -> Path:
    return save(folder / name, data)


def rows(comparison, variant=None, metric=None) -> list:
    """The rows of a ``flowers check`` comparison, of one variant and/or metric."""
    return [
        r
        for r in comparison.rows
        if (variant is None or r.variant == variant) and (metric is None or r.metric == metric)
    ]


def compared(tmp_path: Path, base, cur, **kw):
    """``check.compare`` of two runs made here (written to tmp_path and read back)."""
    from flowers import check
    from flowers.results import load_run

    return check.compare(load_run(write(tmp_path, "base.json", base)), load_run(write(tmp_path, "cur.json", cur)), **kw)


def seeded(
    accs: dict[str, list[float]], losses: dict[str, list[float]] | None = None, n_test: int = 30, **run_kw
) -> dict:
    """A run with the given test accuracies (and losses) per variant, one case per value (seeds 0..)."""
    benches = [
        make_case(v, seed=s, acc=a, loss=(losses or {}).get(v, [0.41] * len(values))[s], n_test=n_test)
        for v, values in accs.items()
        for s, a in enumerate(values)
    ]
    return make_run(benches, **run_kw)


# ------------------------------------------------------------------------------------------
# From the report's fixtures (tests/fixtures/report/) and the committed smoke baseline
# ------------------------------------------------------------------------------------------


def fixture(name: str) -> dict:
    """A hand-made result file of tests/fixtures/report/, e.g. ``one_run.json``."""
    return resultedit.load(FIXTURES / name)


def fixture_run(
    dt: str,
    variants=(*VARIANTS, "mobilenet_v2_transfer"),
    epochs: int = 3,
    profile: str = "smoke",
    seed_base: int = 0,
    commit: str = "c0ffee",
) -> dict:
    """A run dated ``dt`` with one case per variant, each a copy of one_run.json's first case."""
    base = fixture("one_run.json")
    proto = base["benchmarks"][0]
    data = copy.deepcopy(base)
    data["datetime"] = dt
    data["commit_info"]["id"] = commit
    data["flowers"]["profile"] = profile
    data["benchmarks"], data["flowers"]["cases"] = [], []
    for i, v in enumerate(variants):
        b = copy.deepcopy(proto)
        acc = 0.5 + 0.4 * ((seed_base * 7 + i * 3) % 10) / 10
        b["name"] = f"test_variant[{v}]"
        info = b["extra_info"]
        info.update(
            variant=v,
            profile=profile,
            test_accuracy=acc,
            test_loss=1 - acc,
            epochs=epochs,
            train_seconds=2.0 + i + seed_base % 5,
        )
        info["history"] = {k: [0.3 + 0.5 * e / epochs for e in range(1, epochs + 1)] for k in HISTORY_KEYS}
        info["config"] = dict(info["config"], variant=v, epochs=epochs)
        data["benchmarks"].append(b)
        data["flowers"]["cases"].append({"name": b["name"], "variant": v, "seed": 0, "status": "ok", "error": None})
    return data


def baseline() -> dict:
    """The committed smoke baseline (benchmarks/baselines/smoke-cpu.json): ten seeds of a real run."""
    return resultedit.load(BASELINE)


def night(day: int = 1, commit: str | None = None, **accuracy: float) -> dict:
    """The baseline run dated 2026-01-DAY 02:17 UTC with commit ``commit`` (default: from the day);
    keyword arguments set a variant's test_accuracy."""
    run = resultedit.dated(baseline(), f"2026-01-{day:02d}T02:17:00+00:00", commit or f"{day:02d}" * 20)
    for variant, value in accuracy.items():
        run = resultedit.edit(run, variant, test_accuracy=value)
    return run
