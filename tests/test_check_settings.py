"""``flowers check``'s settings (flowers/check/settings.py): [tool.flowers.check] found upwards, per
variant overrides, --config, and a bad table exiting 2 in one line.

Runs come from tests/factory.py, written to tmp_path; nothing here trains a model or imports TensorFlow.
"""

from __future__ import annotations

import pytest
import tomllib

from flowers import check
from flowers.results import load_run
from tests.factory import ROOT, rows, standard, write

pytestmark = pytest.mark.usefixtures("away_from_repo")  # no pyproject.toml upwards: the built-in defaults


PYPROJECT = """
[project]
name = "x"

[tool.flowers.check]
accuracy_tolerance = 0.02

[tool.flowers.check.variants.resnet50v2_finetune]
accuracy_tolerance = 0.5
"""


def test_per_variant_threshold_from_pyproject_found_upwards(tmp_path, check_cli, monkeypatch):
    write(tmp_path, "pyproject.toml", PYPROJECT)
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    v = ("basic_cnn", "resnet50v2_finetune")
    base = write(tmp_path, "base.json", standard(seeds=10, variants=v, n_test=300))
    cur = write(tmp_path, "cur.json", standard(seeds=10, variants=v, acc_shift=-0.1, n_test=300))
    code, _out, _ = check_cli(base, cur)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur), check.load_config())
    assert rows(comp, "basic_cnn", "test_accuracy")[0].verdict == "REGRESSED"
    assert rows(comp, "resnet50v2_finetune", "test_accuracy")[0].verdict == "ok"
    assert "drop>0.5" in rows(comp, "resnet50v2_finetune", "test_accuracy")[0].threshold
    # and --config points elsewhere explicitly
    write(tmp_path, "lax.toml", "[tool.flowers.check]\naccuracy_tolerance = 0.5\n")
    assert check_cli(base, cur, "--config", tmp_path / "lax.toml")[0] == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("[tool.flowers.check]\naccuracy_tolerence = 0.1\n", "unknown key 'accuracy_tolerence'"),
        ("[tool.flowers.check]\nfalse_alarm = 1.5\n", "out of range"),
        ("[tool.flowers.check]\nloss_tolerance = 'ten'\n", "must be a number"),
        ("[tool.flowers.check.variants.basic_cnn]\nfalse_alarm = true\n", "must be a number"),
        ("[tool.flowers.check]\nalpha = 0.05\n", "unknown key 'alpha'"),
        ("[tool.flowers.check\n", "cannot be read as TOML"),
    ],
)
def test_bad_config_exits_2(tmp_path, check_cli, text, message):
    write(tmp_path, "pyproject.toml", text)
    run = write(tmp_path, "a.json", standard())
    code, out, err = check_cli(run, run)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err and "pyproject.toml" in err


def test_repo_pyproject_documents_the_defaults():
    """[tool.flowers.check] in the project's pyproject.toml parses and states the built-in defaults."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table = data["tool"]["flowers"]["check"]
    config = check.parse_config(table)
    assert config.defaults == check.Thresholds() and config.metrics == ("accuracy", "loss")
    assert set(check.THRESHOLD_KEYS) <= set(table) and "metrics" in table


def test_no_pyproject_means_the_built_in_defaults(tmp_path):
    config = check.load_config()  # in tmp_path: no pyproject.toml upwards
    assert config.source == "built-in defaults" and config.defaults == check.Thresholds() and not config.variants
