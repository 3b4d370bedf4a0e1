"""What the report tests share: the history fixtures, the variants, and readers of a report.md."""

from __future__ import annotations

import re
from pathlib import Path

from flowers import cli
from tests.factory import FIXTURES
from tests.factory import VARIANTS as FACTORY_VARIANTS

HISTORY = [FIXTURES / f"history_{i}.json" for i in (1, 2, 3)]
VARIANTS = [*FACTORY_VARIANTS, "mobilenet_v2_transfer"]


def report_md(tmp_path: Path, *paths: Path | str) -> str:
    """The report.md ``flowers report PATHS`` writes (into ``tmp_path/out``)."""
    out = tmp_path / "out"
    assert cli.main(["report", *map(str, paths), "-o", str(out), "-q"]) == 0
    return (out / "report.md").read_text()


def table_rows(md: str, first_word: str) -> list[list[str]]:
    """The cells of the Markdown table rows whose first cell's first word is ``first_word``
    (``"#"``: the history table's rows)."""
    rows = []
    for line in md.splitlines():
        if line.startswith("| ") and line.endswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            word = cells[0].split(" ")[0] if cells else ""
            if word == first_word or (first_word == "#" and re.fullmatch(r"#\d+", word)):
                rows.append(cells)
    return rows


def section(md: str, heading: str) -> str:
    """The text of the section ``## heading`` (up to the next section of its level)."""
    return md.split(f"\n## {heading}\n")[1].split("\n## ")[0]
