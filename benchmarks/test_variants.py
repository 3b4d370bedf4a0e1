"""One benchmark case per model variant (and seed): train, evaluate, record.

    pytest benchmarks --profile smoke --benchmark-json out.json
"""

import time

import pytest
import tensorflow as tf

from flowers import train
from flowers.errors import TrainingFailed, UserError
from flowers.registry import get_variant
from flowers.pytest_plugin import measuring


def test_variant(benchmark, variant, seed, case_inputs, progress, request):
    benchmark.group = "variants"
    benchmark.extra_info.update(variant=variant, seed=seed, status="failed", error=None,
                                description=get_variant(variant).description,
                                profile=request.config.getoption("flowers_profile") or "paper")
    run_config, load_data, cache_memory_limit, tensorboard = case_inputs()
    config = run_config.for_variant(variant)  # recorded for failed cases too
    benchmark.extra_info.update(config=config, config_hash=train.config_hash(config))

    def case():
        start = time.perf_counter()
        try:
            splits, cached = load_data()  # DataError: a failed case, in one line
            benchmark.extra_info["dataset"] = splits.fingerprint
            loaded = time.perf_counter()
            result = train.run(variant, splits, run_config, progress, cache_memory_limit=cache_memory_limit,
                               tensorboard=tensorboard)
        except TrainingFailed as exc:
            return {"status": "failed", "error": str(exc), "failed_epoch": exc.epoch}
        except UserError as exc:  # only a user's mistake is one line; a bug keeps its traceback
            return {"status": "failed", "error": str(exc)}
        except tf.errors.ResourceExhaustedError:
            return {"status": "failed", "error": f"out of memory at batch size {run_config.batch_size}; "
                                                 f"try a smaller --batch-size"}
        # Where the case's time went: loading its data (or finding it loaded), then train.run's parts.
        result["breakdown"] = {"data_load": loaded - start, **result["breakdown"]}
        result["data_cached"] = cached
        result["wall_seconds"] = time.perf_counter() - start
        return result

    # One round: training is the measurement (the calibrating benchmark(fn) would train many times).
    with measuring(benchmark):
        result = benchmark.pedantic(case, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    if result["status"] != "ok":
        pytest.fail(f"{variant}: {result['error']}", pytrace=False)
