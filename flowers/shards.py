"""Split the selected cases into N shards: deterministic, disjoint, covering, balanced by expected cost.

``pytest benchmarks --shard K/N`` runs shard K of N (1-based).  Every shard computes the same split
from the same inputs (the selected case names and their costs), so any scheduler can start the N
processes independently: a GitHub Actions matrix, a SLURM job array, a Kubernetes Indexed Job, or N
processes on one host.

The split is longest-processing-time-first: cases in order of falling cost (ties by name) each go to
the shard with the least cost so far (ties to the lower index).  The two most expensive cases
therefore always land in different shards when N >= 2.

Costs are a previous run's recorded seconds per case (``--shard-times FILE``) where given, else an
estimate in training FLOPs (:func:`estimate_flops`) at the configured image size, from the forward
FLOPs the registry records for each built-in variant (:class:`flowers.registry.Flops`, read at any
size by :func:`flowers.cost.forward_flops`).  A variant without them (a user's) is counted on its
built model by the ``count`` function the caller passes: the pytest plugin passes the training
side's, so this module builds no model and imports no Keras.  Both are pure functions of the
variant and the image size (a count also of the TensorFlow version, which the shards of one run
share), so every shard computes the same split.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Mapping

from flowers import cost, schema, split
from flowers.errors import OptionError
from flowers.registry import AUGMENT_FACTOR, get_variant

SHARD_PATTERN = re.compile(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*")
MAX_SHARDS = schema.MAX_SHARDS
# (variant name, image size) -> forward FLOPs per image of its (frozen prefix, trainable suffix)
Count = Callable[[str, int], tuple[float, float]]


def parse(text: str) -> tuple[int, int]:
    """``"K/N"`` -> (K, N), with 1 <= K <= N <= MAX_SHARDS; OptionError with a one-line reason otherwise."""
    match = SHARD_PATTERN.fullmatch(text or "")
    if not match:
        raise OptionError(f"--shard {text}: expected K/N, e.g. 1/2 (shard K of N, counted from 1)")
    k, n = int(match[1]), int(match[2])
    if not 1 <= k <= n:
        raise OptionError(f"--shard {text}: K must be between 1 and N (here N = {n})")
    if n > MAX_SHARDS:
        raise OptionError(f"--shard {text}: at most {MAX_SHARDS} shards")
    return k, n


def assign(costs: Mapping[str, float], n: int) -> list[list[str]]:
    """The N shards (lists of case names), each in the given order of ``costs``; a pure function."""
    order = {name: i for i, name in enumerate(costs)}
    loads = [0.0] * n
    shards: list[list[str]] = [[] for _ in range(n)]
    for name in sorted(costs, key=lambda c: (-costs[c], c)):
        target = min(range(n), key=lambda i: (loads[i], i))
        shards[target].append(name)
        loads[target] += costs[name]
    return [sorted(shard, key=order.__getitem__) for shard in shards]


def shard_of(costs: Mapping[str, float], n: int) -> dict[str, int]:
    """Case name -> its shard K (1-based)."""
    return {name: k for k, shard in enumerate(assign(costs, n), start=1) for name in shard}


def fill_missing(seconds: Mapping[str, float], estimates: Mapping[str, float]) -> dict[str, float]:
    """Seconds for every case of ``estimates``: recorded where known, else the estimate converted
    with the median seconds-per-unit of the cases known in both (so both kinds of cost share units)."""
    known = [seconds[c] / estimates[c] for c in estimates if c in seconds and estimates[c] > 0]
    rate = statistics.median(known) if known else 1.0
    return {c: float(seconds[c]) if c in seconds else estimates[c] * rate for c in estimates}


def previous_seconds(path: str) -> dict[str, float]:
    """Case name -> recorded training seconds (else the timed round) of the finished cases in ``path``."""
    from flowers.results import load_run

    found = {}
    for case in load_run(path).cases:
        value = case.metric(schema.TRAIN_SECONDS) or case.stats.get(schema.MEAN)
        if case.ok and isinstance(value, (int, float)) and value > 0:
            found[case.name] = float(value)
    return found


def forward_flops(variant: str, image_size: int, count: Count | None = None) -> tuple[float, float]:
    """Forward FLOPs per image of ``variant``'s (frozen prefix, trainable suffix): the registry's
    counts where it has them, else ``count(variant, image_size)``."""
    spec = get_variant(variant)
    if spec.flops:
        return cost.forward_flops(spec.flops, image_size)
    if count is None:
        raise ValueError(f"variant {variant!r} records no FLOPs (Variant.flops): pass a count function")
    return count(variant, image_size)


def estimate_flops(
    variant: str, image_size: int, epochs: int, feature_cache: bool, count: Count | None = None
) -> float:
    """Expected FLOPs of a case per training image of the un-augmented set: :func:`flowers.cost.case_flops`
    on the variant's forward FLOPs (:func:`forward_flops`), with the held-out images of
    :mod:`flowers.split` and the augmented variant's :data:`~flowers.registry.AUGMENT_FACTOR` x
    training images."""
    spec = get_variant(variant)
    prefix, suffix = forward_flops(variant, image_size, count)
    images = {**split.per_training_image(), schema.TRAIN: AUGMENT_FACTOR if spec.augment else 1}
    return float(cost.case_flops(prefix, suffix, images, epochs, cached=feature_cache and bool(spec.frozen_until)))


def case_costs(
    cases: Iterable[tuple[str, str]], variant_cost: Callable[[str], float], seconds: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Case name -> cost, for (case name, variant) pairs: previous seconds where given, else estimates."""
    cases = list(cases)
    if seconds and all(name in seconds for name, _ in cases):
        return {name: float(seconds[name]) for name, _ in cases}
    estimates = {name: variant_cost(variant) for name, variant in cases}
    return fill_missing(seconds, estimates) if seconds else estimates
