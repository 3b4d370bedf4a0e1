"""Variants from user code: the example in docs/variants.md end to end, and CI's check catching a broken fine-tune.

Each test runs ``pytest benchmarks`` in a subprocess (as a user would), then ``flowers report`` and
``flowers check`` on the results.
"""

import json
import os
import re
from pathlib import Path

import pytest

from tests import suite

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "benchmarks" / "baselines" / "smoke-cpu.json"
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", COLUMNS="400")

# A fine-tune broken by mistake: the same variant, but every layer of its head frozen, so nothing trains.
FROZEN_BY_MISTAKE = """
from dataclasses import replace

from keras import layers

from flowers import get_variant, register


def frozen_head(x, num_classes):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(1000, activation="relu", trainable=False)(x)
    return layers.Dense(num_classes, activation="softmax", name="predictions", trainable=False)(x)


register(replace(get_variant("vgg16_transfer"), head=frozen_head), override=True)
"""


def readme_example() -> str:
    """The documentation's ``my_variants.py`` code block (docs/variants.md), as written there."""
    text = (ROOT / "docs" / "variants.md").read_text()
    match = re.search(r"```python\n(# my_variants\.py.*?)```", text, re.S)
    assert match, "docs/variants.md lost its my_variants.py example"
    return match.group(1)


def bench(*args, cwd):
    proc = suite.run("--rootdir", ROOT, *args, cwd=cwd, env=ENV)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc


def flowers(*args, cwd):
    return suite.flowers(*args, cwd=cwd, env=ENV)


def cases(path: Path) -> dict:
    return {b["extra_info"]["variant"]: b["extra_info"] for b in json.loads(path.read_text())["benchmarks"]}


@pytest.mark.slow
def test_readme_example_changes_a_head_and_adds_a_variant(tmp_path):
    (tmp_path / "my_variants.py").write_text(readme_example())
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    bench("--profile", "smoke", "--epochs", "2", "-k", "basic_cnn", "--benchmark-json", before, cwd=tmp_path)
    proc = bench(
        "--profile",
        "smoke",
        "--epochs",
        "2",
        "--variants-from",
        "my_variants.py",
        "-k",
        "basic_cnn or tiny_cnn",
        "--benchmark-json",
        after,
        cwd=tmp_path,
    )
    assert "test_variant[tiny_cnn-seed=0]" in proc.stdout  # a case like the built-ins

    old, new = cases(before), cases(after)
    assert set(new) == {"basic_cnn", "tiny_cnn"}
    assert old["basic_cnn"]["config_hash"] == new["basic_cnn"]["config_hash"]  # same settings...
    assert old["basic_cnn"]["model_fingerprint"] != new["basic_cnn"]["model_fingerprint"]  # ...another model
    assert new["tiny_cnn"]["test_accuracy"] > 0.4  # it learned (chance is 0.2)

    report = flowers("report", before, after, "-o", tmp_path / "reports", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    md = (tmp_path / "reports" / "report.md").read_text()
    history = md[md.index("## History") : md.index("## Learning curves")]
    assert (
        "**basic_cnn**: layers + dropout after flatten; head + Dropout(0.5) after Flatten(); "
        "head Dense(512) → Dense(256); params "
    ) in history
    assert re.search(r"params [\d,]+ → [\d,]+", history)
    assert "**variants added**: tiny_cnn" in history
    assert re.search(r"^\| tiny_cnn #2 \| [\d.]+ \|", md, re.M)  # a row of the results table (run #2)
    assert re.search(r"^\| tiny_cnn \| \*missing\* \| [\d.]+ \[", md, re.M)  # the comparison: not in #1
    assert "Conv32-GAP-Dense, a variant of my own" in md  # its description

    check = flowers("check", before, after, "--metrics", "accuracy", cwd=tmp_path)
    assert check.returncode == 1, check.stderr  # a model changed: CHANGED rows, whatever the scores
    lines = check.stdout.splitlines()
    changed = [line for line in lines if line.startswith("basic_cnn") and " CHANGED " in line]
    assert any(line.endswith("head Dense(512) → Dense(256)") for line in changed), check.stdout
    assert any(line.startswith("tiny_cnn") and "  new  " in line for line in lines)
    assert "-k basic_cnn" in check.stdout  # the command that accepts it


@pytest.mark.slow
def test_ci_check_catches_a_fine_tune_frozen_by_mistake(tmp_path):
    """What CI runs (tox -e check: the smoke profile, then the accuracy gate against the committed
    baseline), for one variant whose trainable layers were all frozen by mistake."""
    (tmp_path / "frozen.py").write_text(FROZEN_BY_MISTAKE)
    out = tmp_path / "out.json"
    bench(
        "--profile",
        "smoke",
        "--variants-from",
        "frozen.py",
        "-k",
        "vgg16_transfer",
        "--benchmark-json",
        out,
        cwd=tmp_path,
    )
    assert cases(out)["vgg16_transfer"]["params_trainable"] == 0
    check = flowers("check", BASELINE, out, "--metrics", "accuracy", "--variants", "vgg16_transfer", cwd=tmp_path)
    assert check.returncode == 1, check.stdout
    rows = [line for line in check.stdout.splitlines() if line.startswith("vgg16_transfer")]
    assert any("test_accuracy" in row and "REGRESSED" in row for row in rows), check.stdout
    assert any(row.endswith("layers dense, predictions trainable → frozen") for row in rows), check.stdout
    assert any(row.endswith("trainable params 518,005 → 0") for row in rows), check.stdout
