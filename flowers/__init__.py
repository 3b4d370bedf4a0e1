"""flowers-bench: reproducible transfer-learning benchmarks on tf_flowers.

Data flows one way: ``data`` -> ``models`` -> ``train`` -> result JSON (pytest-benchmark)
-> ``results`` -> ``report`` / ``check``.  ``report`` and ``check`` never import TensorFlow.
``from flowers import Variant, register`` adds your own variants (see :mod:`flowers.registry`).
"""

from flowers.registry import Original, Variant, get_variant, register

__version__ = "0.1.0"
__all__ = ["Original", "Variant", "__version__", "get_variant", "register"]
