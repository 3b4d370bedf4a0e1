"""What a session computes once and its cases reuse (:class:`SessionCache`): compiled models and FLOP counts.

One object holds both, for as long as the session that made it: the pytest plugin keeps one per
pytest session; :func:`flowers.training.train.run` called without one makes its own, so a direct
call reuses nothing from an earlier one unless it is given the same cache.  Imports nothing heavy,
so that the plugin can make it when pytest starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras
    import numpy as np

# (variant's head, trainable part's fingerprint, input shape, optimizer, learning rate, XLA, dtype policy)
CompileKey = tuple[str, str, tuple[int | None, ...], str, float, bool, str]
FlopsKey = tuple[str, str | None]  # (architecture's fingerprint, last frozen layer)


class SessionCache:
    """The compiled models (:func:`flowers.training.reuse.compiled`) and forward FLOP counts
    (:func:`flowers.training.work.forward_flops`) of one session's cases."""

    def __init__(self) -> None:
        # A compiled model and its optimizer's variables as built, by what makes one reusable for another case
        self.models: dict[CompileKey, tuple[keras.Model, list[np.ndarray]]] = {}
        # Forward FLOPs per image of (frozen prefix, trainable suffix), counted once per architecture
        self.flops: dict[FlopsKey, tuple[int, int]] = {}

    def forget_models(self) -> None:
        """Forget the compiled models (the next case of each architecture compiles anew); FLOP counts stay."""
        self.models.clear()
