"""How much a fresh install of each role takes on disk: a new virtual environment per role, pip
installing this checkout into it, then the size of the whole environment.

    python scripts/install_size.py            # report-only (the package) and training (.[cpu])
    python scripts/install_size.py "[gpu]"    # any extras, e.g. the GPU build

Prints one line per role: the extras, the environment's size in MB (what ``du`` counts: every file's
bytes), and whether TensorFlow is in it.  Needs the package index; takes minutes (TensorFlow's wheel).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLES = {"report only": "", "training (cpu)": "[cpu]"}


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def measure(extras: str) -> tuple[float, bool]:
    """(MB of a new environment with ``ROOT + extras`` installed, whether TensorFlow is there)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = Path(tmp) / "venv"
        venv.create(env, with_pip=True)
        python = env / "bin" / "python"
        subprocess.run([python, "-m", "pip", "install", "-q", f"{ROOT}{extras}"], check=True)
        has_tf = (
            subprocess.run(
                [python, "-c", "import importlib.util as u; print(bool(u.find_spec('tensorflow')))"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            == "True"
        )
        return size_mb(env), has_tf


def main(argv: list[str]) -> int:
    roles = {extras: extras for extras in argv} if argv else ROLES
    for role, extras in roles.items():
        mb, has_tf = measure(extras)
        print(f"{role:16} pip install .{extras:8} {mb:8.0f} MB  TensorFlow: {'yes' if has_tf else 'no'}", flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "extras", nargs="*", help='extras to install, e.g. "[gpu]" (default: none, then "[cpu]": both roles)'
    )
    raise SystemExit(main(parser.parse_args().extras))
