"""Write the trend page into a folder: the graphs (``fig-<content hash>.png``) first, then
``index.html``, each atomically; graphs of earlier pages that are no longer shown are removed.

The folder holds the earlier page or the whole new one, never a mix: until the new ``index.html``
is in place the earlier page and its graphs are untouched, and when writing stops before that
(an error, a second Ctrl-C) the graphs this write added are removed again.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from flowers import atomic
from flowers.display import FIGURE_NAME, environment
from flowers.trends.page import Page
from flowers.trends.steps import BETA

PAGE = "index.html"


def render(page: Page) -> str:
    return environment(False).get_template("trends.html.j2").render(p=page, beta=f"{BETA:g}")


def _written(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False


def write(page: Page, out_dir: str | Path) -> Path:
    """Render, then write the graphs and the page into ``out_dir``; the page's path."""
    html = render(page)
    out = Path(out_dir)
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    added: list[Path] = []
    try:
        for fig in page.figures:
            if not (out / fig.file).exists():
                added.append(out / fig.file)
            atomic.write_bytes(out / fig.file, fig.png)
        atomic.write_text(out / PAGE, html)
    except BaseException:
        if not _written(out / PAGE, html):  # the earlier page (or none) stays, without this write's graphs
            for path in added:
                path.unlink(missing_ok=True)
            if made:
                with contextlib.suppress(OSError):
                    out.rmdir()
        raise
    keep = {fig.file for fig in page.figures}
    for old in out.iterdir():
        if FIGURE_NAME.match(old.name) and old.name not in keep:
            old.unlink(missing_ok=True)
    return out / PAGE
