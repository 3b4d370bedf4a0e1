"""``flowers check --update-baseline`` (flowers/check/baseline.py): creates and replaces atomically,
refuses runs unfit to be a baseline unless --force, replaces a corrupt one.

Runs come from tests/factory.py, written to tmp_path; nothing here trains a model or imports TensorFlow.
"""

from __future__ import annotations

import json

import pytest

from tests.factory import VARIANTS, make_case, make_run, standard, write

pytestmark = pytest.mark.usefixtures("away_from_repo")  # no pyproject.toml upwards: the built-in defaults


def test_update_baseline_creates_and_replaces(tmp_path, check_cli):
    target = tmp_path / "benchmarks" / "baselines" / "smoke-cpu.json"
    first = write(tmp_path, "first.json", standard(seeds=10))
    code, out, _ = check_cli("--update-baseline", target, first)
    assert code == 0 and target.read_bytes() == first.read_bytes()
    assert "git add" in out
    second = write(tmp_path, "second.json", standard(seeds=10, acc_shift=-0.3))
    code, out, _ = check_cli("--update-baseline", target, second)
    assert code == 0, out
    assert target.read_bytes() == second.read_bytes()
    assert "REGRESSED" in out  # shows what the update changes, but replaces on purpose
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("problem", ["failed", "interrupted", "profile", "seeds", "unusable"])
def test_update_baseline_refuses_bad_runs(tmp_path, check_cli, problem):
    target = write(tmp_path, "smoke-cpu.json", standard(seeds=10))
    before = target.read_bytes()
    if problem == "failed":
        cur = make_run([*standard(seeds=10)["benchmarks"][:-1], make_case(VARIANTS[-1], 9, status="failed", error="x")])
    elif problem == "interrupted":
        cur = standard(seeds=10, complete=False)
    elif problem == "profile":
        cur = standard(seeds=10, profile="paper")
    elif problem == "seeds":
        cur = standard(seeds=3)
    else:
        cur = json.dumps(standard())[:50]
    cur_path = write(tmp_path, "cur.json", cur)
    code, _out, err = check_cli("--update-baseline", target, cur_path)
    assert code == 2 and len(err.splitlines()) == 1
    assert target.read_bytes() == before
    if problem != "unusable":
        assert "--force" in err
        code, _, _ = check_cli("--update-baseline", "--force", target, cur_path)
        assert code == 0 and target.read_bytes() == cur_path.read_bytes()


def test_update_baseline_replaces_a_corrupt_baseline(tmp_path, check_cli):
    target = write(tmp_path, "smoke-cpu.json", '{"benchmarks": [')
    cur = write(tmp_path, "cur.json", standard(seeds=10))
    code, out, _ = check_cli("--update-baseline", target, cur)
    assert code == 0 and "old baseline is unusable" in out
    assert json.loads(target.read_text()) == standard(seeds=10)
