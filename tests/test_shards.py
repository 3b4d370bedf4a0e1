"""The shard split (flowers/shards.py): deterministic, disjoint, covering, cost-balanced."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from flowers import cost, shards
from flowers.errors import OptionError
from flowers.registry import Flops, get_variant, list_variants
from tests.factory import make_case, make_run, write

# FLOPs per training image of the smoke profile's cases (an estimate at 32 px, 2 epochs, with the feature
# cache): realistic proportions for the split's tests.
SMOKE = {
    "basic_cnn": 4.03e7,
    "vgg16_transfer": 7.91e8,
    "resnet50v2_finetune": 6.69e8,
    "resnet50v2_finetune_aug": 3.2e9,
    "mobilenet_v2_transfer": 1.59e7,
}


def paper_cases(seeds=3):
    return {f"test_variant[{v}-seed={s}]": cost for v, cost in SMOKE.items() for s in range(seeds)}


@pytest.mark.parametrize("text, expected", [("1/2", (1, 2)), ("2/2", (2, 2)), (" 3 / 8 ", (3, 8))])
def test_parse(text, expected):
    assert shards.parse(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "2", "a/b", "", "1/2/3"])
def test_parse_rejects_in_one_line(text):
    with pytest.raises(OptionError, match="--shard") as info:
        shards.parse(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 20])
def test_shards_are_disjoint_and_cover_every_case(n):
    costs = paper_cases()
    parts = shards.assign(costs, n)
    assert len(parts) == n
    flat = list(itertools.chain.from_iterable(parts))
    assert sorted(flat) == sorted(costs) and len(flat) == len(set(flat))


def test_split_is_deterministic_whatever_the_order_of_equal_costs():
    costs = {f"case{i}": 1.0 for i in range(9)}
    reordered = dict(reversed(list(costs.items())))
    assert shards.shard_of(costs, 4) == shards.shard_of(reordered, 4)
    assert shards.assign(costs, 2) == [
        ["case0", "case2", "case4", "case6", "case8"],
        ["case1", "case3", "case5", "case7"],
    ]


def test_the_two_resnet_cases_land_in_different_shards():
    owner = shards.shard_of(dict(SMOKE), 2)
    assert owner["resnet50v2_finetune"] != owner["resnet50v2_finetune_aug"]


def test_balanced_within_the_largest_case():
    costs = paper_cases()
    loads = [sum(costs[c] for c in part) for part in shards.assign(costs, 3)]
    # LPT's guarantee: no shard exceeds the ideal share by more than the largest single case.
    assert max(loads) - sum(loads) / 3 <= max(costs.values())
    assert max(loads) / min(loads) < 1.6


def test_previous_times_take_precedence_and_unknown_cases_are_scaled():
    estimates = {"a": 10.0, "b": 20.0, "c": 40.0}
    seconds = {"a": 1.0, "b": 2.0}
    costs = shards.case_costs(
        [("a", "x"), ("b", "y"), ("c", "z")], {"x": 10.0, "y": 20.0, "z": 40.0}.__getitem__, seconds
    )
    assert costs == {"a": 1.0, "b": 2.0, "c": 4.0}
    assert shards.fill_missing(seconds, estimates) == costs
    # previous times alone decide when they cover every case: here "a" is the slow one
    assert shards.case_costs([("a", "x"), ("b", "y")], pytest.fail, {"a": 9.0, "b": 1.0}) == {"a": 9.0, "b": 1.0}


def test_previous_seconds_read_from_a_result_file(tmp_path):
    ok = make_case("basic_cnn")
    ok["extra_info"]["train_seconds"] = 3.0
    failed = make_case("vgg16_transfer", status="failed", error="out of memory")  # timed, but not a case's time
    path = write(tmp_path, "prev.json", make_run([ok, failed]))
    assert shards.previous_seconds(str(path)) == {ok["name"]: 3.0}


def test_the_estimate_reads_the_registry_counts_without_building_a_model():
    estimates = {v: shards.estimate_flops(v, 32, 2, feature_cache=False, count=pytest.fail) for v in SMOKE}
    # per training image, 2 epochs of (forward + 2x backward) and the 1/8 validation images, the 1/8 test images once
    assert estimates["basic_cnn"] == (2 * (3 + 1 / 8) + 1 / 8) * 6_721_054
    # the augmented variant trains on 5x the images of the same model
    assert 4 * estimates["resnet50v2_finetune"] < estimates["resnet50v2_finetune_aug"]
    cached = shards.estimate_flops("vgg16_transfer", 32, 2, feature_cache=True)
    assert cached < 0.6 * estimates["vgg16_transfer"]  # the frozen backbone runs once per image, not in every pass
    assert shards.estimate_flops("basic_cnn", 32, 2, feature_cache=True) == estimates["basic_cnn"]  # nothing frozen


def test_between_and_beyond_the_counted_sizes_the_counts_scale_with_the_pixels():
    counted = Flops((32, 160), prefix=(1024, 25600), suffix=(100 + 1024, 100 + 25600))
    assert cost.forward_flops(counted, 32) == (1024, 1124)
    assert cost.forward_flops(counted, 64) == pytest.approx((4096, 4196))
    assert cost.forward_flops(counted, 320) == pytest.approx((102400, 102500))
    with pytest.raises(ValueError, match="sizes"):
        Flops((64, 64), (1, 1), (1, 1))


def test_a_variant_without_counts_is_counted_by_the_callers_function(monkeypatch):
    user_variant = dataclasses.replace(get_variant("basic_cnn"), name="uncounted", flops=None)
    monkeypatch.setattr(shards, "get_variant", {"uncounted": user_variant}.__getitem__)
    calls = []

    def count(variant, image_size):
        calls.append((variant, image_size))
        return 0.0, 10.0

    assert shards.estimate_flops("uncounted", 48, 1, feature_cache=False, count=count) > 0
    assert calls == [("uncounted", 48)]
    with pytest.raises(ValueError, match=r"uncounted.*count"):
        shards.estimate_flops("uncounted", 48, 1, feature_cache=False)


@pytest.mark.slow
@pytest.mark.parametrize("image_size", [32, 64, 160])
def test_the_registry_counts_match_the_models_counted_flops(image_size):
    """Each built-in model's forward FLOPs, counted on its graph, against the registry's estimate:
    within 0.1% at these sizes (multiples of 32 px, where the estimate is exact)."""
    import keras

    from flowers.training.work import prefix_suffix_flops

    models = {get_variant(v).flops: v for v in list_variants() if get_variant(v).flops}  # one per model
    for counted, name in models.items():
        flops = prefix_suffix_flops(name, 5, image_size)
        keras.backend.clear_session()
        assert cost.forward_flops(counted, image_size) == pytest.approx(flops, rel=1e-3, abs=1), name
