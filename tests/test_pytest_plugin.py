"""flowers/pytest_plugin.py's signal rules, in this process (the end-to-end runs are in test_failures.py)."""

import os
import signal

import pytest

from flowers.pytest_plugin import held_signals


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
