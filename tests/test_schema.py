"""The result format's one home (flowers/schema.py): versions and migrations, the config hash, and
every result key spelled there alone."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowers import schema
from flowers.errors import ResultsError
from flowers.results import load_run
from flowers.training.profiles import TrainConfig, make_config
from tests.factory import ROOT, save, standard


def test_an_older_file_is_migrated_step_by_step_and_a_newer_one_refused(tmp_path, monkeypatch):
    """What a layout change does: SCHEMA goes up and MIGRATIONS[old] rewrites an old file."""

    def rename_profile(data):  # a made-up step from schema 1 to 2: the profile moves to a new key
        data[schema.RUN]["profile_name"] = data[schema.RUN].pop(schema.PROFILE)
        return data

    def back(data):  # and from 2 to 3, back again, so that today's reader reads the result
        data[schema.RUN][schema.PROFILE] = data[schema.RUN].pop("profile_name")
        return data

    old = save(tmp_path / "old.json", standard(profile="paper"))
    monkeypatch.setattr(schema, "SCHEMA", 3)
    monkeypatch.setattr(schema, "MIGRATIONS", {1: rename_profile, 2: back})
    assert load_run(old).profile == "paper"  # both steps ran, in order
    newer = standard()
    newer[schema.RUN][schema.SCHEMA_KEY] = 4
    with pytest.raises(ResultsError, match=r"results schema 4 is newer than this flowers-bench reads \(3\)"):
        load_run(save(tmp_path / "newer.json", newer))


def test_the_config_hash_ignores_the_seed_but_not_the_settings():
    config = make_config("smoke").for_variant("basic_cnn")
    assert schema.config_hash(config) == schema.config_hash({**config, schema.SEED: 7})
    assert schema.config_hash(config) != schema.config_hash({**config, schema.EPOCHS: 3})


def _key_literals(path: Path, keys: set[str]) -> list[str]:
    """``file:line: key`` for each string literal of ``path`` that is one of ``keys`` (docstrings and
    the text of f-strings aside)."""
    tree = ast.parse(path.read_text())
    prose = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            prose.update(id(v) for v in node.values)
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            prose.add(id(body[0].value))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in prose
        and node.value in keys
    ]


def test_every_result_key_is_spelled_in_the_schema_alone():
    """Writers and readers (the package, the benchmark cases and their plugin) name result keys from
    flowers/schema.py; the tests and the scripts that craft result files may spell them.  Checked for
    the keys no other word is spelled like (those with an underscore, and a few more); a setting's
    name is its TrainConfig field's, spelled there (and in the profiles)."""
    values = {value for name, value in vars(schema).items() if name.isupper() and isinstance(value, str)}
    settings = {f.name for f in dataclasses.fields(TrainConfig)}
    keys = {v for v in values if "_" in v} | {"benchmarks", "datetime", "breakdown", "architecture", "dataset"}
    writers = [ROOT / "benchmarks" / "conftest.py", ROOT / "benchmarks" / "test_variants.py"]
    modules = [path for path in sorted((ROOT / "flowers").rglob("*.py")) if path.name != "schema.py"] + writers
    found = [hit for path in modules for hit in _key_literals(path, keys - settings)]
    assert not found, "\n".join(found)


def test_the_schema_and_the_reader_import_no_keras():
    code = "import sys, flowers.schema, flowers.results; sys.exit(bool({'keras', 'tensorflow'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False).returncode == 0


def test_what_the_schema_lists_is_json():
    """The keys are plain strings and the records plain JSON (what a result file can hold)."""
    record = schema.run_record(
        "smoke",
        True,
        [schema.case_entry("c", "basic_cnn", 0)],
        "0123456789abcdef",
        schema.shard_record(1, 2, "flops estimate", [schema.selection_entry("c", "basic_cnn", 0, 1, 1.0)]),
    )
    assert json.loads(json.dumps(record)) == record and record[schema.SCHEMA_KEY] == schema.SCHEMA
    assert len(set(schema.CASE_KEYS)) == len(schema.CASE_KEYS)
