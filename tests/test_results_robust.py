"""The result reader against bad data: an ok case with an invalid score reads as ``invalid`` (check
fails it, ``--update-baseline`` refuses it, the report shows it); the newest file of a folder that
cannot be read stops a check; and values that could crash a reader (numbers near the largest float,
a record of the wrong type, a lone surrogate, deep nesting) give exit 0, 1 or 2 in one line.
tests/test_fuzz_results.py fuzzes the same over the whole schema."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from flowers import cli
from flowers.errors import TrainingFailed
from flowers.report import plots
from flowers.results import load_newest, load_run
from flowers.schema import INVALID
from flowers.stats import mean_sd
from flowers.training import train

FIXTURES = Path(__file__).parent / "fixtures" / "report"
ONE_RUN = json.loads((FIXTURES / "one_run.json").read_text())  # five variants, one seed each


def flowers(*argv: Any) -> tuple[int, str, str]:
    """The ``flowers`` command in this process: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def changed(edit, data: dict = ONE_RUN) -> dict:
    """A deep copy of ``data`` after ``edit(copy)``."""
    data = copy.deepcopy(data)
    edit(data)
    return data


def save(path: Path, data: dict | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def info(data: dict, index: int = 0) -> dict:
    return data["benchmarks"][index]["extra_info"]


@pytest.fixture(autouse=True)
def _away_from_repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the check's built-in thresholds


# ------------------------------------------------------------------------------------------------
# Invalid is never skipped
# ------------------------------------------------------------------------------------------------

INVALID_SCORES = [
    ("test_accuracy", math.nan, "test_accuracy is NaN, not a number in [0, 1]"),
    ("test_accuracy", math.inf, "test_accuracy is Infinity, not a number in [0, 1]"),
    ("test_accuracy", None, "test_accuracy is null, not a number in [0, 1]"),
    ("test_accuracy", "0.9", 'test_accuracy is "0.9", not a number in [0, 1]'),
    ("test_accuracy", True, "test_accuracy is true, not a number in [0, 1]"),
    ("test_accuracy", 1.5, "test_accuracy is 1.5, not a number in [0, 1]"),
    ("test_accuracy", -0.1, "test_accuracy is -0.1, not a number in [0, 1]"),
    ("test_accuracy", ..., "test_accuracy is missing"),
    ("test_loss", -math.inf, "test_loss is -Infinity, not a finite number >= 0"),
    ("test_loss", -0.5, "test_loss is -0.5, not a finite number >= 0"),
    ("test_loss", [0.4], "test_loss is [0.4], not a finite number >= 0"),
    ("test_loss", 10**400, "test_loss is " + "1" + "0" * 38 + "…, not a finite number >= 0"),
    ("test_loss", ..., "test_loss is missing"),
]


def with_score(key: str, value: Any, index: int = 0) -> dict:
    def edit(data):
        if value is ...:
            del info(data, index)[key]
        else:
            info(data, index)[key] = value

    return changed(edit)


@pytest.mark.parametrize("key, value, message", INVALID_SCORES)
def test_an_ok_case_with_an_invalid_score_reads_as_invalid(tmp_path, key, value, message):
    run = load_run(save(tmp_path / "bad.json", with_score(key, value)))
    case = run.cases[0]
    assert (case.status, case.error, case.ok) == (INVALID, message, False)
    assert all(c.ok for c in run.cases[1:])


@pytest.mark.parametrize("key, value", [("test_accuracy", math.nan), ("test_loss", "low"), ("test_accuracy", ...)])
def test_check_fails_an_invalid_case_as_missing_and_names_it(tmp_path, key, value):
    base = save(tmp_path / "base.json", ONE_RUN)
    bad = save(tmp_path / "bad.json", with_score(key, value))
    code, out, _ = flowers("check", base, bad)
    assert code == 1
    assert out.splitlines()[-1].startswith("FAIL: 1 missing of 5 variants: basic_cnn")  # then: facts not recorded
    rows = [line for line in out.splitlines() if line.startswith("basic_cnn ")]
    assert rows and all(" missing " in row and f"invalid: {key}" in row for row in rows)


def test_update_baseline_refuses_an_invalid_case(tmp_path):
    target = save(tmp_path / "baseline.json", ONE_RUN)
    bad = save(tmp_path / "bad.json", with_score("test_accuracy", math.nan))
    code, out, err = flowers("check", "--update-baseline", target, bad)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "1 case(s) not ok (seed=0: invalid: test_accuracy is NaN, not a number in [0, 1])" in err, err
    assert json.loads(target.read_text()) == ONE_RUN


def test_the_report_shows_an_invalid_case_as_invalid_not_as_a_number(tmp_path):
    bad = save(tmp_path / "bad.json", with_score("test_accuracy", 1.5))
    code, _, _ = flowers("report", bad, "-o", tmp_path / "out", "-q")
    md = (tmp_path / "out" / "report.md").read_text()
    (row,) = [line for line in md.splitlines() if line.startswith("| basic_cnn ")]
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert code == 0 and "**INVALID**" in cells[0]
    assert cells[1] == cells[4] == "—"  # test_loss and test_accuracy: no number from an invalid case
    assert "INVALID: test_accuracy is 1.5, not a number in \\[0, 1\\]" in row


def test_a_case_listed_ok_without_a_result_is_invalid(tmp_path):
    data = changed(lambda d: d["benchmarks"].pop(0))  # its record stays in flowers.cases, status ok
    (case,) = [c for c in load_run(save(tmp_path / "r.json", data)).cases if c.variant == "basic_cnn"]
    assert case.status == INVALID and "no result" in case.error


def test_training_fails_a_case_whose_evaluation_is_not_finite():
    """What evaluate returned is checked like the training loss: the case fails in one line."""
    for loss, accuracy, key in ((math.nan, 0.5, "test_loss"), (0.4, math.inf, "test_accuracy")):
        with pytest.raises(TrainingFailed, match=rf"^evaluation on the test split: {key} is \w+, not .*"):
            train._check_scores(loss, accuracy)
    train._check_scores(0.4, 0.5)  # valid scores pass


# ------------------------------------------------------------------------------------------------
# The newest run of a folder cannot be read: check stops, report skips it
# ------------------------------------------------------------------------------------------------


def storage(tmp_path: Path, *files: dict | str) -> Path:
    """A pytest-benchmark storage folder holding ``files`` as consecutive autosaves."""
    folder = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    for i, data in enumerate(files, start=1):
        if isinstance(data, dict):
            data = json.dumps({**data, "datetime": f"2026-01-0{i}T00:00:00"})
        save(folder / f"{i:04d}_c0ffee_2026010{i}_000000.json", data)
    return folder.parent


def test_check_of_a_folder_whose_newest_file_is_unreadable_exits_2_naming_it(tmp_path):
    folder = storage(tmp_path, ONE_RUN, json.dumps(ONE_RUN)[:500])
    code, out, err = flowers("check", save(tmp_path / "base.json", ONE_RUN), folder)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "0002_c0ffee_20260102_000000.json" in err and "newest result file" in err and "not valid JSON" in err
    code, _, err = flowers("report", folder, "-o", tmp_path / "out", "-q")
    assert code == 0 and "warning: skipped" in err and "0002_" in err  # the report keeps skipping it


def test_check_of_a_folder_skips_an_unreadable_older_file(tmp_path):
    folder = storage(tmp_path, "{", ONE_RUN)
    code, out, err = flowers("check", save(tmp_path / "base.json", ONE_RUN), folder)
    assert code == 0 and "0002_c0ffee" in out
    (warning,) = err.splitlines()  # one line, as flowers report prints it
    assert warning.startswith("flowers check: warning: skipped ") and "0001_c0ffee" in warning


def test_the_newest_run_is_the_latest_by_date_when_names_do_not_say(tmp_path):
    folder = tmp_path / "runs"
    save(folder / "b.json", changed(lambda d: d.update(datetime="2026-01-01T00:00:00")))
    save(folder / "a.json", changed(lambda d: d.update(datetime="2026-02-01T00:00:00")))
    assert Path(load_newest(folder).source).name == "a.json"
    save(folder / "c.json", "")  # sorts after the newest: it may be newer
    with pytest.raises(Exception, match=r"c\.json: is empty"):
        load_newest(folder)


# ------------------------------------------------------------------------------------------------
# Input that could crash a reader: exit 0, 1 or 2 in one line
# ------------------------------------------------------------------------------------------------


def two_seeds_of_loss_1e308(data: dict) -> None:
    second = copy.deepcopy(data["benchmarks"][0])
    second["name"] += "-seed1"
    second["extra_info"]["seed"] = 1
    data["benchmarks"].append(second)
    for bench in data["benchmarks"][0], second:
        bench["extra_info"]["test_loss"] = 1e308


CRASHES = {
    "two seeds of test_loss 1e308": two_seeds_of_loss_1e308,
    "history of +-1e308": lambda d: info(d).update(history={"loss": [1e308, -1e308], "val_loss": [-1e308, 1e308]}),
    "machine_info.cpu a string": lambda d: d["machine_info"].update(cpu="Xeon"),
    "machine_info.node a dict": lambda d: d["machine_info"].update(node={"a": 1}),
    "machine_info.flowers a list": lambda d: d["machine_info"].update(flowers=["cpu"]),
    "flowers.cases an int": lambda d: d["flowers"].update(cases=5),
    "flowers.profile a list": lambda d: d["flowers"].update(profile=["smoke"]),
    "commit_info.id a dict": lambda d: d["commit_info"].update(id={"sha": 1}),
    "dataset a list": lambda d: info(d).update(dataset=["synthetic"]),
    "config a string": lambda d: info(d).update(config="epochs=2"),
    "model_fingerprint a dict": lambda d: info(d).update(model_fingerprint={"a": 1}),
    "train_seconds 10**400": lambda d: info(d).update(train_seconds=10**400),
    "breakdown of 1e308 parts": lambda d: info(d).update(breakdown={"setup": 1e308, "first_epoch": 1e308}),
}


@pytest.mark.parametrize("edit", list(CRASHES.values()), ids=list(CRASHES))
def test_wrong_values_are_read_not_crashed_on(tmp_path, edit):
    base = save(tmp_path / "base.json", ONE_RUN)
    bad = save(tmp_path / "bad.json", changed(edit))
    scores = ("--metrics", "accuracy,loss")
    for argv in (
        ("check", base, bad, *scores),
        ("check", bad, base, *scores),
        ("report", base, bad, "-o", tmp_path / "out", "-q"),
    ):
        code, out, err = flowers(*argv)
        assert code == 0 or (code == 1 and "FAIL: 1 regressed" in out), (argv[0], out, err)
    code, out, err = flowers("check", base, bad, "--metrics", "time")  # a machine record it cannot read: undecided
    assert (code, err) == (0, "") or (code == 1 and out.splitlines()[-1].startswith("FAIL: ")), (out, err)


def test_two_seeds_of_loss_1e308_have_a_finite_mean(tmp_path):
    assert mean_sd([1e308, 1e308]) == (1e308, 0.0)
    assert mean_sd([1.7e308, -1.7e308]) == (0.0, math.inf)  # a spread beyond the largest float
    code, out, _ = flowers("check", *[save(tmp_path / "r.json", changed(two_seeds_of_loss_1e308))] * 2)
    assert code == 0 and "100000000" in out


def test_graphs_of_huge_values_leave_gaps():
    huge = {"loss": {"mean": [1e308, -1e308, 0.5], "low": [1e308, 0, 0], "high": [1e308, 1, 1]}}
    png = plots.curves("huge", [("", huge)])
    assert png.startswith(b"\x89PNG")


def test_a_lone_surrogate_is_kept_as_its_escape(tmp_path):
    text = json.dumps(ONE_RUN).replace('"bench-host"', '"\\ud800host"').replace('"basic_cnn"', '"basic_\\udfffcnn"')
    bad = save(tmp_path / "bad.json", text)
    run = load_run(bad)
    assert run.machine["node"] == "\\ud800host" and "basic_\\udfffcnn" in run.variants
    code, _, _ = flowers("report", bad, "-o", tmp_path / "out", "-q")
    assert code == 0 and "\\\\ud800host" in (tmp_path / "out" / "report.md").read_text()
    assert flowers("check", bad, bad)[0] == 0
    assert flowers("merge", bad, "-o", tmp_path / "merged.json")[0] == 0


@pytest.mark.parametrize("depth, message", [(100_000, "nests too deeply"), (70, "nests more than 64 levels")])
def test_json_nested_deeply_exits_2(tmp_path, depth, message):
    text = json.dumps(ONE_RUN).replace('"version": "1"', '"version": ' + "[" * depth + "]" * depth)
    bad = save(tmp_path / "bad.json", text)
    for command in ("check", "report", "merge"):
        argv = {"check": (bad, bad), "report": (bad, "-o", tmp_path / "out"), "merge": (bad, "-o", tmp_path / "m.json")}
        code, out, err = flowers(command, *argv[command])
        assert code == 2 and out == "" and err.count("\n") == 1 and message in err and str(bad) in err


MERGE_PROBLEMS = {
    "a case record lacking name": (
        lambda d: d["flowers"]["cases"][0].pop("name"),
        "flowers.cases[0] is not a case record",
    ),
    "a string for a case record": (
        lambda d: d["flowers"]["cases"].__setitem__(0, "basic_cnn"),
        "flowers.cases[0] is not a case record",
    ),
    "a text shard index": (
        lambda d: d["flowers"]["shard"].update(index="1"),
        'flowers.shard.index is "1", not a whole number from 1 to 10000',
    ),
    "a benchmark without a name": (lambda d: d["benchmarks"][0].pop("name"), "benchmarks[0] has no name"),
    "a selection that is a dict": (
        lambda d: d["flowers"]["shard"].update(selection={}),
        "flowers.shard.selection is not a list",
    ),
}


@pytest.mark.parametrize("edit, message", list(MERGE_PROBLEMS.values()), ids=list(MERGE_PROBLEMS))
def test_merge_refuses_malformed_parts_in_one_line(tmp_path, edit, message):
    from tests.test_merge import split

    first, second = split(2)
    paths = [save(tmp_path / "part1.json", changed(edit, first)), save(tmp_path / "part2.json", second)]
    code, out, err = flowers("merge", *paths, "-o", tmp_path / "out.json")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"flowers merge: error: {paths[0]}: {message}")
    assert not (tmp_path / "out.json").exists()
