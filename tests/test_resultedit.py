"""flowers.resultedit, the edits the scripts and the tests make to result files: what a slower run
changes (and what it leaves), a variant's values set, seeds kept, a run dated, written and read back."""

from __future__ import annotations

import copy

import pytest

from flowers import resultedit, schema
from flowers.results import load_run
from tests.factory import baseline, make_case, make_run, standard


def test_a_run_three_times_slower_has_every_timing_longer_and_every_throughput_lower():
    run = baseline()
    before = copy.deepcopy(run)
    slow = resultedit.slower(run, 3.0, "vgg16_transfer")
    assert run == before  # the argument is left as it was
    for old, new in zip(run["benchmarks"], slow["benchmarks"]):
        a, b = old["extra_info"], new["extra_info"]
        if a["variant"] != "vgg16_transfer":
            assert a == b
            continue
        assert b["train_seconds"] == pytest.approx(3 * a["train_seconds"])
        assert b["epoch_step_seconds"] == pytest.approx([3 * s for s in a["epoch_step_seconds"]])
        assert b["breakdown"] == pytest.approx({k: 3 * v for k, v in a["breakdown"].items()})
        assert b["steady_images_per_second"] == pytest.approx(a["steady_images_per_second"] / 3)
        assert b["train_images_per_second"] == pytest.approx(a["train_images_per_second"] / 3)
        assert {k: v for k, v in b.items() if k not in (*schema.TIMINGS, "breakdown", *resultedit.THROUGHPUTS)} == {
            k: v for k, v in a.items() if k not in (*schema.TIMINGS, "breakdown", *resultedit.THROUGHPUTS)
        }


def test_what_a_case_did_not_record_stays_unrecorded_and_a_failed_case_is_left_alone():
    one_epoch = make_case("basic_cnn", seed=0)
    one_epoch["extra_info"]["steady_images_per_second"] = None
    failed = make_case("basic_cnn", seed=1, status="failed", error="boom")
    slow = resultedit.slower(make_run([one_epoch, failed]), 2.0)
    assert slow["benchmarks"][0]["extra_info"]["steady_images_per_second"] is None
    assert slow["benchmarks"][0]["extra_info"]["train_seconds"] == pytest.approx(6.2)
    assert slow["benchmarks"][1] == failed
    edited = resultedit.edit(make_run([one_epoch, failed]), "basic_cnn", test_accuracy=lambda a: a / 2)
    assert [b["extra_info"].get("test_accuracy") for b in edited["benchmarks"]] == [0.8667 / 2, None]


def test_seeds_kept_dated_and_recorded_read_back_as_one_run(tmp_path):
    run = resultedit.keep_seeds(standard(seeds=3), {0, 2})
    run = resultedit.dated(run, "2026-02-03T04:05:06+00:00", "ab" * 20)
    read = load_run(resultedit.save(tmp_path / "sub" / "run.json", resultedit.recorded(run)))
    assert sorted({c.seed for c in read.cases}) == [0, 2] and len(read.cases) == 8
    assert read.commit["id"] == "ab" * 20 and read.when().day == 3
    assert resultedit.load(tmp_path / "sub" / "run.json") == resultedit.recorded(run)
