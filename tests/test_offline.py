"""A session that cannot start offline is one usage error before any case runs: the default command
(paper profile: tf_flowers and ImageNet weights) and a session given its own data but ImageNet
weights, as a new user without network runs them.

Offline is made, whatever the machine's network: the download hosts are reached through a proxy
that refuses every connection (``flowers.training.downloads`` probes the environment's proxy), and TFDS and
Keras look in empty folders of their own.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import suite

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_data

OLD_BYTES = b'{"previous": "results", "kept": true}\n'


def refused_port() -> int:
    """A local port nothing listens on (a connection to it is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def offline(tmp_path) -> dict:
    proxy = f"http://127.0.0.1:{refused_port()}"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", COLUMNS="400", http_proxy=proxy, https_proxy=proxy)
    for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    env.update(TFDS_DATA_DIR=str(tmp_path / "tfds"), KERAS_HOME=str(tmp_path / "keras"), TMPDIR=str(tmp_path))
    return env


def run_offline(env, tmp_path, *args) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "out.json"
    out.write_bytes(OLD_BYTES)
    result = suite.run(*args, "--benchmark-json", out, env=env, timeout=300, stderr=subprocess.STDOUT)
    return result, out


def assert_one_usage_error(result: subprocess.CompletedProcess, out: Path) -> str:
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout[-3000:]
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, result.stdout[-3000:]
    assert not re.search(r"passed|failed|PASSED|FAILED|[Ww]arning|dataset_info", result.stdout), result.stdout[-3000:]
    assert out.read_bytes() == OLD_BYTES  # nothing ran, nothing was replaced
    return errors[0]


def test_the_default_command_offline_is_one_usage_error_and_keeps_the_old_results(offline, tmp_path):
    start = time.monotonic()
    result, out = run_offline(offline, tmp_path)
    print(f"offline default command: {time.monotonic() - start:.1f} s from start to exit")  # each case failed once
    error = assert_one_usage_error(result, out)
    assert error.startswith("ERROR: tf_flowers could not be downloaded (127.0.0.1:"), error
    assert "--profile smoke" in error and "--data PATH" in error
    assert not (tmp_path / "tfds").exists()  # no folder made for a data set that cannot come


def test_own_data_without_weights_names_the_weights_options_not_data_again(offline, tmp_path):
    data = make_data.write_folder(tmp_path / "photos", "classes", n_per_class=4, image_size=32)
    result, out = run_offline(offline, tmp_path, "--data", data, "-k", "basic_cnn or vgg16")
    error = assert_one_usage_error(result, out)
    assert error.startswith("ERROR: ImageNet weights for vgg16 could not be downloaded (127.0.0.1:"), error
    assert error.endswith(
        "offline, use --weights random-calibrated or --weights none (random backbone weights), "
        "or --weights DIR holding vgg16_imagenet_notop.weights.h5"
    )
    assert "--data" not in error


def test_collect_only_lists_the_cases_offline(offline, tmp_path):
    """Listing the cases needs no download: nothing is refused."""
    result = suite.run("--co", "-q", env=offline, timeout=300)
    assert result.returncode == 0 and "5/7 tests collected" in result.stdout, result.stdout[-3000:]
