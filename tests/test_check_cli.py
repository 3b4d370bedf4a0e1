"""``flowers check`` on the command line (flowers/check/cli.py): unusable input exits 2 with one line,
the installed command, and no TensorFlow.

Runs come from tests/factory.py, written to tmp_path; nothing here trains a model or imports TensorFlow.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from tests import suite
from tests.factory import ROOT, make_run, standard, write

pytestmark = pytest.mark.usefixtures("away_from_repo")  # no pyproject.toml upwards: the built-in defaults


GOOD = standard()
NO_EXTRA = copy.deepcopy(GOOD)
for _b in NO_EXTRA["benchmarks"]:
    del _b["extra_info"]
NO_EXTRA.pop("flowers")
EMPTY_EXTRA = copy.deepcopy(NO_EXTRA)
for _b in EMPTY_EXTRA["benchmarks"]:
    _b["extra_info"] = {}
PARTIAL_EXTRA = copy.deepcopy(GOOD)
del PARTIAL_EXTRA["benchmarks"][0]["extra_info"]["config_hash"]  # a missing score reads as an invalid case

BAD_INPUTS = {
    "missing": None,
    "empty": "",
    "whitespace": "  \n",
    "truncated": json.dumps(GOOD)[:300],
    "not-json": "<html>502 Bad Gateway</html>",
    "foreign-json": json.dumps({"name": "some other tool", "results": [1, 2, 3]}),
    "json-list": json.dumps([1, 2, 3]),
    "no-extra-info": json.dumps(NO_EXTRA),
    "empty-extra-info": json.dumps(EMPTY_EXTRA),
    "partial-extra-info": json.dumps(PARTIAL_EXTRA),
    "no-cases": json.dumps(make_run([])),
}


@pytest.mark.parametrize("side", ["baseline", "current"])
@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_unusable_input_exits_2_with_one_line(tmp_path, check_cli, kind, side):
    good = write(tmp_path, "good.json", GOOD)
    bad = tmp_path / f"{kind}.json"
    if BAD_INPUTS[kind] is not None:
        bad.write_text(BAD_INPUTS[kind])
    args = (bad, good) if side == "baseline" else (good, bad)
    code, out, err = check_cli(*args)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flowers check: error: ") and str(bad) in lines[0]


def test_missing_baseline_says_how_to_make_one(tmp_path, check_cli):
    code, _, err = check_cli(tmp_path / "benchmarks/baselines/smoke-cpu.json", write(tmp_path, "out.json", GOOD))
    assert code == 2 and "--update-baseline" in err


def test_profiles_must_match(tmp_path, check_cli):
    code, out, err = check_cli(
        write(tmp_path, "a.json", standard(profile="paper")), write(tmp_path, "b.json", standard())
    )
    assert code == 2 and out == "" and "profile 'paper'" in err and len(err.splitlines()) == 1


def test_installed_command_line(tmp_path):
    """``python -m flowers check`` end to end, as CI calls it."""
    good = write(tmp_path, "good.json", GOOD)
    bad = write(tmp_path, "bad.json", json.dumps(GOOD)[:100])
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}

    def check(*args):
        return suite.flowers("check", *args, cwd=tmp_path, env=env, timeout=60)

    ok = check(good, good)
    assert ok.returncode == 0, ok.stderr
    assert "PASS" in ok.stdout
    broken = check(good, bad)
    assert broken.returncode == 2 and broken.stdout == ""
    assert len(broken.stderr.splitlines()) == 1 and "not valid JSON" in broken.stderr


def test_check_never_imports_tensorflow():
    code = "import sys, flowers.check, flowers.results; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0
