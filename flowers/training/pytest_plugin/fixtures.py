"""The fixtures a case uses: ``progress`` (lines and live bars past pytest's capture) and
``case_inputs`` (the case's settings, its data loader, the cache limit, its TensorBoard folder and
the session's cache of compiled models)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flowers.training.profiles import TrainConfig
from flowers.training.pytest_plugin.session import FlowersSession
from flowers.training.session import SessionCache

if TYPE_CHECKING:
    from flowers.training.data import Splits
    from flowers.training.progress import Progress


@pytest.fixture
def progress(request: pytest.FixtureRequest) -> Progress:
    """A :class:`flowers.training.progress.Progress` that writes to the terminal while pytest captures output,
    so progress shows without -s: lines through pytest's terminal reporter, live bars on a terminal."""
    from flowers.training.progress import Progress

    capman = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")

    def write(line: str) -> None:
        with capman.global_and_fixture_disabled():
            reporter.write_line(f"  {line}")

    return Progress(
        write, capman.global_and_fixture_disabled, isatty=bool(reporter.isatty), newline=reporter.ensure_newline
    )  # a bar starts below pytest's file name


@dataclass(frozen=True)
class CaseInputs:
    """What a variant case needs besides its variant: ``load_data()`` gives (Splits, whether this
    session had them loaded already) or raises DataError; it is meant to be called inside the case's
    clock, so that a case's time includes loading (or finding) its data."""

    config: TrainConfig  # with the case's seed
    profile: str
    load_data: Callable[[], tuple[Splits, bool]]
    cache_memory_limit: int | None
    tensorboard: Path | None
    cache: SessionCache  # the session's compiled models and FLOP counts, for train.run


@pytest.fixture
def case_inputs(request: pytest.FixtureRequest, variant: str, seed: int, progress: Progress) -> CaseInputs:
    from flowers.training.data import load
    from flowers.training.measure import peak_gflops

    flowers = FlowersSession.of(request.config)
    options, config = flowers.options, replace(flowers.config_for(variant), seed=seed)
    peak_gflops()  # measured once per session, before any case's clock starts

    def load_data() -> tuple[Splits, bool]:
        key = (config.data, config.image_size, options.strict_data)
        return flowers.data.get(key, lambda: load(config.data, config.image_size, strict=key[2], progress=progress))

    tensorboard = options.tensorboard / request.node.callspec.id if options.tensorboard else None
    return CaseInputs(config, options.profile, load_data, options.cache_memory_limit, tensorboard, flowers.cache)
