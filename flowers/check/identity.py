"""The check's fact gate: what each variant *is* (:mod:`flowers.facts`: model, preprocessing, weights,
config, data, work done) compared exactly with the baseline's, for every variant whatever
``--metrics`` says.  A difference is a ``CHANGED`` row of its own, ``fact before → after``, and fails
the check whatever the scores did: these facts are deterministic, so a difference is never noise.
How a case ran (XLA, oneDNN, mixed precision, device) is compared only between cases of one kind of
machine.  A side that records no facts (an older file, or one they were taken out of) cannot be
compared: an ``UNDECIDED`` row says so, which fails like any gate that cannot decide.

Accepting a change on purpose is one command, :func:`accept_command`: the suite reruns the changed
variants with the baseline's seeds and splices their cases into the baseline
(:mod:`flowers.training.pytest_plugin.update`), so a pull request's diff of the baseline shows what was accepted.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence

from flowers import facts
from flowers.check.metrics import CHANGED, UNDECIDED
from flowers.registry import list_variants
from flowers.results import Case

FACTS = "facts"  # the metric column of the row saying that a side records no facts
NOT_RECORDED = "facts not recorded"  # the start of that row's reason (the summary counts undecided rows by it)
IN_BASELINE = "the baseline records no"  # facts.unrecorded's words for a baseline without them


def verdicts(base: Sequence[Case], cur: Sequence[Case], same_machine: bool) -> list[tuple[str, str, str, str]]:
    """(metric, verdict, how, fix) of each fact row of one variant: one ``CHANGED`` row per
    difference, and an ``UNDECIDED`` row when a side records no facts of a kind."""
    rows = [(d.fact, CHANGED, d.text, "") for d in facts.differences(base, cur, same_machine)]
    lacking = facts.unrecorded(base, cur, same_machine)
    if lacking:
        how = f"{NOT_RECORDED}: {lacking} (a file made before they were, or edited); not compared"
        fix = "record them in the baseline with the command above" if IN_BASELINE in lacking else ""
        fix = fix or "rerun the current run with this flowers-bench, which records them"
        rows.append((FACTS, UNDECIDED, how, fix))
    return rows


def selection(variants: Sequence[str], known: Iterable[str]) -> str:
    """A ``-k`` expression that selects exactly ``variants``' cases (``test_variant[NAME-seed=K]``):
    a name that is part of another's (``resnet50v2_finetune`` of ``resnet50v2_finetune_aug``) is
    matched with the ``-seed`` that follows it in a case's id."""
    others = set(known) | set(variants)
    words = [v if not any(v in o and v != o for o in others) else f"{v}-seed" for v in variants]
    return " or ".join(words)


def accept_command(baseline: str, profile: str | None, variants: Sequence[str], known: Iterable[str] = ()) -> str:
    """The one command that reruns ``variants`` with ``baseline``'s seeds and rewrites their cases there."""
    options = [*(["--profile", profile] if profile else []), "--update-baseline", baseline]
    return "pytest benchmarks " + shlex.join([*options, "-k", selection(variants, [*known, *list_variants()])])
