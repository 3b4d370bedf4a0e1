"""``--distribute mirrored`` on two logical CPU devices gives the one-device losses (same global batch and seed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowers.errors import OptionError
from flowers.training import distribute
from flowers.training.profiles import make_config

SCRIPT = Path(__file__).with_name("distribute_case.py")
RELATIVE_TOLERANCE = 1e-3


def train_case(*args) -> dict:
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("variant, learns", [("basic_cnn", True), ("mobilenet_v2_transfer", False)])
def test_mirrored_on_two_devices_matches_one_device(variant, learns):
    """basic_cnn trains every layer; mobilenet_v2_transfer trains on the feature cache, built under the strategy."""
    one = train_case("--cpus", "1", "--distribute", "none", "--variant", variant)
    two = train_case("--cpus", "2", "--distribute", "mirrored", "--variant", variant)
    assert one["feature_cache"] == two["feature_cache"] == (variant != "basic_cnn")
    assert two["config"]["distribute"] == "mirrored" and two["config"]["replicas"] == 2
    assert "distribute" not in one["config"] and one["config_hash"] != two["config_hash"]
    for key in ("loss", "val_loss"):
        for a, b in zip(one["history"][key], two["history"][key], strict=True):
            assert abs(a - b) <= RELATIVE_TOLERANCE * abs(a), (key, one["history"][key], two["history"][key])
    if learns:  # random-weight MobileNetV2 at 32 px stays near chance on this set; basic_cnn does not
        assert two["test_accuracy"] >= 0.6  # chance is 0.2


def test_unknown_strategy_is_a_one_line_error():
    with pytest.raises(OptionError, match=r"--distribute ring: unknown strategy; choose from none, mirrored"):
        distribute.strategy("ring")
    assert make_config("smoke", distribute="mirrored").distribute == "mirrored"
    assert distribute.record("none", None) == {}
