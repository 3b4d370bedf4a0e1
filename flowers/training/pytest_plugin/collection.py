"""Which cases run: one per variant and seed, the side-by-side speed group only when asked for, the
image size checked against every selected variant, the downloads they need, and ``--shard K/N``.

A session whose cases all need data or weights that must be downloaded and cannot be (offline) would
fail every case alike, and replace an earlier ``--benchmark-json`` file with a run of failures: it is
one usage error instead (exit 4), before any case runs and before anything is written.
"""

from __future__ import annotations

import functools

import pytest

from flowers import schema, shards
from flowers.errors import UserError
from flowers.registry import get_backbone, get_variant, list_variants
from flowers.training.pytest_plugin.session import FlowersSession


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not {"variant", "seed"} <= set(metafunc.fixturenames):
        return
    flowers = FlowersSession.of(metafunc.config)
    cases = [(v, s) for v in list_variants() for s in flowers.seeds_for(v)]
    metafunc.parametrize(("variant", "seed"), cases, ids=[f"{v}-seed={s}" for v, s in cases])


@pytest.hookimpl(trylast=True)  # after -k/-m deselection, so that the checks and the shards see what is left
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The side-by-side speed cases are slow: they run only when asked for (-k speed or -m speed)."""
    if "speed" not in (config.getoption("keyword") or "") + (config.getoption("markexpr") or ""):
        _deselect(config, items, [item for item in items if not item.get_closest_marker("speed")])
    _check_image_size(config, items)
    shard = FlowersSession.of(config).options.shard
    if shard:
        _select_shard(config, items, *shard)
    if not config.getoption("collectonly"):
        _check_downloads(config, items)


def _deselect(config: pytest.Config, items: list[pytest.Item], keep: list[pytest.Item]) -> None:
    deselected = [item for item in items if item not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = keep


def variant_of(item: pytest.Item) -> str | None:
    """The variant a case trains (a variant case or a speed case), else None."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return params.get("variant")


def variant_seed(item: pytest.Item) -> tuple[str, int] | None:
    """(variant, seed) of a variant case, else None."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return (params["variant"], params["seed"]) if {"variant", "seed"} <= set(params) else None


def _check_image_size(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A usage error when the image size is below what a selected variant needs."""
    size = FlowersSession.of(config).run_config.image_size
    selected = dict.fromkeys(v for v in map(variant_of, items) if v)
    small = {v: get_variant(v).min_image_size for v in selected if size < get_variant(v).min_image_size}
    if small:
        need = max(small.values())
        raise pytest.UsageError(
            f"--image-size {size}: {', '.join(small)} need{'s' * (len(small) == 1)} at least "
            f"{need} px; use --image-size {need} or leave {'it' if len(small) == 1 else 'them'} "
            "out with -k"
        )


def _check_downloads(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A usage error when the selected variant cases need tf_flowers or ImageNet weights that are not
    on disk and cannot be downloaded (:mod:`flowers.training.downloads`: a few seconds' probe, once)."""
    from flowers.training import downloads

    flowers = FlowersSession.of(config)
    variants = dict.fromkeys(case[0] for case in map(variant_seed, items) if case)
    settings = {v: flowers.config_for(v) for v in variants}
    imagenet = {
        name: get_backbone(name).files
        for v, c in settings.items()
        if c.weights == "imagenet" and (name := get_variant(v).backbone)
    }
    try:
        if any(c.data == "tf_flowers" for c in settings.values()):
            downloads.check_tfds("tf_flowers")
        downloads.check_imagenet(imagenet)
    except UserError as exc:
        raise pytest.UsageError(str(exc)) from None


def count_flops(variant: str, image_size: int) -> tuple[int, int]:
    """Forward FLOPs of a variant whose registry entry has no counts (a user's), on its built model."""
    import keras

    from flowers.training import work

    flops = work.prefix_suffix_flops(variant, 5, image_size)  # 5 classes, as the registry's counts
    keras.backend.clear_session()
    return flops


def _select_shard(config: pytest.Config, items: list[pytest.Item], k: int, n: int) -> None:
    """``--shard K/N``: keep this shard's variant cases (other tests stay in shard 1)."""
    flowers = FlowersSession.of(config)
    run_config, seconds = flowers.run_config, flowers.options.shard_times
    cases = {item.name: case for item in items if (case := variant_seed(item))}

    @functools.cache
    def variant_cost(variant: str) -> float:
        epochs = flowers.config_for(variant).epochs  # a profile may set a variant's own
        return shards.estimate_flops(variant, run_config.image_size, epochs, run_config.feature_cache, count_flops)

    costs = shards.case_costs(((name, case[0]) for name, case in cases.items()), variant_cost, seconds)
    owner = shards.shard_of(costs, n)
    selection = [schema.selection_entry(name, *case, owner[name], costs[name]) for name, case in cases.items()]
    flowers.shard = schema.shard_record(k, n, "previous run" if seconds else "flops estimate", selection)
    _deselect(
        config, items, [item for item in items if (item.name not in cases and k == 1) or owner.get(item.name) == k]
    )
