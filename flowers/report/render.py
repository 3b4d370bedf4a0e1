"""Render the report's data model into its pages with the templates ``report.md.j2`` and
``report.html.j2`` in the Jinja2 environment of :func:`flowers.display.environment` (``report.html``
autoescaped, ``report.md`` with every value escaped by :func:`flowers.display.md_escape`)."""

from __future__ import annotations

from flowers.display import environment
from flowers.report.model import Report


def render_markdown(report: Report) -> str:
    return environment(True).get_template("report.md.j2").render(r=report)


def render_html(report: Report) -> str:
    return environment(False).get_template("report.html.j2").render(r=report)


def render(report: Report) -> dict[str, str]:
    """The pages of a report: ``{"report.md": ..., "report.html": ...}``."""
    return {"report.md": render_markdown(report), "report.html": render_html(report)}
