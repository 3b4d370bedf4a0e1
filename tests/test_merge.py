"""``flowers merge``: shard parts back into one run that report and check accept; bad parts exit 2 in one line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from flowers import check, cli, report, shards
from flowers.results import load_run
from tests.factory import FIXTURES, fixture

FIXTURE = FIXTURES / "one_run.json"


def split(n=2, machines=None) -> list[dict]:
    """The fixture run cut into n shard parts as ``pytest benchmarks --shard K/n`` records them."""
    run = fixture("one_run.json")
    costs = {b["name"]: b["extra_info"]["train_seconds"] for b in run["benchmarks"]}
    owner = shards.shard_of(costs, n)
    selection = [
        {"name": c["name"], "variant": c["variant"], "seed": c["seed"], "shard": owner[c["name"]]}
        for c in run["flowers"]["cases"]
    ]
    parts = []
    for k in range(1, n + 1):
        part = copy.deepcopy(run)
        part["benchmarks"] = [b for b in run["benchmarks"] if owner[b["name"]] == k]
        part["flowers"].update(
            cases=[c for c in run["flowers"]["cases"] if owner[c["name"]] == k],
            config_hash="c0ffee",
            shard={"index": k, "count": n, "selection": selection},
        )
        if machines:
            part["machine_info"]["node"] = machines[k - 1]
        parts.append(part)
    return parts


def write(tmp_path, parts) -> list[Path]:
    paths = []
    for k, part in enumerate(parts, start=1):
        paths.append(tmp_path / f"part{k}.json")
        paths[-1].write_text(json.dumps(part))
    return paths


def flowers(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_merged_parts_are_one_run_that_report_and_check_accept(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # built-in check thresholds
    paths = write(tmp_path, split(2, machines=["gpu-a", "gpu-b"]))
    code, out, _ = flowers(capsys, "merge", *paths, "-o", tmp_path / "out.json")
    assert code == 0 and "5 cases from 2 parts" in out
    merged = load_run(tmp_path / "out.json")
    assert sorted(c.name for c in merged.cases) == sorted(b["name"] for b in fixture("one_run.json")["benchmarks"])
    assert merged.complete and merged.profile == "smoke"
    assert {c.info["machine_info"]["node"] for c in merged.cases} == {"gpu-a", "gpu-b"}
    assert merged.machine["node"] == "gpu-a + gpu-b"  # time is not compared against one machine's baseline
    assert {c.info["shard"] for c in merged.cases} == {"1/2", "2/2"}
    comparison = check.compare(load_run(FIXTURE), merged)
    assert not comparison.regressed and {r.verdict for r in comparison.rows} >= {"ok"}
    built = report.build([merged])
    assert len(built.groups) == 1 and len(built.groups[0].rows) == 5


def test_a_missing_shard_is_reported_as_missing_cases(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = write(tmp_path, split(2))
    code, _, err = flowers(capsys, "merge", first, "-o", tmp_path / "out.json")
    absent = [b["name"] for b in json.loads(second.read_text())["benchmarks"]]
    assert code == 0 and f"{len(absent)} cases missing" in err and all(name in err for name in absent)
    merged = load_run(tmp_path / "out.json")
    assert not merged.complete
    assert sorted(c.name for c in merged.cases if c.status == "missing") == sorted(absent)
    code, out, _ = flowers(capsys, "check", FIXTURE, tmp_path / "out.json")
    assert code == 1 and "missing" in out


@pytest.mark.parametrize(
    "spoil, expected",
    [
        (lambda parts: parts[1]["flowers"].update(profile="paper"), "has profile 'paper' but"),
        (lambda parts: parts[1]["flowers"].update(config_hash="beef"), "has configuration 'beef' but"),
        (lambda parts: parts[1]["commit_info"].update(id="0" * 40), "has commit (id, dirty)"),
        (lambda parts: parts[1]["benchmarks"].append(parts[0]["benchmarks"][0]), "is in both"),
    ],
)
def test_parts_of_different_runs_exit_2_in_one_line(tmp_path, capsys, spoil, expected):
    parts = split(2)
    spoil(parts)
    code, out, err = flowers(capsys, "merge", *write(tmp_path, parts), "-o", tmp_path / "out.json")
    assert code == 2 and expected in err and err.count("\n") == 1 and not out
    assert not (tmp_path / "out.json").exists()


def test_the_same_part_twice_and_a_truncated_part_exit_2(tmp_path, capsys):
    first, second = write(tmp_path, split(2))
    out = tmp_path / "out.json"
    out.write_text("kept")
    code, _, err = flowers(capsys, "merge", first, first, "-o", out)
    assert code == 2 and "is in both" in err and err.count("\n") == 1
    second.write_text(second.read_text()[:200])
    code, _, err = flowers(capsys, "merge", first, second, "-o", out)
    assert code == 2 and str(second) in err and "truncated" in err and err.count("\n") == 1
    assert out.read_text() == "kept"  # nothing overwritten
