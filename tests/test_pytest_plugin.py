"""The pytest plugin's parts that work without a session: the signal rules and the terminal summary
(the end-to-end runs are in test_failures.py, test_benchmarks.py and test_usage.py)."""

import os
import signal

import pytest

from flowers import schema
from flowers.training.pytest_plugin.signals import held_signals
from flowers.training.pytest_plugin.summary import WIDTH, lines


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_are_held_back_while_saving_and_handlers_restored(signum):
    before = signal.getsignal(signum)
    with held_signals() as held:
        os.kill(os.getpid(), signum)  # would be KeyboardInterrupt or death outside the block
        assert held == [signal.Signals(signum).name]
    assert signal.getsignal(signum) is before


def test_an_ignored_signal_stays_ignored():
    before = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with held_signals() as held:
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGTERM)
        assert held == [] and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before)


def case(variant, seed, status="ok", error=None, accuracy=0.9, loss=0.3, seconds=12.5):
    """A node id, the run record's entry of the case and the case's result."""
    name = f"test_variant[{variant}-seed={seed}]"
    result = {
        schema.VARIANT: variant,
        schema.STATUS: status,
        schema.ERROR: error,
        schema.TEST_ACCURACY: accuracy,
        schema.TEST_LOSS: loss,
        schema.TRAIN_SECONDS: seconds,
    }
    return f"benchmarks/test_variants.py::{name}", schema.case_entry(name, variant, seed, status, error), result


def summary(*made):
    return lines({node: entry for node, entry, _ in made}, {node: result for node, _, result in made})


def test_the_summary_shows_each_variants_scores_over_its_seeds_beside_the_originals():
    title, header, *rows = summary(
        case("basic_cnn", 0, accuracy=0.80),
        case("basic_cnn", 1, accuracy=0.90),
        case("basic_cnn", 2, accuracy=0.85),
        case("mobilenet_v2_transfer", 0, seconds=3.0),
    )
    assert "mean ± 95% interval" in title
    assert header.split()[:3] == ["variant", "seeds", "status"]
    # 0.85 ± t(0.975, 2) * 0.05 / sqrt(3) = 0.85 ± 0.124
    assert rows[0].split() == [
        "basic_cnn",
        "3",
        "ok",
        "0.850",
        "±",
        "0.124",
        "0.300",
        "±",
        "0.000",
        "12.5",
        "s",
        "0.695",
        "/",
        "0.783",
    ]
    assert rows[1].split() == ["mobilenet_v2_transfer", "1", "ok", "0.900", "0.300", "3.0", "s", "—"]
    assert len(rows) == 2  # nothing failed: no reasons


def test_failed_cases_are_counted_out_of_the_scores_and_listed_with_their_reason():
    *_, table_row, reason = summary(
        case("vgg16_transfer", 0, accuracy=0.5),
        case("vgg16_transfer", 1, "failed", "loss became nan in epoch 1; lower the learning rate"),
    )
    assert table_row.split()[:5] == ["vgg16_transfer", "2", "1/2", "ok", "0.500"]
    assert reason == "  test_variant[vgg16_transfer-seed=1] failed: loss became nan in epoch 1; lower the learning rate"


def test_the_summary_fits_100_columns_whatever_the_names_reasons_and_numbers():
    long_name = "a_variant_of_my_own_with_a_very_long_descriptive_name"
    made = [
        case(long_name, 0, loss=123456.789, seconds=98765.4),
        case(long_name, 1, loss=1e-3),
        case("basic_cnn", 0, "failed", "x" * 500),
    ]
    out = summary(*made)
    assert all(len(line) <= WIDTH for line in out), [len(line) for line in out]
    assert out[2].startswith("a_variant_of_my_own_wit…") and out[-1].endswith("…")


@pytest.mark.parametrize("data, marked", [("synthetic", True), ("flower_photos", True), ("tf_flowers", False)])
def test_the_originals_figures_are_marked_for_orientation_beside_other_data(data, marked):
    made = case("basic_cnn", 0, accuracy=1.0)
    made[2][schema.DATASET] = {schema.NAME: data, schema.IMAGE_SIZE: 32}
    _, header, row, *rest = summary(made)
    assert header.endswith("original acc / loss*" if marked else "original acc / loss")
    assert row.endswith("0.695 / 0.783")
    assert rest == (
        [f"* the original's on tf_flowers at 160 px; this run used {data} at 32 px: for orientation only"]
        if marked
        else []
    )
