"""One benchmark case per model variant (and seed): train, evaluate, record.

pytest benchmarks --profile smoke --benchmark-json out.json
"""

import time

import pytest
import tensorflow as tf

from flowers import schema
from flowers.errors import TrainingFailed, UserError
from flowers.registry import get_variant
from flowers.training import train
from flowers.training.pytest_plugin.signals import measuring


def test_variant(benchmark, variant, seed, case_inputs, progress):
    inputs = case_inputs
    benchmark.group = "variants"
    benchmark.extra_info.update(
        {
            schema.VARIANT: variant,
            schema.SEED: seed,
            schema.STATUS: schema.FAILED,
            schema.ERROR: None,
            schema.DESCRIPTION: get_variant(variant).description,
            schema.PROFILE: inputs.profile,
        }
    )
    config = inputs.config.for_variant(variant)  # recorded for failed cases too
    benchmark.extra_info.update({schema.CONFIG: config, schema.CONFIG_HASH: schema.config_hash(config)})

    def case():
        start = time.perf_counter()
        try:
            splits, cached = inputs.load_data()  # DataError: a failed case, in one line
            benchmark.extra_info[schema.DATASET] = splits.fingerprint
            loaded = time.perf_counter()
            result = train.run(
                variant,
                splits,
                inputs.config,
                progress,
                cache_memory_limit=inputs.cache_memory_limit,
                tensorboard=inputs.tensorboard,
                cache=inputs.cache,
            )
        except TrainingFailed as exc:
            return {schema.STATUS: schema.FAILED, schema.ERROR: str(exc), schema.FAILED_EPOCH: exc.epoch}
        except UserError as exc:  # only a user's mistake is one line; a bug keeps its traceback
            return {schema.STATUS: schema.FAILED, schema.ERROR: str(exc)}
        except tf.errors.ResourceExhaustedError:
            return {
                schema.STATUS: schema.FAILED,
                schema.ERROR: f"out of memory at batch size {inputs.config.batch_size}; try a smaller --batch-size",
            }
        # Where the case's time went: loading its data (or finding it loaded), then train.run's parts.
        result[schema.BREAKDOWN] = {schema.DATA_LOAD: loaded - start, **result[schema.BREAKDOWN]}
        result[schema.DATA_CACHED] = cached
        result[schema.WALL_SECONDS] = time.perf_counter() - start
        return result

    # One round: training is the measurement (the calibrating benchmark(fn) would train many times).
    with measuring(benchmark):
        result = benchmark.pedantic(case, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    if result[schema.STATUS] != schema.OK:
        pytest.fail(f"{variant}: {result[schema.ERROR]}", pytrace=False)
