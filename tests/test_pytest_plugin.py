"""The pytest plugin's parts that work without a session: the options, the signal rules and the
terminal summary (the end-to-end runs are in test_failures.py, test_benchmarks.py and test_usage.py)."""

import argparse
import os
import signal

import pytest

from flowers import schema
from flowers.errors import OptionError
from flowers.training.profiles import DEFAULT_PROFILE, TrainConfig, make_config
from flowers.training.pytest_plugin.options import OPTIONS, Options, parse, pytest_addoption
from flowers.training.pytest_plugin.signals import held_signals
from flowers.training.pytest_plugin.summary import WIDTH, lines


class Parser:
    """What the plugin's ``pytest_addoption`` uses of pytest's parser, on plain argparse."""

    def __init__(self):
        self.argparse = argparse.ArgumentParser(exit_on_error=False)
        self.helps: dict[str, str] = {}

    def getgroup(self, name, description):
        return self

    def addoption(self, flag, **attrs):
        self.helps[flag] = attrs["help"]
        self.argparse.add_argument(flag, **attrs)


def command_line(*argv: str) -> Options:
    """The options of ``pytest benchmarks ARGV``, as the plugin parses them."""
    parser = Parser()
    pytest_addoption(parser)
    return parse(vars(parser.argparse.parse_args(argv)).get)


def test_each_option_is_declared_once_with_its_default_in_the_help():
    parser = Parser()
    pytest_addoption(parser)
    flags = [flag for option in OPTIONS.values() for flag in (option.flag, *(option.negative or ())[:1])]
    assert list(parser.helps) == flags and len(set(flags)) == len(flags)
    for option in OPTIONS.values():
        assert parser.helps[option.flag].endswith(f" (default: {option.shown})"), option.flag


def test_an_option_not_given_is_its_default_and_a_setting_the_profiles():
    options = command_line()
    assert options == Options() and options.given == {}
    assert (options.profile, options.seed, options.seeds, options.speed_rounds) == (DEFAULT_PROFILE, 0, 1, 2)
    assert make_config(options.profile, **options.settings()) == make_config(DEFAULT_PROFILE)
    assert set(options.settings()) < {f for f in TrainConfig.__dataclass_fields__}


def test_options_given_are_parsed_into_their_fields_and_named_in_the_order_declared():
    options = command_line(
        "--shard", "2/3", "--no-feature-cache", "--epochs", "3", "--no-jit-compile", "--learning-rate", "1e-3",
        "--variants-from", "a.py", "--variants-from", "b", "--profile", "smoke", "--seed", "0",
    )  # fmt: skip
    assert (options.shard, options.epochs, options.learning_rate) == ((2, 3), 3, 1e-3)
    assert (options.jit_compile, options.feature_cache, options.variants_from) == (False, False, ("a.py", "b"))
    assert list(options.given.values()) == [
        "--profile", "--variants-from", "--seed", "--epochs", "--learning-rate", "--no-jit-compile",
        "--no-feature-cache", "--shard",
    ]  # fmt: skip
    config = make_config(options.profile, "resnet50v2_finetune", **options.settings())
    assert (config.epochs, config.jit_compile, config.feature_cache, config.learning_rate) == (3, False, False, 1e-3)
    assert command_line("--jit-compile").jit_compile is True and command_line().jit_compile is None


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs 0: must be at least 1"),
        (["--batch-size", "x"], "--batch-size x: not a whole number"),
        (["--image-size", "4"], "--image-size 4: must be at least 8 (32 for the pretrained backbones)"),
        (["--learning-rate", "nan"], "--learning-rate nan: must be a positive number, e.g. 1e-4"),
        (["--seed", "-1"], "--seed -1: must be at least 0"),
        (["--speed-rounds", "1"], "--speed-rounds 1: must be at least 2"),
        (["--cache-memory-limit", "1e9"], "--cache-memory-limit 1e9: not a whole number"),
        (["--distribute", "ring"], "--distribute ring: unknown strategy; choose from none, mirrored"),
        (["--profile", "fast"], "--profile fast: unknown profile; choose from paper, smoke, lite"),
        (["--shard", "0/2"], "--shard 0/2: K must be between 1 and N (here N = 2)"),
        (["--no-jit-compile", "--jit-compile"], "--jit-compile and --no-jit-compile: give one of them"),
    ],
)
def test_an_option_that_cannot_be_used_is_one_line_naming_it(argv, message):
    with pytest.raises(OptionError) as info:
        command_line(*argv)
    assert str(info.value) == message


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
