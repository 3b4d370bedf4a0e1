"""One case's settings, resolved once (:class:`Case`): what every step of its training reads.

A :class:`~flowers.training.profiles.TrainConfig` leaves two settings open: the learning rate (the
variant's own unless given) and XLA (``"auto"``: decided by the machine, :mod:`flowers.training.xla`).
:meth:`Case.of` settles both once, from the config as the case's result records it
(:meth:`TrainConfig.for_variant <flowers.training.profiles.TrainConfig.for_variant>`), so that the
compiled training step, the feature cache and the record of how the case ran cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from flowers import schema
from flowers.registry import Variant, get_variant
from flowers.training.profiles import TrainConfig


@dataclass(frozen=True)
class Case:
    """Variant ``variant`` trained with ``config``, its open settings resolved."""

    variant: Variant
    config: TrainConfig
    learning_rate: float  # the config's, else the variant's own
    jit_compile: bool  # XLA for the training steps (and the frozen layers' features), as resolved here
    recorded: dict[str, Any]  # the config as the result records it, with the two above

    @classmethod
    def of(cls, name: str, config: TrainConfig) -> Case:
        """Variant ``name``'s case under ``config``."""
        recorded = config.for_variant(name)
        return cls(get_variant(name), config, recorded[schema.LEARNING_RATE], recorded[schema.JIT_COMPILE], recorded)

    def compile(self, model: keras.Model) -> None:
        """The suite's optimizer, loss and metrics on ``model`` (also the plain speed baseline's)."""
        model.compile(
            optimizer=keras.optimizers.get(
                {"class_name": self.config.optimizer, "config": {"learning_rate": self.learning_rate}}
            ),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=self.jit_compile,
        )
