"""The check's verdict as GitHub-flavoured Markdown, for a job summary (``$GITHUB_STEP_SUMMARY``) or
a pull-request comment: ``flowers check ... --markdown FILE``.

The same facts as the text table (:mod:`flowers.check.table`: its heading lines and summary line,
the rows of :class:`~flowers.check.comparison.Comparison`), laid out for a page: the summary first,
then the failing rows in a table of their own, then every row in a collapsed table.  Every value is
escaped as literal text (:func:`flowers.display.md_escape`): a result file cannot inject markup.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from flowers import atomic
from flowers.check.comparison import Comparison, VerdictRow
from flowers.check.table import HEADER, heading, summary
from flowers.display import md_escape

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"  # GitHub Actions' job summary file: appended to, never replaced


def _cells(row: VerdictRow) -> list[str]:
    cells = [
        md_escape(v)
        for v in (row.variant, row.metric, row.baseline, row.current, row.change, row.threshold, row.verdict, row.how)
    ]
    if row.failing:
        cells[6] = f"**{cells[6]}**"
    return cells


def _table(rows: Sequence[VerdictRow]) -> list[str]:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    return lines + ["| " + " | ".join(_cells(r)) + " |" for r in rows]


def render(comp: Comparison, title: str = "flowers check") -> str:
    """The verdict as Markdown: a heading with PASS or FAIL, the summary line, the runs compared,
    the failing rows (when any) and every row under a collapsed ``<details>``."""
    lines = [
        f"### {md_escape(title)}: {'FAIL' if comp.regressed else 'PASS'}",
        "",
        f"**{md_escape(summary(comp))}**",
        "",
    ]
    lines += [f"- {md_escape(line)}" for line in heading(comp)]
    failing = [r for r in comp.rows if r.failing]
    if failing:
        lines += ["", *_table(failing)]
    lines += ["", f"<details><summary>All {len(comp.rows)} rows</summary>", "", *_table(comp.rows), "", "</details>"]
    return "\n".join(lines) + "\n"


def write(paths: Sequence[str | os.PathLike], text: str) -> None:
    """Write ``text`` to each of ``paths`` once: appended to the job summary file named by
    ``$GITHUB_STEP_SUMMARY`` (other steps write there too), any other file replaced atomically."""
    summary = os.environ.get(SUMMARY_ENV)
    for path in dict.fromkeys(Path(p) for p in paths):
        if summary and path == Path(summary):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")
        else:
            atomic.write_text(path, text)
