"""flowers-bench: reproducible transfer-learning benchmarks on tf_flowers.

Data flows one way: ``data`` -> ``models`` -> ``train`` -> result JSON (pytest-benchmark)
-> ``results`` -> ``report`` / ``check``.  ``report`` and ``check`` never import TensorFlow.
"""

__version__ = "0.1.0"
