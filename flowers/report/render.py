"""Render the report's data model into its pages with the Jinja2 templates in ``flowers/templates/``
(inside the package, so that a wheel carries them): ``report.html`` autoescaped, ``report.md`` with
every value escaped by the environment's ``finalize`` hook (:func:`md_escape`)."""

from __future__ import annotations

import re
from typing import Any

from flowers.report.model import Report

TEMPLATES = "templates"  # the folder inside the flowers package
_MD_SPECIAL = re.compile(r"([\\`*~\[\]<>|&$])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(value: Any) -> str:
    """Text from a result file as literal Markdown text (GitHub-flavoured), fit for a table cell.

    Markup made by the template itself (a macro's output passed through ``| safe``) is kept as is.
    """
    from markupsafe import Markup

    if isinstance(value, Markup):
        return str(value)
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def environment(markdown: bool):
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


def render_markdown(report: Report) -> str:
    return environment(True).get_template("report.md.j2").render(r=report)


def render_html(report: Report) -> str:
    return environment(False).get_template("report.html.j2").render(r=report)


def render(report: Report) -> dict[str, str]:
    """The pages of a report: ``{"report.md": ..., "report.html": ...}``."""
    return {"report.md": render_markdown(report), "report.html": render_html(report)}
