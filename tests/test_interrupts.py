"""flowers.interrupts: a signal during training is noted and raised after fit; outside it, at once.
(End to end, with real signals and a real pytest run: tests/test_failures.py.)"""

from __future__ import annotations

import signal

import pytest

from flowers import interrupts


def test_outside_training_a_signal_raises_at_once():
    with pytest.raises(KeyboardInterrupt, match="stopped by signal SIGTERM"):
        interrupts.handle(signal.SIGTERM, None)
    assert not interrupts.stop_requested()


def test_during_training_the_first_signal_waits_for_the_end_of_fit():
    steps = []
    with pytest.raises(KeyboardInterrupt, match="stopped by signal SIGINT"), interrupts.training():
        interrupts.handle(signal.SIGINT, None)  # noted, not raised
        steps.append(interrupts.stop_requested())
        steps.append("fit went on to its end")
    assert steps == [True, "fit went on to its end"]
    assert not interrupts.stop_requested()  # nothing left over for the next case


def test_a_second_signal_during_training_raises_at_once():
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"), interrupts.training():
        interrupts.handle(signal.SIGINT, None)
        interrupts.handle(signal.SIGTERM, None)
        pytest.fail("not reached")


def test_training_without_a_signal_and_an_error_inside_are_left_alone():
    with interrupts.training():
        pass
    with pytest.raises(ValueError), interrupts.training():
        raise ValueError("a failing case")
    assert not interrupts.STATE.noting


def test_fit_stops_at_the_next_batch():
    """With StopOnSignal, a signal noted during fit ends it after the current batch, then raises."""
    import keras
    import numpy as np

    from flowers.training.train import StopOnSignal

    class SignalAtBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.last = batch
            if batch == 2:
                interrupts.handle(signal.SIGINT, None)

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    spy = SignalAtBatch()
    with pytest.raises(KeyboardInterrupt), interrupts.training():
        model.fit(
            np.zeros((64, 4)), np.zeros((64, 2)), batch_size=4, epochs=3, verbose=0, callbacks=[spy, StopOnSignal()]
        )
    assert spy.last == 2  # 16 batches an epoch, 3 epochs: stopped right after the signal
