"""The plugin's state: one :class:`FlowersSession` per pytest session, kept on ``config.stash``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flowers.training.data import Splits
    from flowers.training.profiles import TrainConfig
    from flowers.training.pytest_plugin.options import Options
    from flowers.training.pytest_plugin.update_baseline import Update


@dataclass
class FlowersSession:
    """Everything the plugin knows about one session."""

    options: Options  # the command line, parsed and checked
    run_config: TrainConfig  # the session's settings (the first seed's), before any variant's own
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # nodeid -> the run record's case entry
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # nodeid -> a variant case's extra_info
    shard: dict[str, Any] | None = None  # the run record's shard part (--shard K/N)
    loaded: dict[tuple, Splits] = field(default_factory=dict)  # (data, image size, strict) -> its splits
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM
    finished: int = 0  # cases whose call phase ended
    old_handlers: dict = field(default_factory=dict)  # signal -> the handler ours replaced
    new_storage: Path | None = None  # pytest-benchmark's storage folder, when this session made it
    update: Update | None = None  # --update-baseline FILE: the baseline and, at the end, the run to splice

    def config_for(self, variant: str) -> TrainConfig:
        """The settings of ``variant``'s cases (a profile may set some per variant), the first seed's."""
        from flowers.training.profiles import make_config
        from flowers.training.pytest_plugin.options import DEFAULT_PROFILE

        return make_config(self.options.profile or DEFAULT_PROFILE, variant, **self.options.settings())


KEY = pytest.StashKey[FlowersSession]()


def get(config: pytest.Config) -> FlowersSession:
    """This session's state (made when pytest starts, by :mod:`flowers.training.pytest_plugin.options`)."""
    return config.stash[KEY]


def options(config: pytest.Config) -> Options:
    """The session's options as parsed (None where not given), for cases that read their own."""
    return get(config).options
