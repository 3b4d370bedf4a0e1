"""``--update-baseline FILE``: accept a change on purpose, in one command, the way snapshot tests do
(syrupy's ``--snapshot-update``, pytest-regressions' ``--force-regen``)::

    pytest benchmarks --profile smoke --update-baseline benchmarks/baselines/smoke-cpu.json -k vgg16_transfer

The selected variants run with FILE's seeds (its own seeds for a variant it holds, all of its seeds
for a new one) and the profile's settings; when the session passed, their cases replace theirs in
FILE (:func:`flowers.merge.splice`: every other variant's cases as they were, each new case keeping
its own machine), written atomically.  A pull request's diff of FILE then shows what was accepted,
and the session prints it (:func:`flowers.facts.differences`).

Refused when pytest starts (one ``ERROR:`` line, exit 4, nothing run): a FILE that cannot be read,
of another profile, or options that would make the cases other than the suite's (``--seed``,
``--seeds``, ``--shard``, the settings); and after ``-k`` selection, a variant selected with only some
of its seeds.  A session that did not pass leaves FILE as it was, and says so.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from flowers import atomic, facts, merge, schema
from flowers.errors import OptionError, UserError
from flowers.results import Run, parse_run, read_json
from flowers.training.pytest_plugin.collection import variant_seed
from flowers.training.pytest_plugin.options import SETTINGS, Options
from flowers.training.pytest_plugin.session import KEY, FlowersSession, Update

# Options that make cases other than what FILE holds: its seeds decide, and the profile's settings.
CONFLICTS = ("seeds", "shard", "shard_times", *SETTINGS)


def prepare(options: Options) -> Update | None:
    """The update ``options`` ask for (None without ``--update-baseline``); OptionError when it cannot be."""
    baseline = options.update_baseline
    if baseline is None:
        return None
    flag = f"--update-baseline {baseline.source}"
    drop = [given for name, given in options.given.items() if name in CONFLICTS]
    if drop:
        raise OptionError(
            f"{flag}: reruns with the baseline's seeds and the profile's settings; drop {', '.join(drop)}"
        )
    if baseline.profile and baseline.profile != options.profile:
        raise OptionError(f"{flag}: the baseline is profile {baseline.profile!r}; add --profile {baseline.profile}")
    seeds = {v: sorted({c.seed for c in cases if c.seed is not None}) for v, cases in baseline.by_variant().items()}
    return Update(Path(baseline.source), seeds)


def get(config: pytest.Config) -> Update | None:
    flowers = config.stash.get(KEY, None)  # none when an option stopped pytest at the start
    return flowers.update if flowers else None


def pytest_configure(config: pytest.Config) -> None:
    """After the session is made (tryfirst), before pytest-benchmark (trylast) reads ``--benchmark-json``:
    the update's checks, and a scratch file for the run when no ``--benchmark-json`` is given."""
    flowers = FlowersSession.of(config)
    try:
        flowers.update = update = prepare(flowers.options)
    except UserError as exc:
        raise pytest.UsageError(str(exc)) from None
    if update and not config.getoption("benchmark_json", None):
        update.scratch = tempfile.TemporaryDirectory(prefix="flowers-update-")
        config.option.benchmark_json = Path(update.scratch.name) / "run.json"  # the run, to splice from


@pytest.hookimpl(trylast=True)  # after the -k and -m selection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A variant must run with all of its seeds: its cases replace all of the baseline's."""
    update = get(config)
    if not update:
        return
    chosen: dict[str, set[int]] = {}
    for case in filter(None, map(variant_seed, items)):
        chosen.setdefault(case[0], set()).add(case[1])
    partial = [
        f"{v} ({len(s)} of {len(update.seeds_for(v))})" for v, s in chosen.items() if len(s) < len(update.seeds_for(v))
    ]
    if partial:
        raise pytest.UsageError(
            f"--update-baseline {update.path}: select whole variants, not some of their seeds: {', '.join(partial)}"
        )


@pytest.hookimpl(trylast=True)  # after the run record is added (flowers.training.pytest_plugin.record)
def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict[str, Any]) -> None:
    update = get(config)
    if update and update.run is None:
        update.run = copy.deepcopy(output_json)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:  # after pytest-benchmark saved
    update = get(session.config)
    if not update:
        return
    try:
        update.lines = _finish(update, exitstatus)
    except UserError as exc:  # the baseline became unreadable while the session ran: said, not a traceback
        update.lines = [f"flowers: {update.path} was not updated: {exc}"]
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    finally:
        if update.scratch is not None:
            update.scratch.cleanup()


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter):
    """What the update did, last (after the run's summary), where it is seen."""
    yield
    update = get(terminalreporter.config)
    for line in update.lines if update else ():
        terminalreporter.write_line(line)


def _finish(update: Update, exitstatus: int) -> list[str]:
    """Splice the run into the baseline when the session passed; the lines that say what happened."""
    if exitstatus != pytest.ExitCode.OK or not update.run or not update.run.get(schema.BENCHMARKS):
        return [f"flowers: {update.path} was left as it was: the session did not pass (exit {int(exitstatus)})"]
    old = read_json(update.path)
    new = merge.splice(old, update.run)
    parse_run(update.path, copy.deepcopy(new))  # a file every reader reads, or an error before writing
    atomic.write_text(update.path, json.dumps(new, indent=4))  # as pytest-benchmark writes: a diff shows the change
    run = parse_run(update.path, new)
    variants = list(dict.fromkeys(c.variant for c in parse_run("run", update.run).cases))
    return [
        f"flowers: updated {update.path}: {', '.join(variants)} rewritten from this run, "
        f"{len(set(run.variants) - set(variants))} other variant(s) as they were; review it (git diff) and commit it",
        *_accepted(parse_run(update.path, old), run, variants),
    ]


def _accepted(old: Run, new: Run, variants: Sequence[str]) -> list[str]:
    """What changed in each variant's facts (:func:`flowers.facts.differences`), one line each."""
    before, after = old.by_variant(), new.by_variant()
    lines = []
    for v in variants:
        base, cur = [c for c in before.get(v, []) if c.ok], [c for c in after.get(v, []) if c.ok]
        same = len({tuple(c.hardware.values()) for c in [*base, *cur]}) == 1
        words = [d.text for d in facts.differences(base, cur, same)] if base else ["new in the baseline"]
        lines.append(f"  {v}: " + ("; ".join(words) if words else "no fact changed (scores and times rerun)"))
    return lines
