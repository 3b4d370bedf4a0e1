"""Write the variant tables of README.md and docs/variants.md from the registry (flowers/registry.py).

    python scripts/variant_tables.py           # rewrite each table between its markers
    python scripts/variant_tables.py --check   # exit 1 naming each file whose table is not the registry's

Each table lists every registered variant: its name, the original experiment's model, the backbone,
the registry's description and the learning rate.  The registry is where a variant is described;
the tables are its copies, rewritten here, and tests/test_variant_tables.py fails when one differs.
Imports no Keras.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from flowers.atomic import write_text
from flowers.registry import Variant, get_backbone, get_variant, list_variants

ROOT = Path(__file__).resolve().parents[1]
FILES = ("README.md", "docs/variants.md")
BEGIN = "<!-- the variants: written by `python scripts/variant_tables.py` from flowers/registry.py -->"
END = "<!-- end of the variants -->"


def rate(value: float) -> str:
    """A learning rate as the docs write it: ``1e-4``, ``2.5e-4``, ``0.01`` → ``1e-2``."""
    mantissa, exponent = f"{value:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def row(variant: Variant) -> str:
    original = f"model {variant.original.model}" if variant.original else "—"
    backbone = get_backbone(variant.backbone).constructor.partition(":")[2] if variant.backbone else "—"
    cells = [f"`{variant.name}`", original, backbone, variant.description, rate(variant.learning_rate)]
    return "| " + " | ".join(cells) + " |"


def table(variants: Iterable[Variant]) -> str:
    """The Markdown table of ``variants``, between its markers."""
    head = ["| variant | original | backbone | architecture | learning rate |", "|---|---|---|---|--:|"]
    return "\n".join([BEGIN, "", *head, *(row(v) for v in variants), "", END])  # blank lines: Markdown's HTML blocks


def rewritten(text: str, variants: Iterable[Variant], name: str) -> str:
    """``text`` with its table replaced by that of ``variants``; ValueError when it has no markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{name}: no variants table between {BEGIN} and {END}; put the two markers back")
    return text[:start] + table(variants) + text[end + len(END) :]


def stale(root: Path, variants: list[Variant]) -> list[str]:
    """The files under ``root`` whose table is not that of ``variants``."""
    return [name for name in FILES if rewritten((root / name).read_text(), variants, name) != (root / name).read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which files differ (exit 1 if any)")
    args = parser.parse_args(argv)
    variants = [get_variant(name) for name in list_variants()]
    try:
        differ = stale(ROOT, variants)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.check:
        for name in differ:
            print(f"{name}: its variants table is not the registry's; run: python scripts/variant_tables.py")
        return 1 if differ else 0
    for name in differ:
        write_text(ROOT / name, rewritten((ROOT / name).read_text(), variants, name))
        print(f"rewrote the variants table of {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
