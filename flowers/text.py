"""Text for the terminal: every error the user reads (a failed case, a bad file, a bad option) is
one line, whatever the exception's text looked like, and no string from a result file can act on
the terminal instead of being shown.

A string read from a file can hold a newline (and so print a line of its own: a forged ``PASS:``
after the real ``FAIL:``), a carriage return or an ANSI escape sequence (that overwrite what was
printed), or a bidirectional override (that shows text in another order than it is read, as in
"Trojan Source", CVE-2021-42574).  :func:`printable` writes each such character as its escape, so
what the terminal shows is what the file holds, one line per line we print.
"""

from __future__ import annotations

import re

LIMIT = 240
# Characters a terminal acts on instead of showing: C0 and C1 controls (newline, carriage return,
# escape, tab...) and DEL; the line and paragraph separators; the bidirectional marks, embeddings,
# overrides and isolates; and lone surrogates (a file name's undecodable bytes), which no UTF-8
# terminal can be sent.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(value: object) -> str:
    """``value`` as text a terminal shows as it is: each control, separator, bidirectional or
    surrogate character written as its escape (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return UNSAFE.sub(_escape, "" if value is None else str(value))


def one_line(value: object, limit: int = LIMIT) -> str:
    """``value`` on one line of at most ``limit`` characters, :func:`printable`.

    An exception reads ``Type: first line of its message`` (just ``Type`` without a message); any
    other value its first non-empty line; runs of whitespace become one space, and a longer text is
    cut with ``…``.
    """
    text = "" if value is None else str(value)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    first = printable(next((line for line in lines if line), ""))
    if isinstance(value, BaseException):
        first = f"{type(value).__name__}: {first}" if first else type(value).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"
