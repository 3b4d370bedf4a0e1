"""How values from result files are shown, the same way by ``flowers report``, ``flowers trends`` and
``flowers check --markdown``; nothing heavy is imported until it is used (Jinja2 when a page is
rendered, matplotlib never: the graphs' modules bring it).

* Display strings: numbers, sizes, durations, dates, commits and JSON values, each formatted one
  way for every table (``fmt_*``; :data:`NONE` where there is no value), as plain text: the
  templates add the markup.
* Markdown and HTML: :func:`md_escape` shows text from a result file as literal Markdown text;
  :func:`environment` is the Jinja2 environment over the templates in ``flowers/templates/``
  (inside the package, so that a wheel carries them): HTML autoescaped, Markdown with every value
  escaped by the ``finalize`` hook.
* Graphs: the house style (:data:`STYLE`, :func:`color`), labels drawn as plain text
  (:func:`graph_label`), PNG bytes that are the same for the same graph (:func:`png`), and
  :class:`Figure`, a graph in a file named by a hash of its content (:data:`FIGURE_NAME`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flowers import schema
from flowers.stats import mean_ci95
from flowers.text import printable

if TYPE_CHECKING:
    import jinja2
    from matplotlib.figure import Figure as PlotFigure
    from matplotlib.typing import RcKeyType  # matplotlib's names of its settings (3.10+; only for type checks)

# Display strings

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


# Markdown and HTML

TEMPLATES = "templates"  # the folder inside the flowers package
_MD_SPECIAL = re.compile(r"([\\`*~\[\]<>|&$])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(value: Any) -> str:
    """Text from a result file as literal Markdown text (GitHub-flavoured), fit for a table cell.

    Markup made by a template itself (a macro's output passed through ``| safe``) is kept as is.
    """
    from markupsafe import Markup

    if isinstance(value, Markup):
        return str(value)
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def environment(markdown: bool) -> jinja2.Environment:
    """The Jinja2 environment for Markdown (``markdown=True``) or HTML pages."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("flowers", TEMPLATES),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Markdown has no autoescape: every {{ value }} goes through md_escape instead.
        finalize=md_escape if markdown else None,
    )


# Graphs

PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
DPI = 110
PLOTTABLE = 1e300  # larger magnitudes overflow matplotlib's axis arithmetic (limits, margins, ticks)
STYLE: dict[RcKeyType, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
FIGURE_NAME = re.compile(r"^fig-[0-9a-f]{16}\.png$")  # our graphs' files: the only files a page's writer removes


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def graph_label(label: str, limit: int = 40) -> str:
    """A label from a result file, made safe for matplotlib: no mathtext, no hidden legend entries,
    control characters shown as their escapes (:func:`flowers.text.printable`)."""
    label = printable(" ".join(str(label).split()))
    if len(label) > limit:
        label = label[: limit - 1] + "…"
    label = label.replace("$", r"\$")
    if label.startswith("_"):  # matplotlib hides legend labels that start with "_"
        label = "\u200b" + label
    return label


def png(fig: PlotFigure) -> bytes:
    """The figure as PNG bytes; a label's character the font lacks is drawn as a box, without
    matplotlib's warning (with its source line) in the terminal."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


@dataclass
class Figure:
    file: str  # fig-<content hash>.png, beside the page
    alt: str
    title: str
    png: bytes = field(repr=False)

    @cached_property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def figure(png: bytes, alt: str, title: str) -> Figure:
    """A graph, its file named by a hash of its content (the same graph keeps its name)."""
    return Figure(file=f"fig-{hashlib.sha256(png).hexdigest()[:16]}.png", alt=alt, title=title, png=png)
