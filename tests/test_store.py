"""``flowers store add``: one file per run, named by its date and commit; a duplicate, a truncated
or unreadable file, or a run that cannot name its series is refused in one line (exit 2) before
anything is written; files are created atomically and never replaced."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from flowers import atomic, cli, store
from flowers.errors import ResultsError
from flowers.results import SkippedResultWarning
from tests.factory import baseline, night, save


def stored(root: Path) -> list[str]:
    """Every file under ``root`` (temp files included), relative."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_add_places_the_run_by_series_date_and_commit(tmp_path, capsys):
    run = save(tmp_path / "out.json", night(3, commit="abcdef0123456789"))
    assert cli.main(["store", "add", str(tmp_path / "store"), str(run)]) == 0
    target = tmp_path / "store" / "smoke-cpu" / "20260103T021700Z_abcdef0123.json"
    assert stored(tmp_path / "store") == ["smoke-cpu/20260103T021700Z_abcdef0123.json"]
    assert target.read_bytes() == run.read_bytes()  # the run's own bytes: every reader reads a store
    assert capsys.readouterr().out.strip() == f"flowers store: added {target}"


def test_a_duplicate_is_refused_in_one_line_and_nothing_changes(tmp_path, capsys):
    run = save(tmp_path / "out.json", night(3))
    root = tmp_path / "store"
    assert cli.main(["store", "add", str(root), str(run)]) == 0
    before = {p: p.read_bytes() for p in root.rglob("*.json")}
    again = save(tmp_path / "again.json", night(3))  # the same night saved again (autosave and --benchmark-json)
    capsys.readouterr()
    assert cli.main(["store", "add", str(root), str(again)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already stored as" in err and "same date and commit" in err
    assert {p: p.read_bytes() for p in root.rglob("*.json")} == before


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a result"])
def test_an_unreadable_file_is_refused_and_nothing_is_written(tmp_path, capsys, damage):
    good = save(tmp_path / "good.json", night(1))
    text = save(tmp_path / "x.json", night(2)).read_text()
    bad = tmp_path / "bad.json"
    bad.write_text({"truncated": text[: len(text) // 2], "empty": "", "not a result": '{"a": 1}'}[damage])
    root = tmp_path / "store"
    assert cli.main(["store", "add", str(root), str(good), str(bad)]) == 2  # all checked before any is written
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err
    assert not root.exists() or stored(root) == []


def test_the_same_run_given_twice_is_refused(tmp_path):
    a, b = save(tmp_path / "a.json", night(4)), save(tmp_path / "b.json", night(4))
    with pytest.raises(ResultsError, match="the same run as"):
        store.add(tmp_path / "store", [a, b])
    assert not (tmp_path / "store").exists()


def test_a_profile_that_cannot_name_a_folder_is_refused(tmp_path):
    run = night(1)
    run["flowers"]["profile"] = "../../etc"
    path = save(tmp_path / "out.json", run)
    with pytest.raises(ResultsError, match="pass --series"):
        store.add(tmp_path / "store", [path])
    assert store.add(tmp_path / "store", [path], series="imported")[0].parent.name == "imported"
    with pytest.raises(ResultsError, match=r"profile '\.\./\.\./etc', but series smoke-cpu holds profile 'smoke'"):
        store.add(tmp_path / "store", [path], series="smoke-cpu")
    with pytest.raises(ResultsError, match="--series"):
        store.add(tmp_path / "store", [path], series="../x")


def test_names_sort_oldest_first_and_dates_become_utc(tmp_path):
    runs = []
    for i, when in enumerate(["2026-01-02T03:17:00+01:00", "2026-01-01T23:00:00", "2026-01-02T02:18:00Z"]):
        run = night(1, commit=f"{i}" * 40)
        run["datetime"] = when
        runs.append(save(tmp_path / f"{i}.json", run))
    names = [p.name for p in store.add(tmp_path / "store", runs)]
    assert names == [
        "20260102T021700Z_0000000000.json",
        "20260101T230000Z_1111111111.json",
        "20260102T021800Z_2222222222.json",
    ]
    assert [r.commit["id"][0] for r in store.load(tmp_path / "store")["smoke-cpu"]] == ["1", "0", "2"]


def test_create_bytes_never_replaces_a_file(tmp_path):
    target = tmp_path / "f.json"
    atomic.create_bytes(target, b"first")
    with pytest.raises(FileExistsError):
        atomic.create_bytes(target, b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp file left behind


def test_load_skips_an_unreadable_file_with_a_warning(tmp_path):
    root = tmp_path / "store"
    store.add(root, [save(tmp_path / "a.json", night(1)), save(tmp_path / "b.json", night(2))])
    broken = root / "smoke-cpu" / "20260103T021700Z_0303030303.json"
    broken.write_text('{"benchmarks": [')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = store.load(root)["smoke-cpu"]
    assert len(runs) == 2
    expected = (
        f"skipped {broken}: is not valid JSON (line 1: Expecting value; truncated?); "
        "make one with: pytest benchmarks --benchmark-json FILE"
    )
    assert [str(w.message) for w in caught if issubclass(w.category, SkippedResultWarning)] == [expected]


def test_check_reads_the_newest_run_of_a_series(tmp_path, capsys):
    root = tmp_path / "store"
    store.add(root, [save(tmp_path / "a.json", night(1)), save(tmp_path / "b.json", night(2, resnet50v2_finetune=0.2))])
    base = save(tmp_path / "base.json", baseline())
    assert cli.main(["check", str(base), str(root / "smoke-cpu"), "--metrics", "accuracy"]) == 1
    assert "resnet50v2_finetune" in capsys.readouterr().out.splitlines()[-1]
