"""Display strings: numbers, sizes, durations, dates, commits and JSON values as the report shows
them, each formatted one way for every table.  Markup is not made here (see :mod:`.render`)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from flowers import schema
from flowers.stats import mean_ci95

NONE = "—"  # shown where there is no value


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return NONE
    if s < 100:
        return f"{s:.1f} s"
    m, sec = divmod(round(s), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def fmt_bytes(b: float | None) -> str:
    if b is None:
        return NONE
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= size:
            return f"{b / size:.1f} {unit}" if b / size < 100 else f"{b / size:.0f} {unit}"
    return f"{int(b)} B"


def fmt_int(v: float | None) -> str:
    return NONE if v is None else f"{int(v):,}"


def fmt_rate(v: float | None) -> str:
    """Images per second."""
    return NONE if v is None else f"{v:,.1f}"


def fmt_value(v: Any, limit: int = 120) -> str:
    """A config or dataset value as text: strings as they are, everything else as JSON; on one line
    of at most ``limit`` characters (all of its lines joined: a value is shown whole, not its first line)."""
    if isinstance(v, str):
        text = v
    elif isinstance(v, float) and math.isfinite(v):
        text = repr(v)
    else:
        try:
            text = json.dumps(v, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError):
            text = str(v)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt_date(value: str) -> str:
    if not value:
        return "unknown"
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return fmt_value(value, 40)
    offset = d.utcoffset()
    if offset is None or offset.total_seconds() == 0:
        return d.strftime("%Y-%m-%d %H:%M:%S UTC")
    return d.strftime("%Y-%m-%d %H:%M:%S UTC%z")


def fmt_commit(commit: dict[str, Any]) -> str:
    cid = commit.get(schema.COMMIT_ID)
    if not cid:
        return "unknown (not a git checkout?)"
    text = fmt_value(cid)[:10]
    return text + (" (dirty)" if commit.get(schema.COMMIT_DIRTY) else "")


def fmt_stat(values: list[float]) -> str:
    """The mean over seeds, with the half-width of its 95% interval when there are several."""
    if not values:
        return NONE
    mean, half = mean_ci95(values)
    return f"{mean:.4f}" if half is None else f"{mean:.4f} ± {half:.4f}"


def fmt_span(values: list[int]) -> str:
    """``3``, or ``2–4`` for a range of values (epochs of several seeds)."""
    values = sorted(set(values))
    if not values:
        return NONE
    return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"
