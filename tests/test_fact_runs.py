"""Real smoke runs of edited source against the committed baseline: each change no score shows fails
``flowers check`` naming the fact, unchanged code passes, and ``--update-baseline`` accepts a change
for its variant alone.

Each test copies the package and the benchmarks into tmp_path, edits the copy as a pull request
would (the code that builds the models, the registry, the training loop), and runs ``pytest
benchmarks`` there in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import suite
from tests.factory import BASELINE, ROOT

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", COLUMNS="400")
PREPROCESS = (
    "    return load(get_backbone(variant.backbone).preprocess)(x) if variant.backbone else scale_to_unit_range(x)"
)
CACHE = "if not (case.config.feature_cache and cut):"

pytestmark = pytest.mark.slow


def source(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the package and the benchmarks with ``edits`` ({file: (old, new)}) made."""
    copy = tmp_path / "src"
    for part in ("flowers", "benchmarks"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    for name, (old, new) in edits.items():
        path = copy / name
        text = path.read_text()
        assert text.count(old) == 1, f"{name} no longer holds {old!r}"
        path.write_text(text.replace(old, new))
    return copy


def run_in(copy: Path, *args) -> str:
    """``pytest benchmarks ARGS`` in ``copy``, with its own flowers package; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(copy / "benchmarks"), "-p", "no:cacheprovider", *map(str, args)],
        cwd=copy,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


def check(current: Path, *args) -> tuple[int, str]:
    done = suite.flowers("check", BASELINE, current, *args, cwd=current.parent, env=ENV)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, done.stdout


def test_unchanged_code_passes(tmp_path):
    out = tmp_path / "out.json"
    run_in(source(tmp_path, {}), "--profile", "smoke", "-k", "vgg16_transfer", "--benchmark-json", out)
    code, text = check(out, "--variants", "vgg16_transfer")
    assert code == 0 and "CHANGED" not in text, text


def test_a_swapped_preprocessing_and_a_skipped_feature_cache_fail_naming_the_facts(tmp_path):
    """VGG16 given ResNet50V2's preprocessing in the code that builds it, MobileNetV2 given VGG16's
    in the registry, and the feature cache skipped in the training loop while the config asks for it."""
    swap = (
        '    if variant.name == "vgg16_transfer":\n'
        '        return load("keras.applications.resnet_v2:preprocess_input")(x)\n' + PREPROCESS
    )
    mobilenet = '            "keras.applications.mobilenet_v2:preprocess_input",  # [-1, 1]'
    copy = source(
        tmp_path,
        {
            "flowers/training/models.py": (PREPROCESS, swap),
            "flowers/registry.py": (mobilenet, '            "keras.applications.vgg16:preprocess_input",'),
            "flowers/training/train.py": (CACHE, CACHE.replace("if ", "if True or ", 1)),
        },
    )
    out = tmp_path / "out.json"
    run_in(copy, "--profile", "smoke", "-k", "vgg16 or mobilenet", "--benchmark-json", out)
    code, text = check(out, "--variants", "vgg16_transfer,mobilenet_v2_transfer", "--metrics", "accuracy,loss")
    assert code == 1, text
    for words in (
        "preprocessing keras.applications.vgg16:preprocess_input → keras.applications.resnet_v2:preprocess_input",
        "preprocessing keras.applications.mobilenet_v2:preprocess_input → keras.applications.vgg16:preprocess_input",
        "backbone images 500 → 3,650 (feature cache not used)",
    ):
        assert words in text, text
    assert json.loads(out.read_text())["benchmarks"][0]["extra_info"]["config"]["feature_cache"] is True
    assert "--update-baseline" in text and "-k 'vgg16_transfer or mobilenet_v2_transfer'" in text


def test_update_baseline_accepts_a_head_change_for_its_variant_alone(tmp_path):
    base = json.loads(BASELINE.read_text())
    keep = [b for b in base["benchmarks"] if b["extra_info"]["variant"] != "basic_cnn" or b["extra_info"]["seed"] < 2]
    base["benchmarks"] = keep  # basic_cnn's two first seeds, to keep the test short
    base["flowers"]["cases"] = [c for c in base["flowers"]["cases"] if c["variant"] != "basic_cnn" or c["seed"] < 2]
    target = tmp_path / "smoke-cpu.json"
    target.write_text(json.dumps(base, indent=4))
    others = [b for b in base["benchmarks"] if b["extra_info"]["variant"] != "basic_cnn"]
    copy = source(
        tmp_path,
        {
            "flowers/training/models.py": (
                "    x = layers.Dense(512, activation=",
                "    x = layers.Dense(256, activation=",
            )
        },
    )
    text = run_in(copy, "--profile", "smoke", "--update-baseline", target, "-k", "basic_cnn")
    assert f"flowers: updated {target}: basic_cnn rewritten from this run, 4 other variant(s) as they were" in text
    assert "  basic_cnn: head Dense(512) → Dense(256); params " in text
    after = json.loads(target.read_text())
    cases = [b for b in after["benchmarks"] if b["extra_info"]["variant"] == "basic_cnn"]
    assert [c["extra_info"]["seed"] for c in cases] == [0, 1]
    assert "Dense(256) activation=relu" in cases[0]["extra_info"]["identity"]["head"]
    assert [b for b in after["benchmarks"] if b["extra_info"]["variant"] != "basic_cnn"] == others
    assert after["flowers"]["spliced"][0]["variants"] == ["basic_cnn"]
