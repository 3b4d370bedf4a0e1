"""Render result JSON files into report.md, report.html and PNG graphs.

``flowers report RESULTS... -o DIR``: each RESULTS is a ``--benchmark-json`` file or a
pytest-benchmark storage folder (``.benchmarks/``, written by ``--benchmark-autosave``); without
RESULTS it reads ``out.json``, or ``.benchmarks/`` when there is no ``out.json``.  The report shows
the comparison table against the original experiment, learning curves, run details, and, over
several runs, the history with what changed between consecutive runs.  ``report.html`` is one
self-contained file; ``report.md`` links the PNG graphs written beside it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import math
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from flowers import __version__, architecture, atomic, registry
from flowers.original import VGG16_NOTE
from flowers.results import Case, ResultsError, Run, load_runs

# Three steps, each a plain function: build() turns loaded runs into a plain data model (display
# strings and numbers, PNG bytes for the graphs); render_markdown() / render_html() feed it to the
# Jinja2 templates in flowers/templates/ (HTML autoescaped; Markdown escaped by the environment's
# finalize hook); write() writes the graphs first, named by a hash of their content, then report.md
# and report.html, each atomically and under a lock on the folder, so that two reports written into
# one folder at once never leave a mix.

TEMPLATES = "templates"  # inside the flowers package, so that a wheel carries them
HISTORY_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")
# A case's time breakdown (extra_info "breakdown", see flowers/results.py): key, label; in time order.
BREAKDOWN_PARTS = (
    ("data_load", "data load"), ("setup", "model setup"), ("feature_cache", "feature cache"),
    ("first_epoch", "first epoch"), ("later_epochs", "later epochs"), ("evaluation", "evaluation"),
    ("bookkeeping", "bookkeeping"),
)
VGG16_FAR_ABOVE = 0.10  # our VGG16 accuracy this far above the original's 0.4091 gets the note
FIGURE_NAME = re.compile(r"^fig-[0-9a-f]{16}\.png$")
DEFAULT_INPUTS = ("out.json", ".benchmarks")


# --------------------------------------------------------------------------------------------
# The data model: what the templates see.  Display strings are formatted here, markup is not.
# --------------------------------------------------------------------------------------------


@dataclass
class Figure:
    file: str  # fig-<content hash>.png, beside report.md
    alt: str
    title: str
    png: bytes = field(repr=False)

    @cached_property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Row:
    """One variant's line in the comparison table."""

    variant: str
    model: str  # the original's model number ("1", "3.2"), "" when the original had no such model
    status: str  # ok | partial | failed | skipped | missing
    n: str
    test_loss: str = "—"
    test_loss_orig: str = ""
    test_loss_diff: str = ""
    test_loss_trend: str = ""  # better | worse | "" (for colouring)
    test_accuracy: str = "—"
    test_accuracy_orig: str = ""
    test_accuracy_diff: str = ""
    test_accuracy_trend: str = ""
    notes: list[str] = field(default_factory=list)
    note_refs: list[int] = field(default_factory=list)
    epochs: str = "—"
    train_time: str = "—"
    images_per_second: str = "—"
    params: str = "—"  # "total / trainable"
    params_total: str = "—"
    params_trainable: str = "—"
    efficiency: str = "—"
    efficiency_detail: str = ""  # "achieved / peak GFLOP/s"
    efficiency_gflops: str = ""  # the same without the unit
    peak_memory: str = "—"
    feature_cache: str = "—"
    feature_cache_detail: str = ""


@dataclass
class BreakdownRow:
    """One variant's time breakdown (means over its seeds), as display strings in BREAKDOWN_PARTS order."""

    variant: str
    parts: list[str]
    total: str  # the parts added up
    wall: str  # the case's measured wall time
    steady: str  # steady_images_per_second (epochs 2+)


@dataclass
class Breakdown:
    parts: list[str]  # part labels
    rows: list[BreakdownRow]
    figure: Figure


@dataclass
class Change:
    kind: str  # config | seeds | data | commit | environment | variants
    key: str
    old: str
    new: str
    scope: str = ""  # variants the change applies to, when not all


@dataclass
class HistoryCell:
    status: str  # ok | partial | failed | skipped | missing
    accuracy: str
    time: str


@dataclass
class HistoryRow:
    label: str
    date: str
    commit: str
    source: str
    complete: bool
    changes: list[Change]
    cells: list[HistoryCell]
    first: bool = False


@dataclass
class History:
    variants: list[str]
    rows: list[HistoryRow]
    trend: Figure | None


@dataclass
class Details:
    label: str
    source: str
    items: list[tuple[str, str]]  # date, commit, versions, device...
    dataset: list[tuple[str, str]]
    skipped: list[str]
    common_config: list[tuple[str, str]]
    config_variants: list[str]
    config_rows: list[tuple[str, list[str]]]  # keys whose value differs between variants, and hashes


@dataclass
class Group:
    """Everything about one profile: its latest run's table, curves and details, and its history."""

    profile: str
    heading: str | None  # set when the report holds several profiles
    latest_label: str
    latest_date: str
    latest_source: str
    runs: int
    caveat: str | None
    latest_changes: list[Change] | None
    columns: dict[str, bool]
    rows: list[Row]
    notes: list[str]
    curves: list[Figure]
    no_curves: list[tuple[str, str]]  # (variant, why it has no graph)
    overlay: Figure | None
    details: Details
    history: History | None
    breakdown: Breakdown | None = None


@dataclass
class Report:
    title: str
    generator: str
    sources: list[str]
    runs: int
    warnings: list[str]
    groups: list[Group]
    base: int  # heading level of the sections (2 for one profile, 3 under per-profile headings)

    @property
    def figures(self) -> list[Figure]:
        seen: dict[str, Figure] = {}
        for g in self.groups:
            for fig in [*g.curves, g.overlay, g.history.trend if g.history else None,
                        g.breakdown.figure if g.breakdown else None]:
                if fig is not None:
                    seen.setdefault(fig.file, fig)
        return list(seen.values())


# --------------------------------------------------------------------------------------------
# Formatting helpers: numbers and JSON values to display strings.
# --------------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 100:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def fmt_bytes(b: float | None) -> str:
    if b is None:
        return "—"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= size:
            return f"{b / size:.1f} {unit}" if b / size < 100 else f"{b / size:.0f} {unit}"
    return f"{int(b)} B"


def fmt_int(v: float | None) -> str:
    return "—" if v is None else f"{int(v):,}"


def fmt_value(v: Any, limit: int = 120) -> str:
    """A config or dataset value as text: strings as they are, everything else as JSON."""
    if isinstance(v, str):
        text = v
    elif isinstance(v, float) and math.isfinite(v):
        text = repr(v)
    else:
        try:
            text = json.dumps(v, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError):
            text = str(v)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt_date(value: str) -> str:
    if not value:
        return "unknown"
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return fmt_value(value, 40)
    offset = d.utcoffset()
    if offset is None or offset.total_seconds() == 0:
        return d.strftime("%Y-%m-%d %H:%M:%S UTC")
    return d.strftime("%Y-%m-%d %H:%M:%S UTC%z")


def fmt_commit(commit: dict[str, Any]) -> str:
    cid = commit.get("id")
    if not cid:
        return "unknown (not a git checkout?)"
    text = fmt_value(cid)[:10]
    return text + (" (dirty)" if commit.get("dirty") else "")


def one_line(text: Any, limit: int = 240) -> str:
    return fmt_value("" if text is None else str(text), limit)


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95% confidence interval (Student t); None for one value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    from scipy import stats  # only needed with several seeds

    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)


def fmt_stat(values: list[float]) -> str:
    if not values:
        return "—"
    mean, half = mean_ci(values)
    return f"{mean:.4f}" if half is None else f"{mean:.4f} ± {half:.4f}"


def figure(png: bytes, alt: str, title: str) -> Figure:
    return Figure(file=f"fig-{hashlib.sha256(png).hexdigest()[:16]}.png", alt=alt, title=title, png=png)


# --------------------------------------------------------------------------------------------
# Building the model
# --------------------------------------------------------------------------------------------


def _ordered(names: list[str]) -> list[str]:
    """Registered variants in registry order, then the others in first-seen order."""
    registered = registry.list_variants()
    known = [v for v in registered if v in names]
    return known + [v for v in dict.fromkeys(names) if v not in registered]


def _values(cases: list[Case], key: str) -> list[float]:
    return [v for v in (c.metric(key) for c in cases) if v is not None]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _status(cases: list[Case]) -> str:
    """ok | partial (some seeds not ok) | failed | skipped | missing (no case in the run)."""
    if not cases:
        return "missing"
    ok = sum(c.ok for c in cases)
    if ok == len(cases):
        return "ok"
    if ok:
        return "partial"
    for status in ("skipped", "missing"):  # missing: a shard's case that no merged part holds
        if all(c.status == status for c in cases):
            return status
    return "failed"


def _diff(ours: float | None, orig: float, higher_is_better: bool) -> tuple[str, str]:
    if ours is None:
        return "", ""
    d = ours - orig
    trend = "" if abs(d) < 0.005 else ("better" if (d > 0) == higher_is_better else "worse")
    return f"{d:+.4f}", trend


def _efficiency(cases: list[Case]) -> tuple[str, str, str]:
    pairs = [(c.metric("achieved_gflops"), c.metric("peak_gflops")) for c in cases]
    pairs = [(a, p) for a, p in pairs if a is not None and p]
    if not pairs:
        return "—", "", ""
    achieved = sum(a for a, _ in pairs) / len(pairs)
    peak = sum(p for _, p in pairs) / len(pairs)
    gflops = f"{achieved:.1f} / {peak:.0f}"
    return f"{100 * achieved / peak:.1f}%", f"{gflops} GFLOP/s", gflops


def _feature_cache(cases: list[Case]) -> tuple[str, str]:
    """The feature cache as (``off`` or the cached layer, "size, seconds to build")."""
    for c in cases:
        fc = c.info.get("feature_cache")
        if isinstance(fc, dict):
            if not fc.get("enabled"):
                return "off", ""
            parts = [fmt_bytes(_num(fc.get("bytes")))]
            if fc.get("storage"):
                parts[0] += f" in {fmt_value(fc['storage'], 20)}"
            if _num(fc.get("seconds")) is not None:
                parts.append(fmt_seconds(_num(fc.get("seconds"))))
            return (fmt_value(fc["layer"], 40) if fc.get("layer") else "on"), ", ".join(parts)
    return "—", ""


def _row(variant: str, cases: list[Case], run: Run, seen_in: str | None, notes: list[str]) -> Row:
    orig = registry.original(variant)
    status = _status(cases)
    ok = [c for c in cases if c.ok]
    row = Row(variant=variant, model=orig.model if orig else "", status=status, n=str(len(ok)) if cases else "0")
    if ok:
        losses, accs = _values(ok, "test_loss"), _values(ok, "test_accuracy")
        row.test_loss, row.test_accuracy = fmt_stat(losses), fmt_stat(accs)
        if orig:
            row.test_loss_orig = f"{orig.test_loss:.4f}"
            row.test_accuracy_orig = f"{orig.test_accuracy:.4f}"
            row.test_loss_diff, row.test_loss_trend = _diff(_mean(losses), orig.test_loss, False)
            row.test_accuracy_diff, row.test_accuracy_trend = _diff(_mean(accs), orig.test_accuracy, True)
        epochs = sorted({int(e) for e in _values(ok, "epochs")})
        row.epochs = "—" if not epochs else str(epochs[0]) if len(epochs) == 1 else f"{epochs[0]}–{epochs[-1]}"
        row.train_time = fmt_seconds(_mean(_values(ok, "train_seconds")))
        ips = _mean(_values(ok, "train_images_per_second"))
        row.images_per_second = "—" if ips is None else f"{ips:,.1f}"
        total, trainable = ok[0].metric("params_total"), ok[0].metric("params_trainable")
        row.params_total, row.params_trainable = fmt_int(total), fmt_int(trainable)
        row.params = f"{row.params_total} / {row.params_trainable}"
        row.efficiency, row.efficiency_detail, row.efficiency_gflops = _efficiency(ok)
        memory = _values(ok, "peak_memory_bytes")
        row.peak_memory = fmt_bytes(max(memory)) if memory else "—"
        row.feature_cache, row.feature_cache_detail = _feature_cache(ok)
        acc = _mean(accs)
        if variant == "vgg16_transfer" and acc is not None and orig and acc > orig.test_accuracy + VGG16_FAR_ABOVE:
            row.notes.append("far above the original's 0.4091: the preprocessing differs")
            if VGG16_NOTE not in notes:
                notes.append(VGG16_NOTE)
            row.note_refs.append(notes.index(VGG16_NOTE) + 1)
    elif orig:
        row.test_loss_orig = f"{orig.test_loss:.4f}"
        row.test_accuracy_orig = f"{orig.test_accuracy:.4f}"
    for c in cases:
        if not c.ok:
            seed = f" (seed {c.seed})" if c.seed is not None and len(cases) > 1 else ""
            what = "SKIPPED" if c.status == "skipped" else "FAILED"
            row.notes.append(f"{what}{seed}: {one_line(c.error or 'no reason recorded')}")
    if status == "missing":
        why = "not in this run" + (f" (present in {seen_in})" if seen_in else "")
        if not run.complete:
            why += "; the run was interrupted"
        row.notes.append(why)
    if not orig and status != "missing":
        row.notes.append("not in the original experiment")
    return row


def _part_means(cases: list[Case]) -> list[float | None]:
    """Each breakdown part's mean over ``cases`` (None where no case recorded it)."""
    means = []
    for key, _ in BREAKDOWN_PARTS:
        values = [v for v in (_num((c.info.get("breakdown") or {}).get(key)) for c in cases) if v is not None]
        means.append(_mean(values))
    return means


def _breakdown(variants: list[str], by_variant: dict[str, list[Case]]) -> Breakdown | None:
    """Where each variant's time went (cases that recorded a breakdown), as a table and a stacked bar."""
    from flowers import plots

    rows, bars = [], []
    for v in variants:
        cases = [c for c in by_variant.get(v, []) if c.ok and isinstance(c.info.get("breakdown"), dict)]
        if not cases:
            continue
        means = _part_means(cases)
        parts = [fmt_seconds(m) for m in means]
        if all(c.info.get("data_cached") is True for c in cases):
            parts[0] = "cached"
        total = sum(m for m in means if m is not None)
        steady = _mean(_values(cases, "steady_images_per_second"))
        rows.append(BreakdownRow(v, parts, fmt_seconds(total), fmt_seconds(_mean(_values(cases, "wall_seconds"))),
                                 "—" if steady is None else f"{steady:,.1f}"))
        bars.append((v, [m or 0.0 for m in means]))
    if not rows:
        return None
    labels = [label for _, label in BREAKDOWN_PARTS]
    png = plots.breakdown(labels, bars)
    return Breakdown(labels, rows, figure(png, "Time per variant, stacked by part: " + ", ".join(labels), "Where the time goes"))


def _series(cases: list[Case]) -> dict[str, dict[str, list[float]]]:
    """Per-epoch history of one variant: the mean over seeds, with the range when several."""
    out: dict[str, dict[str, list[float]]] = {}
    for key in HISTORY_KEYS:
        lists = []
        for c in cases:
            h = c.info.get("history")
            values = h.get(key) if isinstance(h, dict) else None
            if isinstance(values, list) and values:
                lists.append([_num(v) if _num(v) is not None else math.nan for v in values])
        if not lists:
            continue
        length = min(len(v) for v in lists)
        cols = [[v[i] for v in lists] for i in range(length)]
        s = {"mean": [sum(c) / len(c) for c in cols]}
        if len(lists) > 1:
            s["low"], s["high"] = [min(c) for c in cols], [max(c) for c in cols]
        out[key] = s
    return out


def _config(case: Case) -> dict[str, Any]:
    cfg = case.info.get("config")
    return {k: v for k, v in cfg.items() if k != "seed"} if isinstance(cfg, dict) else {}


def _variant_configs(run: Run) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for variant, cases in run.by_variant().items():
        for c in sorted(cases, key=lambda c: not c.ok):
            if isinstance(c.info.get("config"), dict):
                out[variant] = _config(c)
                break
    return out


def _seeds(run: Run) -> dict[str, list[int]]:
    return {v: sorted({c.seed for c in cases if c.seed is not None}) for v, cases in run.by_variant().items()}


def _env(run: Run) -> dict[str, str]:
    f = run.environment
    return {k: fmt_value(f[k], 80) for k in ("tensorflow", "keras", "device") if f.get(k)}


def _packages(run: Run) -> dict[str, str]:
    f = run.environment
    packages = f.get("packages")
    return {str(k): fmt_value(v, 40) for k, v in packages.items()} if isinstance(packages, dict) else {}


def _environment_changes(prev: Run, run: Run) -> list[Change]:
    """The device, and the installed versions that differ (each package recorded by both runs; for
    runs that recorded no package list, the TensorFlow and Keras versions)."""
    a_env, b_env = _env(prev), _env(run)
    a_pkg, b_pkg = _packages(prev), _packages(run)
    keys = ["device"] if a_pkg and b_pkg else ["tensorflow", "keras", "device"]
    out = [Change("environment", key, a_env.get(key, "unknown"), b_env.get(key, "unknown"))
           for key in keys if a_env.get(key) != b_env.get(key)]
    out += [Change("environment", name, a_pkg[name], b_pkg[name])
            for name in a_pkg if name in b_pkg and a_pkg[name] != b_pkg[name]]
    return out


def changes(prev: Run, run: Run) -> list[Change]:
    """What changed from ``prev`` to ``run``: config keys that differ (only those), seeds, the data
    fingerprint, the commit, the environment, and variants that appeared or disappeared."""
    out: list[Change] = []
    a_cfg, b_cfg = _variant_configs(prev), _variant_configs(run)
    common = [v for v in _ordered(list(b_cfg)) if v in a_cfg]
    keys = list(dict.fromkeys(k for v in common for k in [*a_cfg[v], *b_cfg[v]]))
    for key in keys:
        by_pair: dict[tuple[str, str], list[str]] = {}
        for v in common:
            old = fmt_value(a_cfg[v][key]) if key in a_cfg[v] else "(absent)"
            new = fmt_value(b_cfg[v][key]) if key in b_cfg[v] else "(absent)"
            if old != new:
                by_pair.setdefault((old, new), []).append(v)
        for (old, new), variants in by_pair.items():
            scope = "" if len(variants) == len(common) else ", ".join(variants)
            out.append(Change("config", key, old, new, scope))
    a_seeds, b_seeds = _seeds(prev), _seeds(run)
    seed_pairs: dict[tuple[str, str], list[str]] = {}
    for v in common:
        if a_seeds.get(v) != b_seeds.get(v) and a_seeds.get(v) and b_seeds.get(v):
            pair = (", ".join(map(str, a_seeds[v])), ", ".join(map(str, b_seeds[v])))
            seed_pairs.setdefault(pair, []).append(v)
    for (old, new), variants in seed_pairs.items():
        out.append(Change("seeds", "seeds", old, new, "" if len(variants) == len(common) else ", ".join(variants)))
    out += _model_changes(prev, run, common)
    a_data, b_data = prev.dataset or {}, run.dataset or {}
    if (a_data.get("hash"), a_data.get("name")) != (b_data.get("hash"), b_data.get("name")):

        same_name = a_data.get("name") == b_data.get("name")

        def data_label(d: dict[str, Any]) -> str:
            if not d:
                return "unknown"
            short = fmt_value(d.get("hash", "?"), 80)[:12]
            return short if same_name else f"{fmt_value(d.get('name', '?'), 40)} {short}"

        out.append(Change("data", "data fingerprint", data_label(a_data), data_label(b_data)))
    a_id, b_id = prev.commit.get("id"), run.commit.get("id")
    if a_id != b_id or bool(prev.commit.get("dirty")) != bool(run.commit.get("dirty")):
        out.append(Change("commit", "commit", fmt_commit(prev.commit), fmt_commit(run.commit)))
    out.extend(_environment_changes(prev, run))
    a_vars, b_vars = set(prev.variants), set(run.variants)
    added = [v for v in _ordered(run.variants) if v not in a_vars]
    gone = [v for v in _ordered(prev.variants) if v not in b_vars]
    if added:
        out.append(Change("variants", "variants added", "", ", ".join(added)))
    if gone:
        out.append(Change("variants", "variants missing", ", ".join(gone), ""))
    return out


def _model_info(run: Run) -> dict[str, dict[str, Any]]:
    """Per variant, the extra_info of its first ok case (where the model record lives)."""
    return {v: next((c.info for c in cases if c.ok), {}) for v, cases in run.by_variant().items()}


def _model_changes(prev: Run, run: Run, common: list[str]) -> list[Change]:
    """Per variant, what changed in the model or its weights (:func:`flowers.architecture.model_changes`)."""
    out: list[Change] = []
    a_info, b_info = _model_info(prev), _model_info(run)
    for v in common:
        a, b = a_info.get(v) or {}, b_info.get(v) or {}
        if not a or not b:
            continue
        words = architecture.model_changes(a, b)
        if words is None:
            if a.get("model_fingerprint") or b.get("model_fingerprint"):
                which = "previous" if b.get("model_fingerprint") else "this"
                out.append(Change("model", v, "", f"architecture not recorded in the {which} run"))
            continue
        if words:
            out.append(Change("model", v, "", "; ".join(words)))
    return out


def _fingerprint_text(info: dict[str, Any]) -> str:
    if not info.get("model_fingerprint"):
        return "architecture not recorded"
    arch = info.get("architecture") if isinstance(info.get("architecture"), dict) else {}
    cut = f", frozen until {fmt_value(arch['frozen_until'], 40)}" if arch.get("frozen_until") else ""
    return fmt_value(info["model_fingerprint"], 20) + cut


def _details(run: Run, label: str) -> Details:
    commit = run.commit
    env = run.environment
    items = [
        ("Date", fmt_date(run.datetime)),
        ("Commit", fmt_commit(commit)),
    ]
    if commit.get("branch"):
        items.append(("Branch", fmt_value(commit["branch"], 60)))
    items += [
        ("Profile", fmt_value(run.profile) if run.profile else "unknown"),
        ("Complete", "yes" if run.complete else "no: the run was interrupted"),
        ("TensorFlow", fmt_value(env.get("tensorflow", "unknown"))),
        ("Keras", fmt_value(env.get("keras", "unknown"))),
        ("Device", fmt_value(env.get("device", "unknown")) + (f" ({fmt_value(env['device_kind'])})" if env.get("device_kind") else "")),
    ]
    if run.machine.get("python_version"):
        items.append(("Python", fmt_value(run.machine["python_version"])))
    if run.machine.get("node"):
        items.append(("Machine", fmt_value(run.machine["node"])))
    data = run.dataset or {}
    dataset: list[tuple[str, str]] = []
    skipped: list[str] = []
    if data:
        for key in ("name", "source", "version", "image_size"):
            if key in data:
                dataset.append((key, fmt_value(data[key])))
        splits = data.get("splits")
        if isinstance(splits, dict):
            dataset.append(("splits", " · ".join(f"{fmt_value(k, 30)} {fmt_value(v, 20)}" for k, v in splits.items())))
        classes = data.get("class_names")
        if isinstance(classes, list):
            dataset.append(("classes", f"{len(classes)}: " + fmt_value(", ".join(map(str, classes)), 200)))
        if "hash" in data:
            dataset.append(("fingerprint", fmt_value(data["hash"], 80)))
        sk = data.get("skipped")
        if isinstance(sk, dict):
            dataset.append(("skipped files", fmt_value(sk.get("count", 0))))
            skipped = [fmt_value(p, 160) for p in (sk.get("examples") or [])[:10]] if isinstance(sk.get("examples"), list) else []
        shown = {"name", "source", "version", "image_size", "splits", "class_names", "hash", "skipped"}
        for key, value in data.items():
            if key not in shown:
                dataset.append((fmt_value(key, 40), fmt_value(value)))
    configs = _variant_configs(run)
    variants = _ordered(list(configs))
    keys = list(dict.fromkeys(k for v in variants for k in configs[v] if k != "variant"))
    common, differing = [], []
    for key in keys:
        shown_values = [fmt_value(configs[v][key]) if key in configs[v] else "(absent)" for v in variants]
        if len(set(shown_values)) == 1 and len(variants) > 1:
            common.append((fmt_value(key, 60), shown_values[0]))
        else:
            differing.append((fmt_value(key, 60), shown_values))
    seeds = _seeds(run)
    differing.append(("seeds", [", ".join(map(str, seeds.get(v, []))) or "—" for v in variants]))
    hashes = []
    for v in variants:
        found = list(dict.fromkeys(fmt_value(c.info["config_hash"], 40) for c in run.by_variant()[v] if c.info.get("config_hash")))
        hashes.append(", ".join(found) or "—")
    differing.append(("config_hash", hashes))
    info = _model_info(run)
    differing.append(("description", [fmt_value((info.get(v) or {}).get("description") or registry.description(v) or "—", 160)
                                      for v in variants]))
    differing.append(("model fingerprint", [_fingerprint_text(info.get(v) or {}) for v in variants]))
    differing.append(("weights used", [architecture.weights_label((info.get(v) or {}).get("weights_identity"))
                                  for v in variants]))
    return Details(
        label=label,
        source=Path(run.source).name,
        items=items,
        dataset=dataset,
        skipped=skipped,
        common_config=common,
        config_variants=variants,
        config_rows=differing,
    )


def _cell(cases: list[Case]) -> HistoryCell:
    status = _status(cases)
    ok = [c for c in cases if c.ok]
    accs = _values(ok, "test_accuracy")
    acc = "—" if not accs else f"{_mean(accs):.4f}" + (f" (n={len(accs)})" if len(accs) > 1 else "")
    return HistoryCell(status=status, accuracy=acc, time=fmt_seconds(_mean(_values(ok, "train_seconds"))))


def _group(profile: str, runs: list[Run], several: bool) -> Group:
    from flowers import plots  # matplotlib is only imported when a report is built

    variants = _ordered([v for r in runs for v in r.variants])
    colors = {v: i for i, v in enumerate(variants)}
    latest = runs[-1]
    labels = [f"#{i}" for i in range(1, len(runs) + 1)]
    by_variant = latest.by_variant()
    notes: list[str] = []
    rows = []
    for v in variants:
        seen_in = next((labels[i] for i in range(len(runs) - 2, -1, -1) if v in runs[i].variants), None)
        rows.append(_row(v, by_variant.get(v, []), latest, seen_in, notes))
    ok_cases = [c for c in latest.cases if c.ok]
    columns = {
        "seeds": any(len(cs) > 1 for cs in by_variant.values()),
        "efficiency": any(c.metric("achieved_gflops") is not None and c.metric("peak_gflops") for c in ok_cases),
        "peak_memory": any(c.metric("peak_memory_bytes") is not None for c in ok_cases),
        "feature_cache": any(isinstance(c.info.get("feature_cache"), dict) for c in ok_cases),
    }
    data = latest.dataset or {}
    caveat = None
    if data.get("name") and data.get("name") != "tf_flowers":
        size = f" at {fmt_value(data['image_size'])} px" if data.get("image_size") else ""
        caveat = (
            f"This run used the {fmt_value(data['name'], 40)} data set{size}; the original's numbers are from "
            "tf_flowers at 160 px, so the differences are for orientation only."
        )

    curves, no_curves, overlay_lines = [], [], []
    for v in variants:
        cases = by_variant.get(v, [])
        with_history = [c for c in cases if c.ok] or [c for c in cases if isinstance(c.info.get("history"), dict)]
        series = _series(with_history)
        if not series:
            if not cases:
                reason = "missing from this run"
            elif any(c.ok for c in cases):
                reason = "no history recorded"
            else:
                reason = "failed before any epoch was recorded"
            no_curves.append((v, reason))
            continue
        failed = "" if any(c.ok for c in cases) else " (failed)"
        seeds = f" (mean of {len(with_history)} seeds)" if len(with_history) > 1 else ""
        title = f"{v}{failed}{seeds}"
        curves.append(figure(plots.curves(title, series), f"Learning curves of {v}", title))
        if "val_accuracy" in series:
            overlay_lines.append((v, series["val_accuracy"]["mean"], colors[v]))
    overlay = None
    if overlay_lines:
        overlay = figure(plots.overlay(overlay_lines), "Validation accuracy of every variant per epoch", "All variants: validation accuracy")

    history = None
    all_changes = [None] + [changes(runs[i - 1], runs[i]) for i in range(1, len(runs))]
    if len(runs) > 1:
        hrows = []
        for i, run in enumerate(runs):
            groups = run.by_variant()
            hrows.append(
                HistoryRow(
                    label=labels[i],
                    date=fmt_date(run.datetime),
                    commit=fmt_commit(run.commit),
                    source=Path(run.source).name,
                    complete=run.complete,
                    changes=all_changes[i] or [],
                    cells=[_cell(groups.get(v, [])) for v in variants],
                    first=i == 0,
                )
            )
        acc_lines, time_lines = [], []
        for v in variants:
            accs, times = [], []
            for run in runs:
                ok = [c for c in run.by_variant().get(v, []) if c.ok]
                accs.append(_mean(_values(ok, "test_accuracy")))
                times.append(_mean(_values(ok, "train_seconds")))
            acc_lines.append((v, accs, colors[v]))
            time_lines.append((v, times, colors[v]))
        marked = [i for i, ch in enumerate(all_changes) if ch and any(c.kind in ("config", "data", "seeds", "model") for c in ch)]
        png = plots.trend(labels, acc_lines, time_lines, marked)
        history = History(variants=variants, rows=hrows, trend=figure(png, "Test accuracy and train time of every variant per run", "History"))

    return Group(
        profile=profile,
        heading=f"Profile {profile}" if several else None,
        latest_label=labels[-1],
        latest_date=fmt_date(latest.datetime),
        latest_source=Path(latest.source).name,
        runs=len(runs),
        caveat=caveat,
        latest_changes=all_changes[-1],
        columns=columns,
        rows=rows,
        notes=notes,
        curves=curves,
        no_curves=no_curves,
        overlay=overlay,
        details=_details(latest, labels[-1]),
        history=history,
        breakdown=_breakdown(variants, by_variant),
    )


def _dedupe(runs: list[Run], warnings: list[str]) -> list[Run]:
    """The same session saved twice (``--benchmark-json`` and ``--benchmark-autosave``) counts once."""
    seen: dict[tuple, Run] = {}
    for run in runs:
        key = (run.datetime, run.commit.get("id"), tuple(sorted(c.name for c in run.cases)))
        if key in seen:
            warnings.append(f"{Path(run.source).name} is the same run as {Path(seen[key].source).name}; counted once")
            continue
        seen[key] = run
    return list(seen.values())


def build(runs: list[Run], title: str = "flowers-bench report") -> Report:
    """The report's data model from loaded runs (any order; sorted oldest first here)."""
    if not runs:
        raise ResultsError(f"no runs to report; {DEFAULT_HELP}")
    warnings: list[str] = []
    runs = _dedupe(sorted(runs, key=lambda r: r.datetime), warnings)
    by_profile: dict[str, list[Run]] = {}
    for run in runs:
        by_profile.setdefault(run.profile or "unknown", []).append(run)
    if len(by_profile) > 1:
        counts = ", ".join(f"{p}: {len(rs)} run{'s' if len(rs) > 1 else ''}" for p, rs in by_profile.items())
        warnings.append(
            f"these results mix profiles ({counts}); each profile is reported on its own, "
            "never mixed in one table or history"
        )
    for profile, group_runs in by_profile.items():
        for i, run in enumerate(group_runs):
            if not run.complete:
                warnings.append(
                    f"run #{i + 1} of profile {profile} ({Path(run.source).name}) was interrupted: "
                    "variants it lacks may simply not have run"
                )
        machines = {r.machine_key for r in group_runs}
        if len(machines) > 1:
            warnings.append(
                f"the runs of profile {profile} come from {len(machines)} different machines or devices: "
                "compare train times only between runs of one machine"
            )
    several = len(by_profile) > 1
    groups = [_group(p, rs, several) for p, rs in by_profile.items()]
    return Report(
        title=title,
        generator=f"flowers report {__version__}",
        sources=[Path(r.source).name for r in runs],
        runs=len(runs),
        warnings=warnings,
        groups=groups,
        base=3 if several else 2,
    )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*~\[\]<>|&$])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(value: Any) -> str:
    """Text from a result file as literal Markdown text (GitHub-flavoured), fit for a table cell.

    Markup made by the template itself (a macro's output passed through ``| safe``) is kept as is.
    """
    from markupsafe import Markup

    if isinstance(value, Markup):
        return str(value)
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def _environment(markdown: bool):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("flowers", TEMPLATES),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Markdown has no autoescape: every {{ value }} goes through md_escape instead.
        finalize=md_escape if markdown else None,
    )
    return env


def render_markdown(report: Report) -> str:
    return _environment(True).get_template("report.md.j2").render(r=report)


def render_html(report: Report) -> str:
    return _environment(False).get_template("report.html.j2").render(r=report)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` for the time the files are written (POSIX; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(folder / ".report.lock", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def render(report: Report) -> dict[str, str]:
    """The pages of a report: ``{"report.md": ..., "report.html": ...}``."""
    return {"report.md": render_markdown(report), "report.html": render_html(report)}


def write(report: Report, out_dir: str | Path, pages: dict[str, str] | None = None) -> list[Path]:
    """Write the graphs, then report.md and report.html, into ``out_dir``; return the paths written.

    Rendering happens before anything is written.  Under a lock on the folder each file is written
    atomically, graphs (named by their content hash) before the pages that reference them; graphs
    of earlier reports (``fig-<hash>.png`` not referenced now) are removed afterwards.
    """
    pages = pages or render(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with _locked(out):
        for fig in report.figures:
            atomic.write_bytes(out / fig.file, fig.png)
            written.append(out / fig.file)
        for name, text in pages.items():
            atomic.write_text(out / name, text)
            written.append(out / name)
        keep = {p.name for p in written}
        for old in out.iterdir():
            if FIGURE_NAME.match(old.name) and old.name not in keep:
                old.unlink(missing_ok=True)
    return written


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

DEFAULT_HELP = "give RESULTS, or run pytest benchmarks --benchmark-json out.json first"


def default_inputs(cwd: Path | None = None) -> list[Path]:
    """``out.json`` when it exists, else the autosave folder ``.benchmarks``."""
    cwd = cwd or Path.cwd()
    for name in DEFAULT_INPUTS:
        if (cwd / name).exists():
            return [cwd / name]
    raise ResultsError(f"no RESULTS given and neither out.json nor .benchmarks/ is here; {DEFAULT_HELP}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "results",
        nargs="*",
        metavar="RESULTS",
        help="--benchmark-json files or pytest-benchmark storage folders (default: out.json, else .benchmarks/)",
    )
    parser.add_argument("-o", "--output", default="reports", metavar="DIR", help="output folder (default: reports)")
    parser.add_argument("--title", default="flowers-bench report", help="the report's title")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but warnings and errors")


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.results] or default_inputs()
    report = build(load_runs(paths), title=args.title)
    for warning in report.warnings:
        print(f"flowers report: warning: {warning}", file=sys.stderr)
    pages = render(report)
    try:
        written = write(report, args.output, pages)
    except OSError as exc:
        print(f"flowers report: error: cannot write into {args.output}: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        out = Path(args.output)
        print(f"flowers report: {report.runs} run(s) -> {out / 'report.md'}, {out / 'report.html'} "
              f"and {len(written) - len(pages)} graph(s)")
    return 0
