"""The line between a user's mistake and a bug.

:class:`UserError` is the base of every error a user can cause and fix: an option out of range, data
or weights that cannot be had, a result file or a check setting that cannot be used, a training
that diverged.  Its ``str()`` is one line naming what is wrong and the fix.  Only these become
one-line failures (a failed case, ``flowers`` exiting 2, pytest's usage error); any other exception
is a bug and keeps its traceback (in the terminal and in the failed case's record).

This module imports nothing, so that every layer, the Keras-free readers included, can raise them.
"""

from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; the message is one line naming what and how."""


class OptionError(UserError):
    """A benchmark option or setting that cannot be used (``--epochs 0``, ``--shard 3/2``)."""


class DataError(UserError):
    """Unusable data: the message names the file, folder or option and the fix."""


class DownloadError(UserError):
    """A download that cannot succeed (offline, a data folder that cannot be written)."""


class WeightsError(UserError):
    """Pretrained weights that cannot be had."""


class TrainingFailed(UserError):
    """A case whose training could not finish (a loss that became NaN); ``epoch`` where it stopped (1-based)."""

    def __init__(self, message: str, epoch: int | None = None):
        super().__init__(message)
        self.epoch = epoch


class ResultsError(UserError):
    """A result file that cannot be used."""


class SettingsError(UserError):
    """A ``[tool.flowers.check]`` setting that cannot be used."""
