"""``pytest benchmarks --shard K/N`` end to end: two real shard runs, disjoint and covering, merged into one run."""

from __future__ import annotations

import json

import pytest

from flowers import cli
from flowers.results import load_run
from tests import suite

SELECT = ("--profile", "smoke", "-k", "basic_cnn or mobilenet_v2_transfer", "--seeds", "2", "--epochs", "1")
CASES = {f"test_variant[{v}-seed={s}]" for v in ("basic_cnn", "mobilenet_v2_transfer") for s in (0, 1)}


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    paths = []
    for k in (1, 2):
        paths.append(folder / f"part-{k}.json")
        proc = suite.run(*SELECT, "--shard", f"{k}/2", "--benchmark-json", str(paths[-1]))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return paths


@pytest.mark.slow
def test_shards_are_disjoint_cover_the_selection_and_merge_into_one_run(parts, tmp_path, capsys):
    ran = [{b["name"] for b in json.loads(p.read_text())["benchmarks"]} for p in parts]
    assert ran[0] and ran[1] and not ran[0] & ran[1] and ran[0] | ran[1] == CASES
    records = [json.loads(p.read_text())["flowers"] for p in parts]
    assert [r["shard"]["index"] for r in records] == [1, 2] and records[0]["shard"]["count"] == 2
    assert records[0]["shard"]["selection"] == records[1]["shard"]["selection"]  # both computed the same split
    assert {e["name"] for e in records[0]["shard"]["selection"]} == CASES
    # the same variant's seeds have the same cost, so they are spread over both shards
    assert all(any(f"{v}-" in name for name in shard) for v in ("basic_cnn", "mobilenet_v2_transfer") for shard in ran)

    assert cli.main(["merge", *map(str, parts), "-o", str(tmp_path / "out.json")]) == 0
    merged = load_run(tmp_path / "out.json")
    assert {c.name for c in merged.cases} == CASES and all(c.ok for c in merged.cases) and merged.complete
    assert (
        max(c.metric("test_accuracy") for c in merged.cases if c.variant == "basic_cnn") > 0.5
    )  # learned (chance 0.2)


def test_bad_shard_is_a_usage_error_in_one_line():
    proc = suite.run("--profile", "smoke", "--shard", "3/2", "--collect-only", "-q")
    assert proc.returncode == 4 and "ERROR: --shard 3/2: K must be between 1 and N (here N = 2)" in proc.stderr
