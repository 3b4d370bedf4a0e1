"""Hostile input, one class at a time, through ``flowers check``, ``merge``, ``store add`` and
``trends`` as a user (or a careless or hostile pull request) gives it: every class gets the exit
status promised in docs/check.md and docs/failures.md in one line, no regression passes through a
hole in the input, no output line can be forged, no input is overwritten, nothing is written
outside ``-o`` or the store, and nothing hangs.  tests/test_fuzz_store.py fuzzes the same classes."""

from __future__ import annotations

import copy
import math
import os
import re
import threading
import time
from pathlib import Path

import pytest

from flowers import interrupts
from tests.factory import night, save, standard
from tests.test_merge import split
from tests.test_results_robust import flowers

pytestmark = pytest.mark.usefixtures("away_from_repo")  # the check's built-in thresholds
HANG = 10.0  # seconds after which a reader stuck on a FIFO is released (and the test fails)
# What a terminal acts on instead of showing: controls, separators, bidirectional formatting.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FORGING = ["\nPASS: nothing regressed", "\rPASS: x", "\x1b[2K\x1b[1APASS", "\u202eSSAP", "\x85PASS", "\u2028PASS"]


def one_error(code: int, out: str, err: str, command: str) -> str:
    """The one error line of an exit 2, nothing on stdout."""
    assert (code, out) == (2, ""), (code, out, err)
    assert err.count("\n") == 1 and err.startswith(f"flowers {command}: error: "), err
    assert not UNSAFE.search(err.rstrip("\n")), err
    return err.rstrip("\n")


def clean(text: str) -> None:
    """No character that acts on a terminal in any line printed."""
    assert not any(UNSAFE.search(line) for line in text.splitlines()), text


# ------------------------------------------------------------------------------------------------
# check: a regression never passes through a hole in the input
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, math.nan, "fast", 0, -5.0, [154.8]])
def test_a_current_run_without_its_throughput_is_undecided_and_fails(tmp_path, value):
    base = save(tmp_path / "base.json", standard(seeds=3))
    cur = standard()
    cur["benchmarks"][0]["extra_info"]["train_images_per_second"] = value
    code, out, _ = flowers("check", base, save(tmp_path / "cur.json", cur), "--metrics", "time")
    assert code == 1, out
    (row,) = [line for line in out.splitlines() if line.startswith("basic_cnn ")]
    assert " UNDECIDED " in row and "not recorded: no positive train_images_per_second in the current run" in row
    assert out.splitlines()[-1] == (
        "FAIL: 1 undecided of 4 variants: basic_cnn; 1 of 4 gates undecided (1 not recorded): "
        "rerun to record it, or leave time out of --metrics"
    )


@pytest.mark.parametrize("machine", [None, {}, "x86_64", {"node": "runner-1"}])
def test_a_current_run_without_its_machine_cannot_switch_the_time_gate_off(tmp_path, machine):
    base = save(tmp_path / "base.json", standard(seeds=3))
    cur = standard(ips_factor=0.2)
    if machine is None:
        del cur["machine_info"]
        cur["machine_info"] = {}
    else:
        cur["machine_info"] = machine
    cur = save(tmp_path / "cur.json", cur)
    code, out, _ = flowers("check", base, cur, "--metrics", "accuracy,loss,time")
    assert code == 1 and "4 of 12 gates undecided (4 machine unknown): compare runs that record" in out, out
    assert "machine unknown: no machine_info in the current run" in out
    assert flowers("check", base, cur, "--metrics", "accuracy,loss")[0] == 0


def test_a_baseline_without_throughput_cannot_gate_time(tmp_path):
    base = standard(seeds=3)
    for bench in base["benchmarks"]:
        del bench["extra_info"]["train_images_per_second"]
    base = save(tmp_path / "base.json", base)
    error = one_error(*flowers("check", base, save(tmp_path / "cur.json", standard()), "--metrics", "time"), "check")
    assert f"{base}: variant 'basic_cnn' records no positive throughput" in error
    assert error.endswith("or leave time out of --metrics")


@pytest.mark.parametrize("how", ["same name", "same variant and seed"])
def test_a_case_given_twice_is_not_a_seed(tmp_path, how):
    """One poor seed padded with twenty copies of a good one: the file is refused, not averaged."""
    base = save(tmp_path / "base.json", standard(seeds=3))
    cur = standard()
    cur["benchmarks"][0]["extra_info"]["test_accuracy"] = 0.45
    for i in range(20):
        copy_ = copy.deepcopy(cur["benchmarks"][0])
        copy_["extra_info"]["test_accuracy"] = 0.72
        if how == "same variant and seed":
            copy_["name"] += f"-copy{i}"
        cur["benchmarks"].append(copy_)
    cur = save(tmp_path / "cur.json", cur)
    error = one_error(*flowers("check", base, cur, "--metrics", "accuracy"), "check")
    assert error.startswith(f"flowers check: error: {cur}: holds ") and "twice (a copy is not another seed)" in error
    assert one_error(*flowers("report", cur, "-o", tmp_path / "out"), "report") and not (tmp_path / "out").exists()


@pytest.mark.parametrize("forged", FORGING)
def test_a_variant_name_cannot_print_a_line_of_its_own(tmp_path, forged):
    base = save(tmp_path / "base.json", standard(seeds=3))
    cur = standard()
    cur["benchmarks"][0]["extra_info"].update(variant="basic_cnn" + forged, test_accuracy=0.1)
    code, out, err = flowers("check", base, save(tmp_path / "cur.json", cur), "--metrics", "accuracy")
    assert code == 1 and err == ""
    clean(out)
    lines = out.splitlines()
    assert [line[:5] for line in lines if line.startswith(("PASS", "FAIL"))] == ["FAIL:"]
    assert lines[-1].startswith("FAIL: 1 missing of 5 variants: basic_cnn")
    assert len(lines) == 1 + 3 + 1 + 1 + 5 + 1 + 1  # seeds, heading, blank, header, 5 rows, blank, summary


# ------------------------------------------------------------------------------------------------
# merge
# ------------------------------------------------------------------------------------------------


def parts(tmp_path, edit=None) -> list[Path]:
    first, second = split(2)
    if edit:
        edit(first, second)
    return [save(tmp_path / "part1.json", first), save(tmp_path / "part2.json", second)]


def test_parts_without_a_run_record_are_refused_by_their_cases_profiles(tmp_path):
    def edit(first, second):
        for part in (first, second):
            del part["flowers"]
        for bench in second["benchmarks"]:
            bench["extra_info"]["profile"] = "paper"

    paths = parts(tmp_path, edit)
    error = one_error(*flowers("merge", *paths, "-o", tmp_path / "out.json"), "merge")
    assert f"{paths[1]} has profile 'paper' but {paths[0]} has 'smoke'" in error
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("index, count", [(10**400, 2), (1, 10**400), (3, 2), (1, 10_001)])
def test_a_shard_out_of_range_is_refused_in_one_line(tmp_path, index, count):
    paths = parts(tmp_path, lambda first, _: first["flowers"]["shard"].update(index=index, count=count))
    error = one_error(*flowers("merge", *paths, "-o", tmp_path / "out.json"), "merge")
    assert error.startswith(f"flowers merge: error: {paths[0]}: flowers.shard.") and len(error) < 300


@pytest.mark.parametrize("link", ["same path", "another spelling", "symlink", "hard link"])
def test_the_output_is_never_one_of_the_parts_unless_forced(tmp_path, link):
    paths = parts(tmp_path)
    before = paths[0].read_bytes()
    output = {
        "same path": paths[0],
        "another spelling": tmp_path / "." / "part1.json",
        "symlink": tmp_path / "link.json",
        "hard link": tmp_path / "hard.json",
    }[link]
    if link == "symlink":
        output.symlink_to(paths[0])
    elif link == "hard link":
        os.link(paths[0], output)
    error = one_error(*flowers("merge", *paths, "-o", output), "merge")
    assert f"-o {output} is the part {paths[0]}" in error and error.endswith("or pass --force")
    assert paths[0].read_bytes() == before
    assert flowers("merge", *paths, "-o", output, "--force")[0] == 0


def test_an_output_that_cannot_be_written_is_named_not_our_temp_file(tmp_path):
    (tmp_path / "out.json").mkdir()
    error = one_error(*flowers("merge", *parts(tmp_path), "-o", tmp_path / "out.json"), "merge")
    assert error == f"flowers merge: error: Is a directory: {tmp_path / 'out.json'}"


def test_missing_case_names_are_printed_escaped(tmp_path):
    def edit(first, second):
        for entry in first["flowers"]["shard"]["selection"]:
            if entry["shard"] == 2:
                entry["name"] += "\nflowers merge: 0 cases missing"

    code, out, err = flowers("merge", parts(tmp_path, edit)[0], "-o", tmp_path / "out.json")
    assert code == 0 and out.count("\n") == 1 and err.count("\n") == 1 and "\\nflowers merge" in err
    clean(out + err)


# ------------------------------------------------------------------------------------------------
# store add: never writes outside itself
# ------------------------------------------------------------------------------------------------


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_series_folder_that_links_outside_the_store_is_refused(tmp_path):
    outside, root = tmp_path / "outside", tmp_path / "store"
    outside.mkdir()
    root.mkdir()
    (root / "smoke-cpu").symlink_to(outside)
    run = save(tmp_path / "run.json", night(3))
    error = one_error(*flowers("store", "add", root, run), "store")
    assert f"{root / 'smoke-cpu'}: is a symbolic link to {outside}, outside the store {root}" in error
    assert files(outside) == []
    code, _, err = flowers("trends", root, "-o", tmp_path / "site", "-q")
    assert code == 2 and "warning: series smoke-cpu skipped: " in err and "outside the store" in err


def test_a_stored_file_that_is_a_dangling_link_is_named_as_such(tmp_path):
    root = tmp_path / "store"
    (root / "smoke-cpu").mkdir(parents=True)
    (root / "smoke-cpu" / "20260103T021700Z_0303030303.json").symlink_to(tmp_path / "gone.json")
    error = one_error(*flowers("store", "add", root, save(tmp_path / "run.json", night(3))), "store")
    assert f"is a symbolic link to {tmp_path / 'gone.json'}, which does not exist; remove it" in error
    assert not (tmp_path / "gone.json").exists()


DATES = {
    "year 1, positive offset": ("0001-01-01T00:00:00+05:00", 'datetime "0001-01-01T00:00:00+05:00" lies outside'),
    "year 9999, negative offset": ("9999-12-31T23:59:59-05:00", 'datetime "9999-12-31T23:59:59-05:00" lies outside'),
    "a number": (12345, "datetime 12345 is not an ISO 8601 string"),
    "null": (None, "datetime null is not an ISO 8601 string"),
    "not a date": ("Tuesday", 'datetime "Tuesday" is not ISO 8601'),
}


@pytest.mark.parametrize("value, message", list(DATES.values()), ids=list(DATES))
def test_a_date_that_names_no_file_is_one_line(tmp_path, value, message):
    run = night(3)
    run["datetime"] = value
    path = save(tmp_path / "run.json", run)
    error = one_error(*flowers("store", "add", tmp_path / "store", path), "store")
    assert error.startswith(f"flowers store: error: {path}: {message}")
    assert not (tmp_path / "store").exists()


def test_a_run_of_another_profile_is_refused_by_its_series_and_left_out_of_trends(tmp_path):
    root = tmp_path / "store"
    paper = night(9)
    paper["flowers"]["profile"] = "paper"
    paper = save(tmp_path / "paper.json", paper)
    error = one_error(*flowers("store", "add", root, paper, "--series", "smoke-cpu"), "store")
    assert "profile 'paper', but series smoke-cpu holds profile 'smoke'" in error
    assert flowers("store", "add", root, *[save(tmp_path / f"{d}.json", night(d)) for d in (1, 2, 3, 4)])[0] == 0
    stray = root / "smoke-cpu" / "20260109T021700Z_0909090909.json"
    stray.write_bytes(paper.read_bytes())  # put there by hand
    code, out, err = flowers("trends", root, "-o", tmp_path / "site")
    assert code == 0 and "4 nights" in out
    assert err == f"flowers trends: warning: skipped {stray}: profile 'paper' in series smoke-cpu of profile 'smoke'\n"


# ------------------------------------------------------------------------------------------------
# Special files named *.json: never opened, never waited on
# ------------------------------------------------------------------------------------------------


def release_after(fifo: Path, seconds: float = HANG) -> None:
    """If a reader waits on ``fifo``, give it a writer after ``seconds`` (the test then fails on time)."""

    def release():
        time.sleep(seconds)
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO: nobody is reading
        except OSError:
            return
        os.write(fd, b"{}")
        os.close(fd)

    threading.Thread(target=release, daemon=True).start()


def special(kind: str, path: Path) -> Path:
    if kind == "fifo":
        os.mkfifo(path)
        release_after(path)
    elif kind == "socket":
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:  # a folder named like a result file
        path.mkdir()
    return path


KINDS = ["fifo", "socket", "device", "folder"]
WORDS = {"fifo": "is a FIFO", "socket": "is a socket", "device": "is a character device", "folder": "is a folder"}


@pytest.mark.parametrize("kind", KINDS)
def test_special_files_are_refused_in_one_line_without_waiting(tmp_path, kind):
    path = special(kind, tmp_path / "run.json")
    good = save(tmp_path / "good.json", standard())
    start = time.monotonic()
    for command, args in [
        ("check", (good, path)),
        ("check", (path, good)),
        ("report", (path, "-o", tmp_path / "out")),
        ("merge", (path, "-o", tmp_path / "merged.json")),
        ("store", ("add", tmp_path / "store", path)),
    ]:
        error = one_error(*flowers(command, *args), command)
        assert re.search(f"{re.escape(str(path))}: ({WORDS[kind]}|folder holds no result files)", error), error
    assert time.monotonic() - start < HANG
    assert files(tmp_path) == sorted(["good.json", "run.json"])


@pytest.mark.parametrize("kind", KINDS)
def test_special_files_in_a_folder_are_skipped_with_a_warning(tmp_path, kind):
    root = tmp_path / "store"
    assert flowers("store", "add", root, *[save(tmp_path / f"{d}.json", night(d)) for d in (1, 2, 3, 4)])[0] == 0
    path = special(kind, root / "smoke-cpu" / "0_special.json")
    start = time.monotonic()
    code, out, err = flowers("trends", root, "-o", tmp_path / "site", "-q")
    assert (code, out) == (0, "") and err.count("\n") == 1 and f"warning: skipped {path}: {WORDS[kind]}" in err
    code, out, err = flowers(
        "check", save(tmp_path / "base.json", night(1)), root / "smoke-cpu", "--metrics", "accuracy"
    )
    assert code == 0 and f"warning: skipped {path}" in err, out + err
    assert time.monotonic() - start < HANG


# ------------------------------------------------------------------------------------------------
# trends: extreme values and dates, a file for a store, Ctrl-C
# ------------------------------------------------------------------------------------------------


def test_extreme_dates_are_left_out_of_the_trends_with_a_warning(tmp_path):
    root = tmp_path / "store"
    assert flowers("store", "add", root, *[save(tmp_path / f"{d}.json", night(d)) for d in (1, 2, 3, 4)])[0] == 0
    for i, (value, _) in enumerate(DATES.values()):
        run = night(10 + i)
        run["datetime"] = value
        save(root / "smoke-cpu" / f"odd{i}.json", run)
    save(root / "smoke-cpu" / "year1.json", dict(night(20), datetime="0001-01-01T00:00:00Z"))  # valid, unplottable
    code, out, err = flowers("trends", root, "-o", tmp_path / "site")
    assert code == 0 and "4 nights" in out, err
    warnings = err.splitlines()
    assert len(warnings) == len(DATES) + 1 and all(w.startswith("flowers trends: warning: ") for w in warnings)
    assert all(message in err for _, message in DATES.values())
    assert "lies outside the years 1900-9000 a trend shows; left out of the trends" in err


def test_a_file_given_as_the_store_is_said_to_be_a_file(tmp_path):
    path = save(tmp_path / "out.json", night(1))
    error = one_error(*flowers("trends", path, "-o", tmp_path / "site"), "trends")
    assert (
        error == f"flowers trends: error: {path}: is a file, not a store (a folder of series); give the store's folder"
    )


def test_deferred_signals_are_raised_at_a_checkpoint_and_a_second_one_at_once():
    import signal

    with interrupts.deferred():
        interrupts.handle(signal.SIGINT, None)  # noted
        with pytest.raises(KeyboardInterrupt, match="SIGINT"):
            interrupts.checkpoint()
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
            interrupts.handle(signal.SIGTERM, None)  # a second: at once
    interrupts.checkpoint()  # nothing pending afterwards
    assert signal.getsignal(signal.SIGINT) is not interrupts.handle


def test_an_interrupted_write_leaves_the_earlier_page(tmp_path, monkeypatch):
    """The graphs of a page whose index.html was not written are removed again."""
    from flowers import atomic

    root = tmp_path / "store"
    assert flowers("store", "add", root, *[save(tmp_path / f"{d}.json", night(d)) for d in (1, 2, 3, 4)])[0] == 0
    site = tmp_path / "site"
    assert flowers("trends", root, "-o", site, "-q")[0] == 0
    before = {p.name: p.read_bytes() for p in site.iterdir()}
    save(root / "smoke-cpu" / "20260105T021700Z_0505050505.json", night(5, resnet50v2_finetune=0.1))

    def interrupted(path, text):
        raise KeyboardInterrupt("stopped by signal SIGINT")

    with monkeypatch.context() as patch:
        patch.setattr(atomic, "write_text", interrupted)
        code, out, err = flowers("trends", root, "-o", site)
    assert (code, out) == (130, "") and err == "flowers trends: interrupted; nothing was half-written\n"
    assert {p.name: p.read_bytes() for p in site.iterdir()} == before
    code, out, _ = flowers("trends", root, "-o", site)
    assert code == 0 and "5 nights" in out and (site / "index.html").read_bytes() != before["index.html"]


def test_huge_values_and_odd_names_draw_without_a_warning(tmp_path):
    """In a subprocess: matplotlib's warnings would reach the terminal there, with their source lines."""
    from tests import suite

    root = tmp_path / "store"
    for day in (1, 2, 3, 4):
        run = night(day)
        for bench in run["benchmarks"]:
            info = bench["extra_info"]
            if info["variant"] == "basic_cnn":
                info.update(variant="basic\x1b[31m\u4e2d\u202e")
                if day == 3:  # one night far off the scale of the others
                    info.update(test_loss=1e308, train_images_per_second=1.7e308)
        save(tmp_path / f"{day}.json", run)
    assert flowers("store", "add", root, *[tmp_path / f"{d}.json" for d in (1, 2, 3, 4)])[0] == 0
    done = suite.flowers("trends", root, "-o", tmp_path / "site", cwd=tmp_path, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert re.fullmatch(r"flowers trends: 1 series, 4 nights, \d+ step\(s\) -> .*\n", done.stdout)
