"""``flowers check``'s comparison (flowers/check/comparison.py, table.py): missing, failed, new and
skipped variants, --metrics and --variants, changed settings and interrupted runs named in the rows.

Runs come from tests/factory.py, written to tmp_path; nothing here trains a model or imports TensorFlow.
"""

from __future__ import annotations

import copy

import pytest

from flowers import check
from flowers.results import load_run
from tests.factory import VARIANTS, compared, make_case, make_run, rows, standard, write

pytestmark = pytest.mark.usefixtures("away_from_repo")  # no pyproject.toml upwards: the built-in defaults


def test_variant_removed_is_missing(tmp_path, check_cli):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(variants=VARIANTS[:-1]))
    code, out, _ = check_cli(base, cur)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur))
    gone = rows(comp, variant=VARIANTS[-1])
    assert gone and {r.verdict for r in gone} == {"missing"}
    assert "absent from the current run" in gone[0].how
    assert out.rstrip().splitlines()[-1].endswith(VARIANTS[-1])


@pytest.mark.parametrize("recorded", [True, False], ids=["failed-in-benchmarks", "failed-before-recording"])
def test_failed_variant_is_missing(tmp_path, check_cli, recorded):
    benches = standard(variants=VARIANTS[:-1])["benchmarks"]
    failed = make_case(VARIANTS[-1], status="failed", error="loss became NaN at epoch 2 (TerminateOnNaN)")
    if recorded:
        cur = make_run([*benches, failed])
    else:  # pytest-benchmark dropped the failed case: only the run-level record names it
        cur = make_run(
            benches,
            unrecorded=[
                {
                    "name": failed["name"],
                    "variant": VARIANTS[-1],
                    "seed": 0,
                    "status": "failed",
                    "error": "loss became NaN at epoch 2",
                }
            ],
        )
    base = write(tmp_path, "base.json", standard())
    cur_path = write(tmp_path, "cur.json", cur)
    code, out, _ = check_cli(base, cur_path)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur_path))
    bad = rows(comp, variant=VARIANTS[-1])
    assert {r.verdict for r in bad} == {"missing"}
    assert "failed: seed=0: loss became NaN at epoch 2" in bad[0].how
    assert "loss became NaN" in out


def test_one_failed_seed_of_three_is_missing(tmp_path, check_cli):
    base = write(tmp_path, "base.json", standard(seeds=3))
    cur = standard(seeds=3)
    cur["benchmarks"][1] = make_case(VARIANTS[0], seed=1, status="failed", error="out of memory; try --batch-size 16")
    cur["flowers"]["cases"][1]["status"] = "failed"
    cur_path = write(tmp_path, "cur.json", cur)
    code, _out, _ = check_cli(base, cur_path)
    assert code == 1
    comp = check.compare(load_run(base), load_run(cur_path))
    (cases_row,) = rows(comp, variant=VARIANTS[0], metric="cases")
    assert cases_row.verdict == "missing" and "1 of 3 not ok: seed=1: out of memory" in cases_row.how
    # the two good seeds are still compared
    assert rows(comp, variant=VARIANTS[0], metric="test_accuracy")[0].verdict == "ok"


def test_skipped_variant_is_missing_with_its_status(tmp_path):
    cur = make_run(
        standard(variants=VARIANTS[:1])["benchmarks"],
        unrecorded=[
            {
                "name": "test_variant[vgg16_transfer-seed=0]",
                "variant": "vgg16_transfer",
                "seed": 0,
                "status": "skipped",
                "error": "no VGG16 weights in --weights-dir",
            }
        ],
    )
    comp = compared(tmp_path, standard(variants=VARIANTS[:2]), cur)
    bad = rows(comp, variant="vgg16_transfer")
    assert {r.verdict for r in bad} == {"missing"} and comp.regressed
    assert bad[0].how == "not ok: seed=0: skipped: no VGG16 weights in --weights-dir"


def test_new_variant_is_new_and_passes(tmp_path, check_cli):
    base = write(tmp_path, "base.json", standard(variants=VARIANTS[:2]))
    cur = write(tmp_path, "cur.json", standard())
    code, out, _ = check_cli(base, cur)
    assert code == 0, out
    comp = check.compare(load_run(base), load_run(cur))
    assert {r.verdict for r in rows(comp, variant=VARIANTS[3])} == {"new"}
    assert "2 new" in out


def test_a_baseline_variant_without_a_usable_case_is_unusable_input(tmp_path, check_cli):
    """A baseline that cannot gate a variant never reads as ``new`` (which passes): exit 2 naming it."""
    cur = write(tmp_path, "cur.json", make_run([make_case(acc=0.0)]))
    invalid = make_case()
    invalid["extra_info"]["test_accuracy"] = None
    for case in (make_case(status="failed", error="boom"), invalid):
        base = write(tmp_path, "base.json", make_run([case, make_case("vgg16_transfer")]))
        code, out, err = check_cli(base, cur, "--metrics", "accuracy,loss")
        assert (code, out) == (2, "") and err.count("\n") == 1, err
        assert err.startswith(f"flowers check: error: {base}: variant 'basic_cnn' has no usable case to gate against")
        assert err.rstrip().endswith(f"remake the baseline: flowers check --update-baseline {base} RUN")
    assert check_cli(base, cur, "--metrics", "accuracy", "--variants", "vgg16_transfer")[0] == 1  # vgg16 missing


def test_a_variant_the_baseline_lacks_is_new(tmp_path):
    base, cur = make_run([make_case("vgg16_transfer")]), make_run([make_case("vgg16_transfer"), make_case()])
    comp = compared(tmp_path, base, cur, metrics=["accuracy"])
    assert [(r.variant, r.verdict, r.how) for r in comp.rows if r.verdict != "ok"] == [
        ("basic_cnn", "new", "not in baseline")
    ]


def test_metrics_option_limits_the_gates(tmp_path, check_cli):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(ips_factor=0.5))
    code, out, _ = check_cli(base, cur, "--metrics", "accuracy,loss")
    assert code == 0, out
    assert "train_images_per_second  " not in out
    assert "not checked: train_images_per_second" in out
    code, _, err = check_cli(base, cur, "--metrics", "accuracy,speed")
    assert code == 2 and "unknown metric 'speed'" in err


def test_variants_option(tmp_path, check_cli):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(variants=VARIANTS[:1]))
    assert check_cli(base, cur)[0] == 1
    code, out, _ = check_cli(base, cur, "--variants", VARIANTS[0])
    assert code == 0 and VARIANTS[1] not in out
    code, _, err = check_cli(base, cur, "--variants", "nope")
    assert code == 2 and "'nope' is in neither run" in err


def test_accuracy_lowered_by_0_3_names_every_variant(tmp_path, check_cli):
    """The acceptance check: a copy of a run with every test_accuracy lowered by 0.3 fails, naming all."""
    run = standard(seeds=10)
    lowered = copy.deepcopy(run)
    for b in lowered["benchmarks"]:
        b["extra_info"]["test_accuracy"] -= 0.3
    code, out, _ = check_cli(write(tmp_path, "out.json", run), write(tmp_path, "low.json", lowered))
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert all(v in last for v in VARIANTS)
    assert out.count("REGRESSED") == len(VARIANTS)
    # the same drop in one seed: against the ten-seed baseline too
    one = copy.deepcopy(lowered)
    one["benchmarks"] = [b for b in one["benchmarks"] if b["extra_info"]["seed"] == 0]
    code, out, _ = check_cli(write(tmp_path, "out.json", run), write(tmp_path, "one.json", one))
    assert code == 1 and out.count("REGRESSED") == len(VARIANTS), out


def test_config_and_data_changes_are_changed_rows_that_fail(tmp_path, check_cli):
    cur = standard(variants=VARIANTS[:1])
    cur["benchmarks"][0]["extra_info"]["config"]["epochs"] = 5
    cur["benchmarks"][0]["extra_info"]["dataset"]["hash"] = "ffff"
    comp = compared(tmp_path, standard(variants=VARIANTS[:1]), cur, metrics=["accuracy"])
    changed = [(r.metric, r.verdict, r.how) for r in comp.rows if r.verdict == "CHANGED"]
    assert changed == [
        ("config epochs", "CHANGED", "config epochs 2 → 5"),
        (
            "data",
            "CHANGED",
            "data synthetic ab12 (240/30/30 images at 64 px) → synthetic ffff (240/30/30 images at 64 px)",
        ),
    ]
    assert comp.regressed and rows(comp, metric="test_accuracy")[0].verdict == "ok"  # the scores did not move


def test_interrupted_current_run_is_noted(tmp_path, check_cli):
    base = write(tmp_path, "base.json", standard())
    cur = write(tmp_path, "cur.json", standard(complete=False))
    code, out, _ = check_cli(base, cur)
    assert code == 0
    assert "interrupted run" in out


def test_folder_means_its_newest_run(tmp_path, check_cli):
    store = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    store.mkdir(parents=True)
    write(store, "0001_old.json", standard(acc_shift=-0.3, when="2026-01-01T00:00:00"))
    write(store, "0002_new.json", standard(when="2026-02-01T00:00:00"))
    code, out, _ = check_cli(write(tmp_path, "base.json", standard()), tmp_path / ".benchmarks")
    assert code == 0, out
    assert "0002_new.json" in out


def test_render_is_aligned(tmp_path):
    comp = compared(tmp_path, standard(), standard(ips_factor=0.5))
    text = check.render(comp)
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("variant"))
    col = lines[i].index("verdict")
    table = [line for line in lines[i + 1 :] if line and not line.startswith(("PASS", "FAIL"))]
    assert len(table) == len(comp.rows)
    assert all(line[col:].split()[0] in ("ok", "REGRESSED") for line in table)
