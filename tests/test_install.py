"""What a new user installs: the dependency set resolves on the platforms users work on, a built
wheel (not an editable install) carries everything ``flowers report`` needs, and the package alone
(no extra: a report-only install) renders a report without TensorFlow, Keras or pytest.

Both ask the package index (PyPI) through uv; without one they are skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "report" / "one_run.json"
PLATFORMS = {  # uv's --python-platform: the TensorFlow build the `cpu` extra must pick there
    "x86_64-unknown-linux-gnu": "tensorflow-cpu",
    "aarch64-apple-darwin": "tensorflow",
    "x86_64-pc-windows-msvc": "tensorflow",
}
OFFLINE = ("Failed to fetch", "error sending request", "dns error", "Could not connect")


def uv(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    find_uv_bin = pytest.importorskip("uv").find_uv_bin
    done = subprocess.run([find_uv_bin(), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode and any(text in done.stderr for text in OFFLINE):
        pytest.skip(f"no package index reachable: {done.stderr.strip().splitlines()[-1]}")
    return done


def pins(compiled: str) -> dict[str, str]:
    return dict(line.split("==", 1) for line in compiled.splitlines() if "==" in line and not line.startswith("#"))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_readme_install_resolves_on(platform):
    """``pip install -e '.[cpu,test]'`` (the README's command) has a solution there, wheels included."""
    done = uv(
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "cpu",
        "--extra",
        "test",
        "--quiet",
        "--no-header",
        "--python-platform",
        platform,
        "--python-version",
        "3.11",
    )
    assert done.returncode == 0, done.stderr
    resolved = pins(done.stdout)
    wanted, other = PLATFORMS[platform], {"tensorflow", "tensorflow-cpu"} - {PLATFORMS[platform]}
    assert wanted in resolved and not other & set(resolved), sorted(resolved)
    assert {"keras", "pytest", "pytest-benchmark", "tensorflow-datasets"} <= set(resolved)


def test_gpu_extra_resolves_on_linux():
    done = uv(
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "gpu",
        "--extra",
        "test",
        "--quiet",
        "--no-header",
        "--python-platform",
        "x86_64-unknown-linux-gnu",
        "--python-version",
        "3.11",
    )
    assert done.returncode == 0, done.stderr
    resolved = pins(done.stdout)
    assert "tensorflow" in resolved and any(name.startswith("nvidia-") for name in resolved), sorted(resolved)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the package's sources (the checkout itself stays untouched)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "flowers", src / "flowers", ignore=shutil.ignore_patterns("__pycache__"))
    done = uv("build", "--wheel", "--out-dir", src / "dist", src, cwd=src)
    assert done.returncode == 0, done.stderr
    (built,) = (src / "dist").glob("flowers_bench-*.whl")
    return built


def test_wheel_holds_the_report_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {"flowers/templates/report.md.j2", "flowers/templates/report.html.j2"} <= set(names), names


def test_report_runs_from_the_installed_wheel_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, wheel],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = dict(os.environ, PYTHONPATH=str(site))  # the wheel's flowers comes before the checkout's
    code = "import flowers, sys; from flowers.cli import main; print(flowers.__file__); sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "report", FIXTURE, "-o", "r", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(site))
    assert "<table" in (tmp_path / "r" / "report.html").read_text()


def test_a_report_only_install_renders_a_report_without_tensorflow(wheel, tmp_path):
    """The package without extras, in an environment of its own: what the nightly's merge and publish
    jobs and ``tox -e report`` install (its size: scripts/install_size.py)."""
    env = tmp_path / "venv"
    assert uv("venv", "--quiet", "--python", sys.executable, env).returncode == 0
    python = env / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    done = uv("pip", "install", "--quiet", "--python", python, wheel)
    assert done.returncode == 0, done.stderr
    code = (
        "import importlib.util, sys; from flowers.cli import main; "
        "heavy = [m for m in ('tensorflow', 'keras', 'pytest', 'tensorflow_datasets') if importlib.util.find_spec(m)]; "
        "sys.exit(f'installed: {heavy}' if heavy else main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [python, "-c", code, "report", FIXTURE, "-o", "r", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "<table" in (tmp_path / "r" / "report.html").read_text()
