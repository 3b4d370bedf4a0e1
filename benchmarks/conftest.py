"""Loads flowers-bench's pytest plugin (:mod:`flowers.training.pytest_plugin`: options, collection and shards,
fixtures, run record, signals, terminal summary) for sessions that run these benchmarks, and only
for those: the package registers no ``pytest11`` entry point, so another project's pytest run in the
same environment never loads it.

    pytest benchmarks --profile smoke --benchmark-json out.json
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything imports TensorFlow

pytest_plugins = ["flowers.training.pytest_plugin"]
