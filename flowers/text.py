"""One-line messages: every error the user reads (a failed case, a bad file, a bad option) is one
line, whatever the exception's text looked like."""

from __future__ import annotations

LIMIT = 240


def one_line(value: object, limit: int = LIMIT) -> str:
    """``value`` on one line of at most ``limit`` characters.

    An exception reads ``Type: first line of its message`` (just ``Type`` without a message); any
    other value its first non-empty line; runs of whitespace become one space, and a longer text is
    cut with ``…``.
    """
    text = "" if value is None else str(value)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    first = next((line for line in lines if line), "")
    if isinstance(value, BaseException):
        first = f"{type(value).__name__}: {first}" if first else type(value).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"
