"""Training: the smoke profile learns, the feature cache is exact, failures are reported, runs repeat."""

import dataclasses
import time

import numpy as np
import pytest

from flowers import schema
from flowers.errors import OptionError, TrainingFailed
from flowers.training import train, xla
from flowers.training.data import load
from flowers.training.profiles import make_config
from flowers.training.session import SessionCache


@pytest.fixture(scope="module")
def smoke_data():
    config = make_config("smoke")
    return load(config.data, config.image_size)


@pytest.fixture(scope="module")
def tiny(smoke_data):
    """32 images to train on: enough to compare two training paths."""
    return subset(smoke_data, 32, 8)


def subset(splits, n_train, n_eval):
    """The first images of each split (keeps the tests quick on 2 CPU cores)."""
    return dataclasses.replace(
        splits,
        x_train=splits.x_train[:n_train],
        y_train=splits.y_train[:n_train],
        x_val=splits.x_val[:n_eval],
        y_val=splits.y_val[:n_eval],
        x_test=splits.x_test[:n_eval],
        y_test=splits.y_test[:n_eval],
    )


def test_smoke_profile_basic_cnn_learns(smoke_data):
    config = make_config("smoke")
    result = train.run("basic_cnn", smoke_data, config)
    assert result["status"] == "ok"
    assert result["test_accuracy"] >= 0.8  # chance is 0.2
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]
    assert len(result["epoch_seconds"]) == result["epochs"] == config.epochs


@pytest.mark.parametrize("variant", ["vgg16_transfer", pytest.param("resnet50v2_finetune", marks=pytest.mark.slow)])
def test_feature_cache_is_exact(tiny, variant):
    data, config = tiny, make_config("smoke")
    cached = train.run(variant, data, config)
    plain = train.run(variant, data, dataclasses.replace(config, feature_cache=False))
    assert cached["feature_cache"]["enabled"] and cached["feature_cache"]["bytes"] > 0
    assert not plain["feature_cache"]["enabled"]
    # the work, counted while each ran: the frozen layers ran once per image with the cache, every pass without
    epochs, steps = config.epochs, config.epochs * -(-32 // config.batch_size)
    assert cached["work"]["backbone_images"] == 32 + 8 + 8
    assert plain["work"]["backbone_images"] == epochs * (32 + 8) + 8
    for work in (cached["work"], plain["work"]):
        assert (work["optimizer_steps"], work["train_images"], work["test_images"]) == (steps, 32 * epochs, 8)
    assert plain["work"]["step_flops"] > cached["work"]["step_flops"] > 0
    np.testing.assert_allclose(cached["history"]["loss"], plain["history"]["loss"], rtol=1e-3)
    np.testing.assert_allclose(cached["test_loss"], plain["test_loss"], rtol=1e-3)


def test_feature_cache_streams_from_disk_above_the_memory_limit(tiny):
    data, config = tiny, make_config("smoke")
    in_memory = train.run("vgg16_transfer", data, config)
    on_disk = train.run("vgg16_transfer", data, config, cache_memory_limit=1)
    assert (in_memory["feature_cache"]["storage"], on_disk["feature_cache"]["storage"]) == ("memory", "disk")
    np.testing.assert_allclose(on_disk["history"]["loss"], in_memory["history"]["loss"], rtol=1e-5)


@pytest.mark.slow
def test_augmentation_trains_on_five_times_the_images(tiny):
    result = train.run("resnet50v2_finetune_aug", tiny, make_config("smoke", epochs=1))
    assert result["config"]["augment"] is True
    assert result["train_images_per_second"] == pytest.approx(32 * 5 / result["train_seconds"])


def test_images_of_another_size_than_the_config_are_refused(tiny):
    with pytest.raises(ValueError, match="images are 32 px but the config says 64"):
        train.run("basic_cnn", tiny, make_config("smoke", image_size=64))


def test_non_finite_loss_fails_with_the_epoch(smoke_data):
    with pytest.raises(TrainingFailed, match=r"loss became (nan|inf) in epoch 1") as err:
        train.run("basic_cnn", subset(smoke_data, 64, 8), make_config("smoke", learning_rate=1e6))
    assert err.value.epoch == 1


def test_same_seed_same_results_on_cpu(smoke_data):
    data = subset(smoke_data, 96, 16)
    first = train.run("basic_cnn", data, make_config("smoke"))
    second = train.run("basic_cnn", data, make_config("smoke"))
    assert first["history"] == second["history"]
    assert first["test_accuracy"] == second["test_accuracy"]
    assert first["config_hash"] == second["config_hash"]


@pytest.mark.parametrize(
    "first, second",
    [
        pytest.param("resnet50v2_finetune", "resnet50v2_finetune_aug", marks=pytest.mark.slow),
        ("mobilenet_v2_transfer", "mobilenet_v2_transfer"),
    ],
)
def test_a_reused_compiled_model_gives_the_results_of_a_fresh_one(tiny, first, second):
    """The augmented variant after the plain one (one trainable part), a second seed after the first
    (dropout's seed state too): trained on the compiled model of an earlier case, exactly as on their own."""
    config, session = make_config("smoke", epochs=2), SessionCache()
    train.run(first, tiny, config, cache=session)
    reused = train.run(second, tiny, dataclasses.replace(config, seed=1), cache=session)
    fresh = train.run(second, tiny, dataclasses.replace(config, seed=1))
    assert reused["compiled_reused"] and not fresh["compiled_reused"]
    assert reused["history"] == fresh["history"]
    assert (reused["test_loss"], reused["test_accuracy"]) == (fresh["test_loss"], fresh["test_accuracy"])


def test_jit_compile_auto_is_resolved_and_recorded():
    record = make_config("smoke", jit_compile="auto").for_variant("basic_cnn")
    assert record["jit_compile"] is xla.auto_choice()[0] and record["jit_compile_auto"] == xla.auto_choice()[1]
    explicit = make_config("smoke", jit_compile=False).for_variant("basic_cnn")
    assert explicit["jit_compile"] is False and "jit_compile_auto" not in explicit
    with pytest.raises(OptionError, match="jit_compile 'sometimes': use true, false or 'auto'"):
        make_config("smoke", jit_compile="sometimes").for_variant("basic_cnn")


@pytest.mark.parametrize(
    "machine, flags, gpus, expected",
    [
        ("x86_64", {"avx2", "fma"}, [], (True, "on for an x86-64 CPU without AVX-512")),
        ("x86_64", {"avx2", "avx512f"}, [], (False, "off on an x86-64 CPU with AVX-512")),
        ("arm64", set(), [], (False, "off on an arm64 CPU")),
        ("x86_64", {"avx2"}, ["GPU:0"], (False, "off on a GPU")),
    ],
)
def test_jit_compile_auto_rule(monkeypatch, machine, flags, gpus, expected):
    import platform

    import tensorflow as tf

    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(xla, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: gpus)
    xla.auto_choice.cache_clear()
    try:
        assert xla.auto_choice() == expected
    finally:
        xla.auto_choice.cache_clear()


def test_config_hash_ignores_seed_but_not_settings():
    base = make_config("smoke").for_variant("basic_cnn")
    assert schema.config_hash(base) == schema.config_hash({**base, "seed": 7})
    assert schema.config_hash(base) != schema.config_hash({**base, "epochs": 3})


def test_a_profile_and_the_options_make_the_config():
    with pytest.raises(OptionError, match="--profile fast: unknown profile"):
        make_config("fast")
    assert make_config("paper", epochs=3).epochs == 3 and make_config("paper").image_size == 160
    # a profile's setting for one variant, under an explicit option
    assert make_config("smoke", "resnet50v2_finetune_aug").epochs == 3
    assert make_config("smoke", "resnet50v2_finetune_aug", epochs=5).epochs == 5
    assert make_config("smoke", "basic_cnn").epochs == make_config("smoke").epochs == 8
    # smoke: XLA by the auto rule for the two ResNet50V2 cases only; --jit-compile / --no-jit-compile win
    assert make_config("smoke", "resnet50v2_finetune").jit_compile == xla.AUTO
    assert make_config("smoke", "basic_cnn").jit_compile is False
    assert make_config("smoke", "basic_cnn", jit_compile=True).jit_compile is True
    assert make_config("smoke", "resnet50v2_finetune_aug", jit_compile=False).jit_compile is False


def test_breakdown_adds_up_to_the_run_and_steady_throughput_counts_epochs_two_on(smoke_data):
    data = subset(smoke_data, 96, 16)
    start = time.perf_counter()
    result = train.run("basic_cnn", data, make_config("smoke", epochs=3))
    wall = time.perf_counter() - start
    parts = result["breakdown"]
    assert list(parts) == ["setup", "feature_cache", "first_epoch", "later_epochs", "evaluation", "bookkeeping"]
    assert all(seconds >= 0 for seconds in parts.values())
    assert sum(parts.values()) == pytest.approx(wall, rel=0.05)
    assert parts["later_epochs"] >= sum(result["epoch_seconds"][1:])  # epochs 2 and 3, validation included
    steps = result["epoch_step_seconds"]
    assert len(steps) == 3 and all(0 < s <= e for s, e in zip(steps, result["epoch_seconds"]))
    assert result["steady_images_per_second"] == pytest.approx(96 * 2 / (steps[1] + steps[2]))
    assert result["test_accuracy"] > 0.4  # it learned (chance is 0.2)


def test_one_epoch_has_no_steady_throughput(tiny):
    assert train.run("basic_cnn", tiny, make_config("smoke", epochs=1))["steady_images_per_second"] is None


def test_tensorboard_logs_read_back_with_the_history_and_the_config(tiny, tmp_path):
    import tensorflow as tf

    from flowers.training import tensorboard_log

    log_dir = tmp_path / "basic_cnn-seed=0"
    result = train.run("basic_cnn", tiny, make_config("smoke", epochs=2), tensorboard=log_dir)
    scalars, hparams = {}, []
    for path in sorted(log_dir.rglob("events.out.tfevents.*")):
        split = path.parent.name if path.parent != log_dir else "run"
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "hparams":
                    hparams.append(value.metadata.plugin_data.content)
                else:
                    scalars.setdefault((split, value.tag), []).append(
                        (event.step, float(tf.make_ndarray(value.tensor)))
                    )
    history = result["history"]
    for split, prefix in (("train", ""), ("validation", "val_")):
        for metric in ("loss", "accuracy"):
            steps, values = zip(*scalars[(split, f"epoch_{metric}")])
            assert steps == (0, 1)
            np.testing.assert_allclose(values, history[prefix + metric], rtol=1e-6)
    assert scalars[("run", "test_accuracy")][0][1] == pytest.approx(result["test_accuracy"], rel=1e-6)
    (content,) = hparams
    start = tensorboard_log.plugin_data_class().FromString(content).session_start_info
    assert start.hparams["variant"].string_value == "basic_cnn"
    assert start.hparams["epochs"].number_value == 2 and start.hparams["feature_cache"].bool_value is True


def test_the_weights_record_counts_the_calibration_that_ran(tiny, monkeypatch):
    """The images a random backbone was calibrated on are counted as it is, not read from the config:
    calibration skipped in code while the config asks for it shows in the weights' record."""
    from flowers.training import models

    config = dataclasses.replace(make_config("smoke"), epochs=1)
    assert train.run("mobilenet_v2_transfer", tiny, config)["weights_identity"] == {
        "source": "random-calibrated",
        "images": 32,
        "version": models.CALIBRATION_VERSION,
    }
    monkeypatch.setattr(models, "calibrate", lambda model, images, count=None: None)
    assert train.run("mobilenet_v2_transfer", tiny, config)["weights_identity"]["images"] == 0
