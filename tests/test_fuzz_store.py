"""Fuzz ``flowers merge``, ``flowers store add`` and ``flowers trends`` with Hypothesis, as
tests/test_fuzz_results.py fuzzes the readers: names holding control characters (newlines, carriage
returns, ANSI escapes, bidirectional overrides), dates from year 1 to 9999 with any offset, numbers
instead of dates, extreme and non-finite figures, and special files (FIFO, socket, device, folder,
dangling link) named ``*.json``.  Whatever the input: exit 0 or 2, an error in one line, every line
printed is one of the command's own with nothing in it that acts on a terminal, no input file
changed, nothing written outside ``-o`` or the store, and no wait on a FIFO.

Deterministic in CI: ``derandomize=True`` and no example database, as in test_fuzz_results.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
import threading
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from flowers.results import SkippedResultWarning
from tests.factory import save, seeded
from tests.test_fuzz_results import FUZZ
from tests.test_merge import split
from tests.test_results_robust import flowers

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HANG = 10.0  # a FIFO gets a writer after this long: a reader stuck on it ends (and the test fails on time)

# Names: any text, with the characters that forge or hide a line mixed in.
TRICKS = ["\n", "\r", "\r\n", "\x1b[2K", "\x1b[1A", "\u202e", "\u2066", "\x85", "\u2028", "\x00", "\t", "PASS: "]
names = st.lists(st.one_of(st.sampled_from(TRICKS), st.text(max_size=4)), min_size=1, max_size=4).map("".join)

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
dates = st.one_of(
    st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(), st.datetimes(), offsets),
    st.datetimes().map(datetime.isoformat),  # no offset: read as UTC
    st.sampled_from(
        [
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59+23:59",
            "1899-12-31T23:59:59Z",
            "9001-01-01T00:00:00Z",
        ]
    ),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.none(),
    st.booleans(),
    names,
)
figures = st.one_of(
    st.floats(min_value=1e-3, max_value=1e3),
    st.sampled_from([1e308, 1.7e308, -1e308, 5e-324, 0.0, -1.0, 10**400, 0]),
    st.floats(),  # NaN, infinities
)
specials = st.sampled_from([None, "fifo", "socket", "device", "folder", "dangling"])


def special(kind: str, path: Path) -> Path:
    """A special file ``path`` of ``kind``; a FIFO gets a writer after HANG seconds if anyone waits."""
    if kind == "fifo":
        os.mkfifo(path)

        def release():
            time.sleep(HANG)
            with contextlib.suppress(OSError):  # ENXIO: nobody reads it (or it is gone)
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                os.write(fd, b"{}")
                os.close(fd)

        threading.Thread(target=release, daemon=True).start()
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(path.parent / "gone.json")
    return path


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every entry under ``root``: a regular file's bytes, None for anything else."""
    out: dict[str, bytes | None] = {}
    for path in root.rglob("*"):
        regular = path.is_file() and not path.is_symlink()
        out[str(path.relative_to(root))] = path.read_bytes() if regular else None
    return out


def sound(code: int, out: str, err: str, command: str, outputs=()) -> None:
    """Exit 0 or 2; every line the command's own, none with a terminal control in it."""
    event(f"exit {code}")  # how often each outcome was drawn: pytest --hypothesis-show-statistics
    assert code in (0, 2), (code, out, err)
    for line in (out + err).splitlines():
        assert not UNSAFE.search(line), line
        assert line.startswith((f"flowers {command}: ", *outputs)), line
    if code == 2:
        assert out == "" and err.count("\n") == 1 and err.startswith(f"flowers {command}: error: "), (out, err)


def run_quickly(*argv) -> tuple[int, str, str]:
    """``flowers ARGV`` in this process, within HANG seconds, and no warning but skipped files."""
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = flowers(*argv)
    assert time.monotonic() - start < HANG, f"{time.monotonic() - start:.1f} s: waited on a FIFO?"
    others = [w for w in caught if not issubclass(w.category, (SkippedResultWarning, DeprecationWarning))]
    assert not others, [str(w.message) for w in others]
    return result


@contextlib.contextmanager
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def small_run(when, variant: str = "basic_cnn", figure: float = 150.0, profile: str = "smoke") -> dict:
    """One variant, two seeds, dated ``when``, throughput ``figure``."""
    run = seeded({"basic_cnn": [0.80, 0.82]}, when="2026-01-01T00:00:00", profile=profile)
    run["datetime"] = when
    for bench in run["benchmarks"]:
        bench["extra_info"].update(variant=variant, train_images_per_second=figure)
    for record in run["flowers"]["cases"]:
        record["variant"] = variant
    return run


# ------------------------------------------------------------------------------------------------
# store add
# ------------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=120)
@given(
    when=dates,
    variant=names,
    commit=st.one_of(names, st.sampled_from(["0123456789abcdef", "../../x", None, 7])),
    profile=st.one_of(names, st.just("smoke")),
    series=st.one_of(st.none(), names, st.sampled_from(["smoke-cpu", "paper-gpu", "../out"])),
    extra=specials,
    outside_link=st.booleans(),
)
def test_store_add_gives_0_or_2_and_writes_only_inside_the_store(
    when, variant, commit, profile, series, extra, outside_link
):
    with folder() as tmp:
        root, outside = tmp / "store", tmp / "outside"
        outside.mkdir()
        root.mkdir()
        if outside_link:
            (root / "smoke-cpu").symlink_to(outside)
        run = small_run(when, variant, profile=profile)
        run["commit_info"]["id"] = commit
        paths = [save(tmp / "run.json", run)] + ([special(extra, tmp / "odd.json")] if extra else [])
        before = {p.name: p.read_bytes() for p in paths if p.is_file()}
        argv = ["store", "add", root, *paths] + (["--series", series] if series is not None else [])
        code, out, err = run_quickly(*argv)
        sound(code, out, err, "store")
        assert snapshot(outside) == {}
        assert {p.name: p.read_bytes() for p in paths if p.is_file()} == before
        stored = [p for p in root.rglob("*.json") if p.is_file() and not p.is_symlink()]
        if code == 0:
            assert [p.read_bytes() for p in stored] == [paths[0].read_bytes()]
            assert all(p.resolve().is_relative_to(root.resolve()) for p in stored)
        else:
            assert stored == []


# ------------------------------------------------------------------------------------------------
# merge
# ------------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=120)
@given(
    case_name=names,
    variant=names,
    profiles=st.tuples(st.one_of(st.none(), names, st.just("smoke")), st.one_of(st.none(), st.just("smoke"), names)),
    shard=st.tuples(st.integers(-2, 10**30) | st.just(10**400), st.integers(-2, 10**30) | st.just(10**400)),
    record=st.booleans(),
    when=dates,
    output=st.sampled_from(["new", "part", "folder"]),
    extra=specials,
)
def test_merge_gives_0_or_2_and_never_replaces_a_part(case_name, variant, profiles, shard, record, when, output, extra):
    with folder() as tmp:
        first, second = split(2)
        bench = first["benchmarks"][0]
        old_name = bench["name"]
        bench["name"] = case_name
        bench["extra_info"]["variant"] = variant
        for entry in [*first["flowers"]["cases"], *first["flowers"]["shard"]["selection"]]:
            if entry["name"] == old_name:
                entry.update(name=case_name, variant=variant)
        first["flowers"]["shard"].update(index=shard[0], count=shard[1])
        first["datetime"] = when
        for part, profile in zip((first, second), profiles):
            for b in part["benchmarks"]:
                b["extra_info"]["profile"] = profile
            if record:
                part["flowers"]["profile"] = profile
            else:
                del part["flowers"]
        paths = [save(tmp / "part1.json", first), save(tmp / "part2.json", second)]
        if extra:
            paths.append(special(extra, tmp / "part3.json"))
        target = {"new": tmp / "out.json", "part": paths[0], "folder": tmp}[output]
        before = {p: p.read_bytes() for p in paths if p.is_file() and not p.is_symlink()}
        code, out, err = run_quickly("merge", *paths, "-o", target)
        sound(code, out, err, "merge")
        assert {p: p.read_bytes() for p in before} == before
        if code == 0:
            assert output == "new" and target.is_file()
            assert run_quickly("check", paths[1], target, "--metrics", "accuracy")[0] in (0, 1, 2)
        else:
            assert not (tmp / "out.json").exists()


# ------------------------------------------------------------------------------------------------
# trends
# ------------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=25)
@given(
    odd=st.lists(st.tuples(dates, names, figures, st.sampled_from(["smoke", "paper"])), min_size=1, max_size=2),
    extra=specials,
)
def test_trends_give_0_or_2_and_leave_odd_nights_out_with_a_warning(odd, extra):
    """Four good nights and one or two odd ones (and maybe a special file) in one series: the page is
    written, each odd night that cannot be shown is one warning line, nothing is printed otherwise."""
    with folder() as tmp:
        series = tmp / "store" / "smoke-cpu"
        for day in range(1, 5):
            save(series / f"2026010{day}T000000Z_good.json", small_run(f"2026-01-0{day}T00:00:00Z"))
        for i, (when, variant, figure, profile) in enumerate(odd):
            run = small_run(when, variant, figure, profile)
            run["benchmarks"][0]["extra_info"]["test_loss"] = figure
            save(series / f"odd{i}\n\x1b[2KPASS.json", run)  # a file name that would forge a line
        if extra:
            special(extra, series / "zz.json")
        code, out, err = run_quickly("trends", tmp / "store", "-o", tmp / "site")
        sound(code, out, err, "trends")
        assert code == 0, err  # four good nights: always a page
        page = (tmp / "site" / "index.html").read_text()
        shown = set(re.findall(r"fig-[0-9a-f]{16}\.png", page))
        assert shown == {p.name for p in (tmp / "site").iterdir() if p.name.startswith("fig-")}
        assert sorted(p.name for p in tmp.iterdir()) == ["site", "store"]


def test_the_fuzzed_runs_are_valid_when_left_alone():
    """The fuzz starts from runs every command accepts."""
    with folder() as tmp:
        runs = [save(tmp / f"{d}.json", small_run(f"2026-01-0{d}T00:00:00Z")) for d in range(1, 5)]
        assert run_quickly("store", "add", tmp / "store", *runs)[0] == 0
        assert run_quickly("trends", tmp / "store", "-o", tmp / "site", "-q") == (0, "", "")
        parts = [save(tmp / f"part{k}.json", part) for k, part in enumerate(split(2), start=1)]
        assert run_quickly("merge", *parts, "-o", tmp / "out.json")[0] == 0
