"""Accepting a change on purpose: ``pytest benchmarks --update-baseline FILE -k VARIANTS``
(flowers/training/pytest_plugin/update_baseline.py) and the splice it writes (flowers.merge.splice).

The options that would make other cases are refused when pytest starts (one line, exit 4, nothing
run); the splice replaces one variant's cases where they stood, leaving every other byte of the
baseline's cases as it was.  The end-to-end update (real training) is in tests/test_fact_runs.py.
"""

from __future__ import annotations

import copy
import json
import os

import pytest

from flowers import merge, schema
from flowers.results import load_run, parse_run
from tests import suite
from tests.factory import VARIANTS, save, standard

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


@pytest.fixture
def baseline(tmp_path):
    return save(tmp_path / "smoke-cpu.json", standard(seeds=3))


@pytest.mark.parametrize(
    "args, says",
    [
        (["--seeds", "10"], "reruns with the baseline's seeds and the profile's settings; drop --seeds"),
        (
            ["--epochs", "1", "--no-feature-cache"],
            "reruns with the baseline's seeds and the profile's settings; drop --epochs, --no-feature-cache",
        ),
        (["--seed", "0"], "reruns with the baseline's seeds and the profile's settings; drop --seed"),
        (["--shard", "1/2"], "reruns with the baseline's seeds and the profile's settings; drop --shard"),
    ],
)
def test_options_that_make_other_cases_are_refused_at_start(tmp_path, baseline, args, says):
    before = baseline.read_bytes()
    done = suite.run("--profile", "smoke", "--update-baseline", baseline, *args, cwd=tmp_path, env=ENV, timeout=300)
    assert done.returncode == 4, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line == f"ERROR: --update-baseline {baseline}: {says}"
    assert baseline.read_bytes() == before


def test_a_baseline_of_another_profile_or_none_is_refused(tmp_path, baseline):
    done = suite.run("--update-baseline", baseline, cwd=tmp_path, env=ENV, timeout=300)
    assert done.returncode == 4 and "the baseline is profile 'smoke'; add --profile smoke" in done.stderr
    done = suite.run("--profile", "smoke", "--update-baseline", tmp_path / "none.json", cwd=tmp_path, env=ENV)
    assert done.returncode == 4 and f"--update-baseline {tmp_path / 'none.json'}: no such file" in done.stderr


def test_cases_run_with_the_baselines_seeds_and_whole_variants_only(tmp_path, baseline):
    base = standard(seeds=3)
    for bench in base["benchmarks"]:  # seeds 5, 6, 7
        bench["extra_info"]["seed"] += 5
    save(baseline, base)
    listed = suite.run(
        "--profile", "smoke", "--update-baseline", baseline, "-k", "basic_cnn", "--collect-only", "-q",
        cwd=tmp_path, env=ENV, timeout=300,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    ids = [line.split("::")[1] for line in listed.stdout.splitlines() if "::" in line]
    assert ids == [f"test_variant[basic_cnn-seed={s}]" for s in (5, 6, 7)]
    partial = suite.run(
        "--profile", "smoke", "--update-baseline", baseline, "-k", "basic_cnn and not 6", "--collect-only", "-q",
        cwd=tmp_path, env=ENV, timeout=300,
    )  # fmt: skip
    assert partial.returncode == 4
    assert "select whole variants, not some of their seeds: basic_cnn (2 of 3)" in partial.stderr


def test_splice_replaces_one_variants_cases_in_place_and_keeps_the_rest(tmp_path):
    old = standard(seeds=3, when="2026-01-01T00:00:00")
    run = standard(seeds=3, variants=(VARIANTS[1],), acc_shift=0.05, node="other", when="2026-02-01T00:00:00")
    run["commit_info"]["id"] = "feedface"
    new = merge.splice(copy.deepcopy(old), run)
    variants = [b["extra_info"]["variant"] for b in new["benchmarks"]]
    assert variants == [v for v in VARIANTS for _ in range(3)]  # the same order
    for before, after in zip(old["benchmarks"], new["benchmarks"]):
        if before["extra_info"]["variant"] != VARIANTS[1]:
            assert after == before  # byte for byte
        else:
            assert after["extra_info"]["test_accuracy"] != before["extra_info"]["test_accuracy"]
            assert after["extra_info"]["machine_info"]["node"] == "other"  # its own machine
    assert [c["variant"] for c in new["flowers"]["cases"]] == variants
    assert new["flowers"]["spliced"] == [
        {"variants": [VARIANTS[1]], "commit": "feedface", "datetime": "2026-02-01T00:00:00"}
    ]
    read = parse_run(tmp_path / "spliced.json", json.loads(json.dumps(new)))
    assert {c.machine["node"] for c in read.cases if c.variant == VARIANTS[1]} == {"other"}
    assert {c.machine["node"] for c in read.cases if c.variant == VARIANTS[0]} == {"runner-1"}
    # a variant new to the baseline is added at the end
    extra = standard(seeds=3, variants=(VARIANTS[0],))
    for bench in extra["benchmarks"]:
        bench["extra_info"]["variant"] = "tiny_cnn"
    for entry in extra["flowers"]["cases"]:
        entry["variant"] = "tiny_cnn"
    grown = merge.splice(new, extra)
    assert [b["extra_info"]["variant"] for b in grown["benchmarks"]][-4:] == [VARIANTS[3], *["tiny_cnn"] * 3]
    assert len(grown["flowers"][schema.SPLICED]) == 2


def test_the_spliced_file_reads_as_one_run(tmp_path):
    new = merge.splice(standard(seeds=3), standard(seeds=3, variants=(VARIANTS[2],)))
    run = load_run(save(tmp_path / "b.json", new))
    assert run.complete and run.variants == list(VARIANTS) and len(run.cases) == 3 * len(VARIANTS)
