"""Unusable and hostile result files, end to end through real ``python -m flowers`` processes.

* Unusable JSON: ``flowers report`` and ``flowers check`` exit 2 with one stderr line naming the file.
* Hostile JSON: nothing is executed or unpickled, nothing written outside ``-o DIR`` (audit hooks).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_failures import ENV, ONE_RUN, flowers  # the end-to-end runs' environment and command

# ------------------------------------------------------------------------------------------------
# Unusable JSON for report and check: exit 2, one stderr line naming the file
# ------------------------------------------------------------------------------------------------

_good = json.loads(ONE_RUN.read_text())
_plain = copy.deepcopy(_good)  # what pytest-benchmark writes for benchmarks that are not ours
del _plain["flowers"]
for _b in _plain["benchmarks"]:
    del _b["extra_info"]

MALFORMED = {
    "missing": None,
    "empty": "",
    "truncated": ONE_RUN.read_text()[:777],
    "not JSON": "<html><body>502 Bad Gateway</body></html>\n",
    "JSON, not pytest-benchmark": json.dumps({"accuracy": 0.9, "benchmarks": "none"}),
    "pytest-benchmark without our extra_info": json.dumps(_plain),
}


def test_malformed_json_exits_2_with_one_line_for_report_and_check(tmp_path):
    for i, (case, text) in enumerate(MALFORMED.items()):
        path = tmp_path / f"bad-{i}.json"
        if text is not None:
            path.write_text(text)
        out = tmp_path / f"report-{i}"
        # report; check with the bad file as the current run, then as the baseline
        for command, args in [("report", [path, "-o", out]), ("check", [ONE_RUN, path]), ("check", [path, ONE_RUN])]:
            done = flowers(command, *args)
            lines = done.stderr.splitlines()
            assert done.returncode == 2 and len(lines) == 1, (case, command, done.stderr)
            assert lines[0].startswith(f"flowers {command}: error: {path}: ") and done.stdout == "", (
                case,
                command,
                lines,
            )
        assert not out.exists()  # report wrote nothing


# ------------------------------------------------------------------------------------------------
# Hostile JSON: nothing executed or unpickled, nothing written outside -o DIR
# ------------------------------------------------------------------------------------------------

AUDITED = r"""
import json, os, sys

MARK = "EVIL"
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
events = []


def fs(value):
    return os.path.abspath(os.fsdecode(value)) if isinstance(value, (str, bytes, os.PathLike)) else repr(value)


def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if not isinstance(path, int) and (any(c in mode for c in "wax+") if mode else flags & WRITE_FLAGS):
            events.append(["write", fs(path)])
    elif event in ("os.rename", "os.remove", "os.mkdir", "os.rmdir", "os.symlink", "os.link", "os.truncate",
                   "os.chmod", "shutil.copyfile", "shutil.move", "shutil.rmtree"):
        two = event in ("os.rename", "os.symlink", "os.link", "shutil.copyfile", "shutil.move")
        events.append([event, *[fs(a) for a in args[:2 if two else 1]]])
    elif event.startswith(("pickle.", "subprocess.", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                           "os.fork", "webbrowser", "urllib.", "socket.")):
        events.append([event, repr(args)[:200]])
    elif event in ("compile", "exec", "builtins.input") and MARK in repr(args):
        events.append([event, repr(args)[:200]])  # text from the input compiled or run as code


sys.addaudithook(hook)
from flowers.cli import main

code = main(sys.argv[1:])
print("AUDIT " + json.dumps(events))
sys.exit(code)
"""

PATHS = ["../../EVIL", "/tmp/EVIL-absolute", "../../EVIL/fig-0000000000000000.png", "..\\..\\EVIL"]


def hostile() -> dict:
    data = copy.deepcopy(_good)
    data["machine_info"]["node"] = PATHS[0]
    data["commit_info"].update(branch=PATHS[1], project=PATHS[3], id="$(touch EVIL)")
    for i, b in enumerate(data["benchmarks"]):
        b["name"] = b["fullname"] = PATHS[i % len(PATHS)] + ("" if i < len(PATHS) else f"-{i}")  # one name once
        info = b["extra_info"]
        info["dataset"] = dict(info["dataset"], name=PATHS[0], source=PATHS[1], path=PATHS[2])
        info["config"] = dict(info["config"], data=PATHS[0], weights=PATHS[1], output=PATHS[2])
        info["report"] = {
            "file": PATHS[2],
            "py/object": "os.system",
            "py/reduce": [{"py/function": "os.system"}, ["touch EVIL"]],
        }
        info["pickle"] = "cos\nsystem\n(S'touch EVIL'\ntR."  # protocol-0 pickle text: must stay text
        info["template"] = "{{ cycler.__init__.__globals__.os.system('touch EVIL') }}{% include '../../EVIL' %}"
    data["benchmarks"][0]["extra_info"]["variant"] = PATHS[0]
    data["benchmarks"][1]["extra_info"].update(
        status="failed", error=PATHS[2] + "\n__import__('os').system('touch EVIL')"
    )
    return data


def test_report_and_check_run_nothing_from_json_and_write_only_into_the_output(tmp_path):
    import matplotlib

    cwd = tmp_path / "a" / "b" / "c"  # "../../EVIL" from here is tmp_path/a/EVIL
    cwd.mkdir(parents=True)
    src = cwd / "hostile.json"
    src.write_text(json.dumps(hostile()))
    base = hostile()
    base["benchmarks"][1]["extra_info"].update(status="ok", error=None)  # a baseline gates every variant
    base["flowers"]["cases"] = []  # (none listed under a name its benchmark no longer has)
    (cwd / "base.json").write_text(json.dumps(base))
    out = cwd / "out"
    env = dict(ENV, PYTHONDONTWRITEBYTECODE="1")
    # matplotlib's own config and font cache folders aside, every write must land in -o DIR
    allowed = [str(out), matplotlib.get_cachedir(), matplotlib.get_configdir()]
    for argv in (["report", src, "-o", out, "-q"], ["check", cwd / "base.json", src]):
        done = subprocess.run(
            [sys.executable, "-c", AUDITED, *map(str, argv)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode in ((0,) if argv[0] == "report" else (0, 1)), done.stdout + done.stderr
        events = json.loads(done.stdout.rsplit("AUDIT ", 1)[1])
        for event, *args in events:
            assert event in ("write", "os.rename", "os.remove", "os.mkdir", "os.chmod"), (argv[0], event, args)
            for path in args:
                assert path == os.devnull or any(path == d or path.startswith(d + os.sep) for d in allowed), (
                    argv[0],
                    event,
                    path,
                )
        if argv[0] == "report":
            assert any(e[0] == "os.rename" and e[2] == str(out / "report.html") for e in events)
        else:
            assert events == []  # check writes nothing at all
    assert not [p for p in tmp_path.rglob("*") if "EVIL" in p.name]
    assert not Path("/tmp/EVIL-absolute").exists()
    assert sorted(p.name for p in cwd.iterdir()) == ["base.json", "hostile.json", "out"]
    assert r"../../EVIL" in (out / "report.md").read_text()  # the values were used, as text
