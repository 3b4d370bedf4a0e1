"""The variant tables of README.md and docs/variants.md are the registry's (scripts/variant_tables.py
writes them): a description, backbone, original model number or learning rate changed in
flowers/registry.py and not in a table fails here."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from flowers.registry import Original, get_variant, list_variants
from scripts import variant_tables
from tests.factory import ROOT


def test_the_tables_are_the_registrys():
    """In a fresh process: the registry as the package defines it, whatever another test registered."""
    proc = subprocess.run(
        [sys.executable, "scripts/variant_tables.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "change",
    [
        {"description": "VGG16 (frozen) + GAP + Dense512 + Dense"},
        {"backbone": "mobilenet_v2"},
        {"original": Original("2b", test_loss=0.8474, test_accuracy=0.4091)},
        {"learning_rate": 3e-4},
    ],
    ids=["description", "backbone", "original model", "learning rate"],
)
def test_a_registry_change_not_in_the_tables_is_found(change):
    variants = [get_variant(name) for name in list_variants()]
    assert variant_tables.stale(ROOT, variants) == []
    changed = [dataclasses.replace(v, **change) if v.name == "vgg16_transfer" else v for v in variants]
    assert variant_tables.stale(ROOT, changed) == list(variant_tables.FILES)


def test_a_file_without_its_markers_is_one_line_naming_it(tmp_path):
    (tmp_path / "docs").mkdir()
    for name in variant_tables.FILES:
        (tmp_path / name).write_text("# no table here\n")
    with pytest.raises(ValueError, match=r"^README.md: no variants table between .* put the two markers back$"):
        variant_tables.stale(tmp_path, [get_variant("basic_cnn")])
