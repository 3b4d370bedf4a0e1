"""The history of one profile's runs: what changed between consecutive runs (:func:`changes`), and
the history table and trend graph built from it (:func:`history`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowers import effects, facts, schema
from flowers.display import NONE, figure, fmt_commit, fmt_date, fmt_seconds, fmt_value
from flowers.registry import ordered
from flowers.report.cases import mean, mean_of, model_cases, seeds, status, variant_configs
from flowers.report.model import Change, History, HistoryCell, HistoryRow
from flowers.results import Case, Run, metric_values

# Changes that can move the scores; the trend graph marks the runs that made one.
MARKED_KINDS = ("config", "data", "seeds", "model")
TIME = effects.Measure(schema.TRAIN_SECONDS, effects.LOG, False)  # train time: a log scale, as throughput


def changes(prev: Run, run: Run) -> list[Change]:
    """What changed from ``prev`` to ``run``: config keys that differ (only those), seeds, the model,
    the data fingerprint, the commit, the environment, and variants that appeared or disappeared."""
    a_cfg, b_cfg = variant_configs(prev), variant_configs(run)
    common = [v for v in ordered(list(b_cfg)) if v in a_cfg]
    return [
        *_config_changes(a_cfg, b_cfg, common),
        *_seed_changes(seeds(prev), seeds(run), common),
        *_model_changes(prev, run, common),
        *_data_changes(prev.dataset or {}, run.dataset or {}),
        *_commit_changes(prev.commit, run.commit),
        *_environment_changes(prev, run),
        *_variant_changes(prev, run),
    ]


def _scope(variants: list[str], common: list[str]) -> str:
    """The variants a change applies to, "" when it applies to all."""
    return "" if len(variants) == len(common) else ", ".join(variants)


def _config_changes(
    a_cfg: dict[str, dict[str, Any]], b_cfg: dict[str, dict[str, Any]], common: list[str]
) -> list[Change]:
    """Each config key whose value differs, once per (old, new) pair, naming the variants when not all."""
    out = []
    keys = list(dict.fromkeys(k for v in common for k in [*a_cfg[v], *b_cfg[v]]))
    for key in keys:
        by_pair: dict[tuple[str, str], list[str]] = {}
        for v in common:
            old = fmt_value(a_cfg[v][key]) if key in a_cfg[v] else "(absent)"
            new = fmt_value(b_cfg[v][key]) if key in b_cfg[v] else "(absent)"
            if old != new:
                by_pair.setdefault((old, new), []).append(v)
        out += [Change("config", key, old, new, _scope(vs, common)) for (old, new), vs in by_pair.items()]
    return out


def _seed_changes(a_seeds: dict[str, list[int]], b_seeds: dict[str, list[int]], common: list[str]) -> list[Change]:
    pairs: dict[tuple[str, str], list[str]] = {}
    for v in common:
        if a_seeds.get(v) != b_seeds.get(v) and a_seeds.get(v) and b_seeds.get(v):
            pair = (", ".join(map(str, a_seeds[v])), ", ".join(map(str, b_seeds[v])))
            pairs.setdefault(pair, []).append(v)
    return [Change("seeds", "seeds", old, new, _scope(vs, common)) for (old, new), vs in pairs.items()]


def _model_changes(prev: Run, run: Run, common: list[str]) -> list[Change]:
    """Per variant, what changed in what it is: the check's ``CHANGED`` rows
    (:func:`flowers.facts.differences`) but the config's and the data's, which are listed by setting;
    how it ran only between cases of one kind of machine."""
    out: list[Change] = []
    a_case, b_case = model_cases(prev), model_cases(run)
    for v in common:
        a, b = a_case.get(v), b_case.get(v)
        if a is None or b is None:
            continue
        same = len({tuple(c.hardware.values()) for c in (a, b)}) == 1
        words = [d.text for d in facts.differences([a], [b], same) if not facts.is_setting(d)]
        old, new = facts.lacking([a], same), facts.lacking([b], same)  # what each does not record
        for groups, which in (
            ([g for g in old if g not in new], "the previous"),
            ([g for g in new if g not in old], "this"),
        ):
            if groups:
                words.append(f"{', '.join(groups)} not recorded in {which} run")
        if words:
            out.append(Change("model", v, "", "; ".join(words)))
    return out


def _data_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """The data set's fingerprint (and its name, when that changed too)."""
    if (a.get(schema.HASH), a.get(schema.NAME)) == (b.get(schema.HASH), b.get(schema.NAME)):
        return []
    same_name = a.get(schema.NAME) == b.get(schema.NAME)

    def label(d: dict[str, Any]) -> str:
        if not d:
            return "unknown"
        short = fmt_value(d.get(schema.HASH, "?"), 80)[:12]
        return short if same_name else f"{fmt_value(d.get(schema.NAME, '?'), 40)} {short}"

    return [Change("data", "data fingerprint", label(a), label(b))]


def _commit_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    if a.get(schema.COMMIT_ID) != b.get(schema.COMMIT_ID) or bool(a.get(schema.COMMIT_DIRTY)) != bool(
        b.get(schema.COMMIT_DIRTY)
    ):
        return [Change("commit", "commit", fmt_commit(a), fmt_commit(b))]
    return []


def _versions(run: Run) -> dict[str, str]:
    f = run.environment
    return {k: fmt_value(f[k], 80) for k in (schema.TENSORFLOW, schema.KERAS, schema.DEVICE) if f.get(k)}


def _packages(run: Run) -> dict[str, str]:
    packages = run.environment.get(schema.PACKAGES)
    return {str(k): fmt_value(v, 40) for k, v in packages.items()} if isinstance(packages, dict) else {}


def _environment_changes(prev: Run, run: Run) -> list[Change]:
    """The device, and the installed versions that differ (each package recorded by both runs; for
    runs that recorded no package list, the TensorFlow and Keras versions)."""
    a_env, b_env = _versions(prev), _versions(run)
    a_pkg, b_pkg = _packages(prev), _packages(run)
    keys = [schema.DEVICE] if a_pkg and b_pkg else [schema.TENSORFLOW, schema.KERAS, schema.DEVICE]
    out = [
        Change("environment", key, a_env.get(key, "unknown"), b_env.get(key, "unknown"))
        for key in keys
        if a_env.get(key) != b_env.get(key)
    ]
    out += [
        Change("environment", name, a_pkg[name], b_pkg[name])
        for name in a_pkg
        if name in b_pkg and a_pkg[name] != b_pkg[name]
    ]
    return out


def _variant_changes(prev: Run, run: Run) -> list[Change]:
    a_vars, b_vars = set(prev.variants), set(run.variants)
    added = [v for v in ordered(run.variants) if v not in a_vars]
    gone = [v for v in ordered(prev.variants) if v not in b_vars]
    out = []
    if added:
        out.append(Change("variants", "variants added", "", ", ".join(added)))
    if gone:
        out.append(Change("variants", "variants missing", ", ".join(gone), ""))
    return out


def history(
    runs: list[Run],
    labels: list[str],
    variants: list[str],
    colors: dict[str, int],
    all_changes: list[list[Change] | None],
) -> History | None:
    """The history table (one row per run, what changed, each variant's accuracy and time) and the
    trend graph; None for a single run.  ``all_changes[i]`` is what changed into run ``i``."""
    if len(runs) < 2:
        return None
    from flowers.report import plots  # matplotlib is only imported when a report is built

    groups = [run.by_variant() for run in runs]
    rows = [
        HistoryRow(
            label=labels[i],
            date=fmt_date(run.datetime),
            commit=fmt_commit(run.commit),
            source=Path(run.source).name,
            complete=run.complete,
            changes=all_changes[i] or [],
            cells=[_cell(groups[i].get(v, [])) for v in variants],
            first=i == 0,
        )
        for i, run in enumerate(runs)
    ]
    acc_lines, time_lines = [], []
    for v in variants:
        per_run = [[c for c in g.get(v, []) if c.ok] for g in groups]
        acc_lines.append((v, *_band(per_run, effects.ACCURACY, colors[v])))
        time_lines.append((v, *_band(per_run, TIME, colors[v])))
    marked = [i for i, ch in enumerate(all_changes) if ch and any(c.kind in MARKED_KINDS for c in ch)]
    png = plots.trend(labels, acc_lines, time_lines, marked)
    trend = figure(png, "Test accuracy and train time of every variant per run", "History")
    return History(variants=variants, rows=rows, trend=trend)


def _band(per_run: list[list[Case]], measure: effects.Measure, index: int) -> tuple:
    """Per run, the mean of ``measure`` over its ok seeds and the 95% interval of that mean
    (:mod:`flowers.effects`; accuracy never narrower than the test split's binomial noise)."""
    means, lows, highs = [], [], []
    for ok in per_run:
        values = metric_values(ok, measure.key)
        n_test = next((c.test_images for c in ok if c.test_images), None)
        s = effects.summarise(measure, values, n_test) if values else None
        means.append(s.mean if s else None)
        lows.append(s.low if s else None)
        highs.append(s.high if s else None)
    return means, index, lows, highs


def _cell(cases: list[Case]) -> HistoryCell:
    """One variant in one run: its status, mean test accuracy (with n for several seeds) and the
    95% interval of that mean, mean test loss and train time."""
    ok = [c for c in cases if c.ok]
    accs = metric_values(ok, schema.TEST_ACCURACY)
    acc = NONE if not accs else f"{mean(accs):.4f}" + (f" (n={len(accs)})" if len(accs) > 1 else "")
    _, _, lows, highs = _band([ok], effects.ACCURACY, 0)
    interval = f"[{lows[0]:.3f}, {highs[0]:.3f}]" if lows[0] is not None and highs[0] is not None else ""
    loss = mean_of(ok, schema.TEST_LOSS)
    return HistoryCell(
        status=status(cases),
        accuracy=acc,
        time=fmt_seconds(mean_of(ok, schema.TRAIN_SECONDS)),
        interval=interval,
        loss=NONE if loss is None else f"{loss:.4f}",
    )
