"""The plugin's state: one :class:`FlowersSession` per pytest session, made when pytest starts (from
the options, parsed once) and kept on ``config.stash``, as pytest-benchmark keeps its
``BenchmarkSession``.

The plugin's other modules read it with :meth:`FlowersSession.of`, and a case reads the parsed
options with :func:`options`.  Of the plugin's modules this one imports only :mod:`.options`, which imports none,
so that every other module can import it without a circle.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from flowers.errors import UserError
from flowers.training.profiles import TrainConfig, make_config
from flowers.training.pytest_plugin.options import Options, import_variants, parse
from flowers.training.session import SessionCache

if TYPE_CHECKING:
    from flowers.training.data import Splits


@dataclass
class Update:
    """``--update-baseline FILE`` (:mod:`.update_baseline`): the baseline, and the session's result
    JSON once pytest-benchmark made it."""

    path: Path
    seeds: dict[str, list[int]]  # each variant's seeds in the baseline
    run: dict[str, Any] | None = None  # the session's --benchmark-json, as written
    scratch: tempfile.TemporaryDirectory | None = field(default=None, repr=False)  # for that JSON, if not asked for
    lines: list[str] = field(default_factory=list)  # what the update did, shown at the end of the run

    def seeds_for(self, variant: str) -> list[int]:
        """The seeds ``variant`` runs with: its own in the baseline, else every seed the baseline has."""
        return self.seeds.get(variant) or sorted({s for seeds in self.seeds.values() for s in seeds})


@dataclass
class LoadedData:
    """The data sets decoded in this session, by (data, image size, strict), so that each image is
    decoded and resized once whatever the number of variants and seeds; the oldest is dropped
    beyond ``limit``."""

    limit: int = 4
    splits: dict[tuple[str, int, bool], Splits] = field(default_factory=dict)

    def get(self, key: tuple[str, int, bool], load: Callable[[], Splits]) -> tuple[Splits, bool]:
        """(the splits of ``key``, whether this session had them already), made by ``load`` if not."""
        if key in self.splits:
            return self.splits[key], True
        if len(self.splits) >= self.limit:
            self.splits.pop(next(iter(self.splits)))
        self.splits[key] = load()
        return self.splits[key], False


@dataclass
class FlowersSession:
    """Everything the plugin knows about one session."""

    options: Options  # the command line, parsed and checked
    run_config: TrainConfig  # the session's settings (the first seed's), before any variant's own
    data: LoadedData = field(default_factory=LoadedData)  # the data sets loaded so far
    cache: SessionCache = field(default_factory=SessionCache)  # compiled models and FLOP counts the cases reuse
    update: Update | None = None  # --update-baseline FILE: the baseline and, at the end, the run to splice
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # nodeid -> the run record's case entry
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # nodeid -> a variant case's extra_info
    shard: dict[str, Any] | None = None  # the run record's shard part (--shard K/N)
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM
    finished: int = 0  # cases whose call phase ended
    old_handlers: dict = field(default_factory=dict)  # signal -> the handler ours replaced
    new_storage: Path | None = None  # pytest-benchmark's storage folder, when this session made it

    @staticmethod
    def of(config: pytest.Config) -> FlowersSession:
        """This session's state (made when pytest starts)."""
        return config.stash[KEY]

    def config_for(self, variant: str) -> TrainConfig:
        """The settings of ``variant``'s cases (a profile may set some per variant), the first seed's."""
        return make_config(self.options.profile, variant, **self.options.settings())

    def seeds_for(self, variant: str) -> Sequence[int]:
        """The seeds of ``variant``'s cases: the baseline's when updating one, else ``--seeds`` from ``--seed``."""
        if self.update:
            return self.update.seeds_for(variant)
        return range(self.options.seed, self.options.seed + self.options.seeds)


KEY = pytest.StashKey[FlowersSession]()


def options(config: pytest.Config) -> Options:
    """The session's options as parsed, for cases that read their own."""
    return FlowersSession.of(config).options


@pytest.hookimpl(tryfirst=True)  # before any other plugin acts on a session that will not run
def pytest_configure(config: pytest.Config) -> None:
    """Parse the options, import the ``--variants-from`` files and resolve the session's settings:
    a bad option stops pytest here, one ``ERROR:`` line and exit 4, before anything is collected."""
    try:
        parsed = parse(config.getoption)
        for source in parsed.variants_from:
            import_variants(source)
    except UserError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[KEY] = FlowersSession(parsed, make_config(parsed.profile, **parsed.settings()))
