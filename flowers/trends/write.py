"""Write the trend page into a folder: the graphs (``fig-<content hash>.png``) first, then
``index.html``, each atomically; graphs of earlier pages that are no longer shown are removed."""

from __future__ import annotations

from pathlib import Path

from flowers import atomic
from flowers.report.render import environment
from flowers.report.write import FIGURE_NAME
from flowers.trends.page import Page
from flowers.trends.steps import BETA

PAGE = "index.html"


def render(page: Page) -> str:
    return environment(False).get_template("trends.html.j2").render(p=page, beta=f"{BETA:g}")


def write(page: Page, out_dir: str | Path) -> Path:
    """Render, then write the graphs and the page into ``out_dir``; the page's path."""
    html = render(page)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for fig in page.figures:
        atomic.write_bytes(out / fig.file, fig.png)
    atomic.write_text(out / PAGE, html)
    keep = {fig.file for fig in page.figures}
    for old in out.iterdir():
        if FIGURE_NAME.match(old.name) and old.name not in keep:
            old.unlink(missing_ok=True)
    return out / PAGE
