"""Write a rendered report into a folder: the graphs first, named by a hash of their content, then
``report.md`` and ``report.html``, each atomically (:mod:`flowers.atomic`) and under a lock on the
folder, so that two reports written into one folder at once never leave a mix."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from flowers import atomic
from flowers.display import FIGURE_NAME
from flowers.report.model import Report
from flowers.report.render import render

LOCK = ".report.lock"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` for the time the files are written (POSIX; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(folder / LOCK, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write(report: Report, out_dir: str | Path, pages: dict[str, str] | None = None) -> list[Path]:
    """Write the graphs, then report.md and report.html, into ``out_dir``; return the paths written.

    Rendering happens before anything is written.  Under a lock on the folder each file is written
    atomically, graphs (named by their content hash) before the pages that reference them; graphs
    of earlier reports (``fig-<hash>.png`` not referenced now) are removed afterwards.
    """
    pages = pages or render(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with _locked(out):
        for fig in report.figures:
            atomic.write_bytes(out / fig.file, fig.png)
            written.append(out / fig.file)
        for name, text in pages.items():
            atomic.write_text(out / name, text)
            written.append(out / name)
        keep = {p.name for p in written}
        for old in out.iterdir():
            if FIGURE_NAME.match(old.name) and old.name not in keep:
                old.unlink(missing_ok=True)
    return written
