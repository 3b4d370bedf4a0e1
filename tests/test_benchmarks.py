"""The benchmark cases end to end: a short smoke run in a subprocess, and its JSON."""

import dataclasses
import json
import statistics
from pathlib import Path

import pytest

from flowers import schema
from flowers.training.profiles import TrainConfig
from tests import suite

# What a result records (flowers/schema.py): every key it lists, every setting of the TrainConfig
# (distribute only when set, with its replica count)
CONFIG_KEYS = {f.name for f in dataclasses.fields(TrainConfig)} - {schema.DISTRIBUTE} | {schema.VARIANT, schema.AUGMENT}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smoke")
    out, tensorboard = folder / "out.json", folder / "tb"
    proc = suite.run(
        "--profile",
        "smoke",
        "-k",
        "basic_cnn or mobilenet_v2_transfer",
        "--seeds",
        "2",
        "--epochs",
        "1",
        "--benchmark-json",
        str(out),
        "--tensorboard",
        str(tensorboard),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


@pytest.mark.slow
def test_smoke_json_holds_every_key(smoke_run):
    _, result = smoke_run
    assert len(result["benchmarks"]) == 4
    for bench in result["benchmarks"]:
        info = bench["extra_info"]
        assert set(schema.CASE_KEYS) <= set(info), set(schema.CASE_KEYS) - set(info)
        assert set(info["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(values) == info["epochs"] == 1 for values in info["history"].values())
        assert set(info["config"]) >= CONFIG_KEYS
        assert {"name", "splits", "class_names", "hash"} <= set(info["dataset"])
        assert info["weights_identity"]["source"] == ("none" if info["variant"] == "basic_cnn" else "random-calibrated")
        assert info["architecture"]["params_total"] == info["params_total"]
        assert info["status"] == "ok" and info["profile"] == "smoke"
        assert 0 < info["achieved_gflops"] <= 2 * info["peak_gflops"]
        assert info["peak_memory_bytes"] > 0 and info["flops_per_image"] > 0
    machine = result["machine_info"]["flowers"]
    assert {"tensorflow", "keras", "device", "device_kind"} <= set(machine)
    assert result["flowers"]["complete"] is True and result["flowers"]["profile"] == "smoke"


@pytest.mark.slow
def test_seeds_run_as_separate_cases(smoke_run):
    _, result = smoke_run
    names = sorted(b["name"] for b in result["benchmarks"])
    assert names == [
        "test_variant[basic_cnn-seed=0]",
        "test_variant[basic_cnn-seed=1]",
        "test_variant[mobilenet_v2_transfer-seed=0]",
        "test_variant[mobilenet_v2_transfer-seed=1]",
    ]
    seeds = {(b["extra_info"]["variant"], b["extra_info"]["seed"]) for b in result["benchmarks"]}
    assert len(seeds) == 4
    hashes = {b["extra_info"]["variant"]: set() for b in result["benchmarks"]}
    for b in result["benchmarks"]:
        hashes[b["extra_info"]["variant"]].add(b["extra_info"]["config_hash"])
    assert all(len(h) == 1 for h in hashes.values())  # seeds share a configuration


@pytest.mark.slow
def test_breakdown_adds_up_to_the_measured_round(smoke_run):
    _, result = smoke_run
    cached = []
    for bench in result["benchmarks"]:
        info = bench["extra_info"]
        assert list(info["breakdown"]) == list(schema.BREAKDOWN_PARTS)
        # pytest-benchmark's own time of the case's one round, and the parts measured inside it.
        assert sum(info["breakdown"].values()) == pytest.approx(bench["stats"]["max"], rel=0.05)
        assert info["wall_seconds"] == pytest.approx(bench["stats"]["max"], rel=0.05)
        assert info["steady_images_per_second"] is None  # one epoch: no steady figure
        cached.append(info["data_cached"])
    assert cached == [False, True, True, True]  # the data is decoded once per session


@pytest.mark.slow
def test_tensorboard_option_writes_event_files_per_case(smoke_run):
    import tensorflow as tf

    proc, result = smoke_run
    tensorboard = Path(proc.args[proc.args.index("--tensorboard") + 1])
    assert sorted(p.name for p in tensorboard.iterdir()) == [
        "basic_cnn-seed=0",
        "basic_cnn-seed=1",
        "mobilenet_v2_transfer-seed=0",
        "mobilenet_v2_transfer-seed=1",
    ]
    for bench in result["benchmarks"]:
        info = bench["extra_info"]
        case = tensorboard / f"{info['variant']}-seed={info['seed']}"
        (events,) = (case / "train").glob("events.out.tfevents.*")
        losses = [
            float(tf.make_ndarray(v.tensor))
            for e in tf.compat.v1.train.summary_iterator(str(events))
            for v in e.summary.value
            if v.tag == "epoch_loss"
        ]
        assert losses == pytest.approx(info["history"]["loss"], rel=1e-6)
        assert list((case / "validation").glob("events.out.tfevents.*"))


@pytest.mark.slow
def test_progress_is_shown_without_dash_s(smoke_run):
    proc, _ = smoke_run
    assert "basic_cnn  epoch 1/1  " in proc.stdout
    assert "mobilenet_v2_transfer  epoch 1/1  " in proc.stdout


@pytest.mark.slow
def test_the_run_ends_with_each_variants_scores_in_100_columns(smoke_run):
    """The terminal summary: a row per variant with its test accuracy and loss over the seeds (mean ±
    95% interval), train time, status and the original's figures; pytest-benchmark's own table kept,
    trimmed to the time of the one round."""
    proc, result = smoke_run
    out = proc.stdout.splitlines()
    start = out.index(next(line for line in out if line.startswith("flowers-bench: test accuracy and loss")))
    header, basic, mobilenet = out[start + 1 : start + 4]
    assert header.split()[:3] == ["variant", "seeds", "status"] and "original acc / loss" in header
    accuracy = statistics.mean(
        b["extra_info"]["test_accuracy"] for b in result["benchmarks"] if b["extra_info"]["variant"] == "basic_cnn"
    )
    assert basic.split()[:4] == ["basic_cnn", "2", "ok", f"{accuracy:.3f}"] and basic.split()[4] == "±"
    assert basic.endswith("0.695 / 0.783")  # the original's model 1
    assert mobilenet.split()[:3] == ["mobilenet_v2_transfer", "2", "ok"] and mobilenet.endswith("—")
    assert all(len(line) <= 100 for line in out[start : start + 4])
    timing = next(line for line in out if line.startswith("Name (time in"))
    assert "Mean" in timing and "Rounds" in timing and "StdDev" not in timing and "OPS" not in timing


def test_a_missing_data_folder_stops_pytest_in_one_line(tmp_path):
    proc = suite.run("--profile", "paper", "-k", "basic_cnn", "--data", str(tmp_path / "no-such-folder"))
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert proc.stderr.splitlines() == [
        f"ERROR: data folder not found: {tmp_path / 'no-such-folder'}; check the path, or use tf_flowers or synthetic",
        "",
    ]
