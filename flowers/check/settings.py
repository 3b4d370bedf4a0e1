"""The check's settings: gate thresholds from ``[tool.flowers.check]`` in pyproject.toml.

Defaults are the documented ones (:class:`Thresholds`); the table overrides them for every variant
and ``[tool.flowers.check.variants.NAME]`` for one.  ``metrics`` names the gates a plain
``flowers check`` applies (:data:`DEFAULT_METRICS`: accuracy and loss; time only when asked).  A bad value is a one-line
:class:`~flowers.errors.SettingsError` naming the file, the table and the key.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from flowers.errors import SettingsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, as a package before Python 3.11
    import tomli as tomllib


@dataclass(frozen=True)
class Thresholds:
    """Gate settings for one variant; the defaults are the documented ones."""

    false_alarm: float = 0.02  # chance that a run with nothing changed fails, all gates together
    accuracy_tolerance: float = 0.02  # least drop in test accuracy that may count, whatever the noise
    loss_tolerance: float = 0.10  # least relative rise in test loss (of loss + 0.01) that may count
    throughput_tolerance: float = 0.15  # least relative fall in training images per second that may count
    min_timed_seconds: float = 2.0  # throughput: the first figure the baseline timed over at least this long
    short_timing_tolerance: float = 0.75  # throughput timed under min_timed_seconds: least relative fall (4x slower)


THRESHOLD_KEYS = tuple(f.name for f in fields(Thresholds))


DEFAULT_METRICS = ("accuracy", "loss")  # the gates of a plain `flowers check`: time only when asked


@dataclass
class Config:
    """``[tool.flowers.check]``: defaults plus per-variant overrides, and the gates to apply."""

    defaults: Thresholds = field(default_factory=Thresholds)
    variants: dict[str, Thresholds] = field(default_factory=dict)
    source: str = "built-in defaults"
    metrics: tuple[str, ...] = DEFAULT_METRICS  # `metrics` in the table; --metrics overrides it

    def for_variant(self, variant: str) -> Thresholds:
        return self.variants.get(variant, self.defaults)


def _thresholds(base: Thresholds, table: dict[str, Any], where: str) -> Thresholds:
    values: dict[str, float] = {}
    for key, value in table.items():
        if key not in THRESHOLD_KEYS:
            raise SettingsError(f"{where}: unknown key {key!r}; known keys: {', '.join(THRESHOLD_KEYS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SettingsError(f"{where}: {key} must be a number, not {value!r}")
        if value < 0 or (key == "false_alarm" and not 0 < value < 1):
            raise SettingsError(f"{where}: {key} = {value} is out of range (tolerances >= 0, 0 < false_alarm < 1)")
        values[key] = float(value)
    return replace(base, **values)


def parse_config(table: dict[str, Any], source: str = "pyproject.toml") -> Config:
    """Build a :class:`Config` from the ``[tool.flowers.check]`` table."""
    where = f"{source} [tool.flowers.check]"
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: must be a table")
    table = dict(table)
    variant_tables = table.pop("variants", {})
    if not isinstance(variant_tables, dict):
        raise SettingsError(f"{where}: 'variants' must be a table of tables")
    metrics = _metrics(table.pop("metrics", list(DEFAULT_METRICS)), where)
    defaults = _thresholds(Thresholds(), table, where)
    variants = {}
    for name, sub in variant_tables.items():
        sub_where = f"{source} [tool.flowers.check.variants.{name}]"
        if not isinstance(sub, dict):
            raise SettingsError(f"{sub_where}: must be a table")
        if "metrics" in sub:
            raise SettingsError(f"{sub_where}: metrics is a setting of the whole check; set it in {where}")
        variants[name] = _thresholds(defaults, sub, sub_where)
    return Config(defaults=defaults, variants=variants, source=source, metrics=metrics)


def _metrics(value: Any, where: str) -> tuple[str, ...]:
    """``metrics``: a list of gate names (or result keys), e.g. ["accuracy", "loss", "time"]."""
    from flowers.check.metrics import ALIASES, ALL_METRICS  # the gates import this module's Thresholds

    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise SettingsError(f'{where}: metrics must be a list of gate names, e.g. ["accuracy", "loss"]')
    unknown = [n for n in names if n.strip() not in ALIASES]
    if unknown:
        raise SettingsError(f"{where}: unknown metric {unknown[0]!r} in metrics; choose from {', '.join(ALL_METRICS)}")
    return tuple(dict.fromkeys(ALIASES[n.strip()] for n in names))


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` from ``start`` (default: the working folder) upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None) -> Config:
    """Read ``[tool.flowers.check]`` from ``path`` or the nearest pyproject.toml; defaults if absent."""
    path = path or find_pyproject()
    if path is None:
        return Config()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file; give --config a pyproject.toml") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot be read as TOML ({exc}); fix the file") from None
    table = data.get("tool", {}).get("flowers", {}).get("check")
    if table is None:
        return Config(source=f"{path} (no [tool.flowers.check]: defaults)")
    return parse_config(table, str(path))
