"""flowers-bench: reproducible transfer-learning benchmarks on tf_flowers.

Data flows one way: :mod:`flowers.training` (``data`` -> ``models`` -> ``train``, run as pytest-benchmark
cases) -> result JSON (its keys in ``schema``) -> ``results`` -> ``report``, ``check``, ``trends``.  The reading
side never imports the training side, nor TensorFlow.
``from flowers import Variant, register`` adds your own variants (see :mod:`flowers.registry`).
"""

from flowers.registry import Original, Variant, get_variant, register

__version__ = "0.1.0"
__all__ = ["Original", "Variant", "__version__", "get_variant", "register"]
