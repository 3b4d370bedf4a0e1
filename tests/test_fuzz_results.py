"""Fuzz the result reader over the schema with Hypothesis: real result files mutated anywhere (wrong
types, NaN, infinities, huge numbers, lone surrogates, missing keys, deep nesting, truncation) give
``flowers check``, ``flowers report`` and ``flowers merge`` an exit status of 0, 1 or 2 and never a
traceback; and an ok case with an invalid score is never gated, only reported as invalid.

Deterministic in CI: ``derandomize=True`` draws the same examples on every run, and no example
database is kept, so a failure here is reproducible by rerunning the test.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowers.check import MISSING, compare
from flowers.report.comparison import comparison_row
from flowers.results import load_run
from flowers.schema import INVALID, SCORES
from tests.test_merge import split
from tests.test_results_robust import flowers

FIXTURES = Path(__file__).parent / "fixtures" / "report"
ONE_RUN = json.loads((FIXTURES / "one_run.json").read_text())  # five variants, one seed each
SEEDS = json.loads((FIXTURES / "seeds.json").read_text())  # basic_cnn with three seeds, vgg16 with one
DEEP = "@@deep-{}@@"  # a string that stands for a list nested that deep, put into the JSON text after dumping
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values that do not belong where they land: every JSON type, non-finite and huge numbers, lone
# surrogates (JSON's "\ud800" escape), and lists nested past any reader's stack.
hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN, +-inf, -0.0, subnormals, 1.7e308
    st.sampled_from(
        [
            1e308,
            -1e308,
            10**400,
            -(10**400),
            0,
            -1,
            1.5,
            "",
            "ok",
            "failed",
            "NaN",
            "1",
            "\ud800",
            "a\udfffb",
            DEEP.format(70),
            DEEP.format(100_000),
        ]
    ),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(), st.text(max_size=3), st.floats()), max_size=3),
    st.dictionaries(
        st.sampled_from(["name", "variant", "index", "\ud800"]),
        st.one_of(st.integers(), st.text(max_size=3)),
        max_size=2,
    ),
)


def _children(node: Any) -> list:
    return sorted(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []


@st.composite
def mutated(draw, original: dict) -> dict:
    """``original`` with one to three mutations, each at a node reached by a random walk from the
    top (so top-level fields are hit as often as deep ones): replaced by a hostile value, deleted,
    wrapped in a list, or a list element duplicated."""
    data = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        parent, key = None, None
        node = data
        while _children(node) and (parent is None or draw(st.integers(0, 3)) > 0):
            parent, key = node, draw(st.sampled_from(_children(node)))
            node = node[key]
        if parent is None:
            continue
        action = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "duplicate"]))
        if action == "replace":
            parent[key] = draw(hostile)
        elif action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [node]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(node))
    return data


def dumped(data: Any, cut: int | None = None) -> str:
    """The JSON text of ``data`` as a file would hold it (NaN and surrogate escapes included),
    with each deep-nesting marker expanded, and cut at ``cut`` characters when given."""
    text = json.dumps(data)
    for depth in (70, 100_000):
        text = text.replace(json.dumps(DEEP.format(depth)), "[" * depth + "]" * depth)
    return text if cut is None else text[:cut]


def assert_sound(code: int, out: str, err: str, command: str, allowed=(0, 1, 2)) -> None:
    """Exit 0, 1 (a regression, said so) or 2 (one line saying why)."""
    assert code in allowed, (code, out, err)
    if code == 1:
        assert "FAIL:" in out, out
    if code == 2:
        assert err.startswith(f"flowers {command}: error: ") and err.count("\n") == 1, err


@contextlib.contextmanager
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@FUZZ
@given(
    data=st.one_of(mutated(ONE_RUN), mutated(SEEDS)),
    cut=st.one_of(st.none(), st.integers(0, 4000)),
    in_folder=st.booleans(),
)
def test_check_gives_0_1_or_2_on_any_json(data, cut, in_folder):
    with folder() as tmp:
        good = tmp / "good.json"
        good.write_text(json.dumps(ONE_RUN))
        bad = tmp / ("runs" if in_folder else "") / "bad.json"
        bad.parent.mkdir(exist_ok=True)
        bad.write_text(dumped(data, cut))
        named = bad.parent if in_folder else bad
        assert_sound(*flowers("check", good, named), "check")
        assert_sound(*flowers("check", bad, good), "check")
        assert_sound(*flowers("check", "--update-baseline", tmp / "baseline.json", named), "check", (0, 2))


@FUZZ
@given(data=mutated(split(2)[0]), cut=st.one_of(st.none(), st.integers(0, 4000)))
def test_merge_gives_0_or_2_on_any_json(data, cut):
    with folder() as tmp:
        first, second = tmp / "part1.json", tmp / "part2.json"
        first.write_text(dumped(data, cut))
        second.write_text(json.dumps(split(2)[1]))
        code, out, err = flowers("merge", first, second, "-o", tmp / "out.json")
        assert_sound(code, out, err, "merge", (0, 2))
        if code == 0:  # what merge wrote is a run that check reads
            good = tmp / "good.json"
            good.write_text(json.dumps(ONE_RUN))
            assert_sound(*flowers("check", good, tmp / "out.json"), "check")


@settings(FUZZ, max_examples=25)
@given(data=st.one_of(mutated(ONE_RUN), mutated(SEEDS)))
def test_report_gives_0_or_2_on_any_json(data):
    """The report draws graphs (a second each here): fewer examples, over two runs so that the
    history and its trend graph are built too."""
    with folder() as tmp:
        bad = tmp / "bad.json"
        bad.write_text(dumped(data))
        code, out, err = flowers("report", FIXTURES / "history_1.json", bad, "-o", tmp / "out", "-q")
        assert_sound(code, out, err, "report", (0, 2))


# ------------------------------------------------------------------------------------------------
# An ok case with an invalid score is never gated
# ------------------------------------------------------------------------------------------------


def invalid_values(key: str) -> st.SearchStrategy:
    """Values ``key`` (test_accuracy or test_loss) must not have: missing (the marker ``...``), null,
    a string, a bool, a list, non-finite, too large for a float, or out of its range."""
    low, high, _ = SCORES[key]
    out_of_range = st.floats(max_value=low, exclude_max=True, allow_nan=False)
    if math.isfinite(high):
        out_of_range |= st.floats(min_value=high, exclude_min=True, allow_nan=False)
    return st.one_of(
        st.just(...),
        st.none(),
        st.text(max_size=5),
        st.booleans(),
        st.lists(st.floats(0, 1), max_size=2),
        st.sampled_from([math.nan, math.inf, -math.inf, 10**400]),
        out_of_range,
    )


@st.composite
def with_an_invalid_score(draw) -> tuple[dict, dict, str, str]:
    """A valid run, and a copy with one ok case's score made invalid; that case's variant and the key."""
    original = draw(st.sampled_from([ONE_RUN, SEEDS]))
    data = copy.deepcopy(original)
    case = draw(st.sampled_from(data["benchmarks"]))["extra_info"]
    key = draw(st.sampled_from(sorted(SCORES)))
    value = draw(invalid_values(key))
    if value is ...:
        del case[key]
    else:
        case[key] = value
    return original, data, case["variant"], key


@settings(FUZZ, max_examples=60)
@given(example=with_an_invalid_score())
def test_an_invalid_score_is_never_gated(example):
    original, data, variant, key = example
    with folder() as tmp:
        base, bad = tmp / "base.json", tmp / "bad.json"
        base.write_text(json.dumps(original))
        bad.write_text(json.dumps(data))
        run = load_run(bad)
        (case,) = [c for c in run.cases if c.status == INVALID]
        assert case.variant == variant and case.error.startswith(key)
        cases = run.by_variant()[variant]
        rows = [r for r in compare(load_run(base), run).rows if r.variant == variant]
        if len(cases) == 1:  # nothing of the variant is gated: every row is missing
            assert {r.verdict for r in rows} == {MISSING}
        else:  # the other seeds are gated, and the invalid one fails the variant
            assert [r.verdict for r in rows if r.metric == "cases"] == [MISSING]
        shown = comparison_row(variant, cases, run, None, [])
        assert shown.status == (INVALID if len(cases) == 1 else "partial")
        assert any(note.startswith(f"INVALID{' (seed' if len(cases) > 1 else ':'}") for note in shown.notes)
        code, out, err = flowers("check", base, bad)
        assert code == 1, out + err
        fail_line = out.splitlines()[-1]
        assert fail_line.startswith("FAIL:") and variant in fail_line
        assert f"invalid: {key}" in out
        code, _, err = flowers("check", "--update-baseline", tmp / "new-baseline.json", bad)
        assert code == 2 and "not ok" in err and not (tmp / "new-baseline.json").exists()


@pytest.mark.parametrize("name", ["one_run.json", "seeds.json"])
def test_the_fuzzed_fixtures_are_valid_runs(name):
    """The fuzz starts from real, valid results: every case ok."""
    assert all(c.ok for c in load_run(FIXTURES / name).cases)
