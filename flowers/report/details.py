"""Run details: when and where the latest run ran (date, commit, versions, device), its data set, and
its configuration (what all variants share, then per variant what differs, with seeds, config hash,
description, model fingerprint and weights)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowers import facts, registry, schema
from flowers.display import NONE, fmt_commit, fmt_date, fmt_value
from flowers.registry import ordered
from flowers.report.cases import model_cases, seeds, variant_configs
from flowers.report.model import Details
from flowers.results import Case, Run

# Dataset keys shown in their own rows, in this order; any other key follows as it is.
DATASET_FIRST = (schema.NAME, schema.SOURCE, schema.VERSION, schema.IMAGE_SIZE)
DATASET_SHOWN = {*DATASET_FIRST, schema.SPLITS, schema.CLASS_NAMES, schema.HASH, schema.SKIPPED_FILES}


def details(run: Run, label: str) -> Details:
    dataset, skipped = _dataset(run.dataset or {})
    common, variants, differing = _config_table(run)
    return Details(
        label=label,
        source=Path(run.source).name,
        items=_items(run),
        dataset=dataset,
        skipped=skipped,
        common_config=common,
        config_variants=variants,
        config_rows=differing,
    )


def _items(run: Run) -> list[tuple[str, str]]:
    """Date, commit, branch, profile, completeness, versions, device, Python and machine."""
    commit, env = run.commit, run.environment
    items = [("Date", fmt_date(run.datetime)), ("Commit", fmt_commit(commit))]
    if commit.get(schema.COMMIT_BRANCH):
        items.append(("Branch", fmt_value(commit[schema.COMMIT_BRANCH], 60)))
    kind = f" ({fmt_value(env[schema.DEVICE_KIND])})" if env.get(schema.DEVICE_KIND) else ""
    items += [
        ("Profile", fmt_value(run.profile) if run.profile else "unknown"),
        ("Complete", "yes" if run.complete else "no: the run was interrupted"),
        ("TensorFlow", fmt_value(env.get(schema.TENSORFLOW, "unknown"))),
        ("Keras", fmt_value(env.get(schema.KERAS, "unknown"))),
        ("Device", fmt_value(env.get(schema.DEVICE, "unknown")) + kind),
    ]
    if run.machine.get(schema.PYTHON_VERSION):
        items.append(("Python", fmt_value(run.machine[schema.PYTHON_VERSION])))
    if run.machine.get(schema.NODE):
        items.append(("Machine", fmt_value(run.machine[schema.NODE])))
    return items


def _dataset(data: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """The data set's rows, and up to ten examples of the files it skipped."""
    rows = [(key, fmt_value(data[key])) for key in DATASET_FIRST if key in data]
    splits = data.get(schema.SPLITS)
    if isinstance(splits, dict):
        rows.append(("splits", " · ".join(f"{fmt_value(k, 30)} {fmt_value(v, 20)}" for k, v in splits.items())))
    classes = data.get(schema.CLASS_NAMES)
    if isinstance(classes, list):
        rows.append(("classes", f"{len(classes)}: " + fmt_value(", ".join(map(str, classes)), 200)))
    if schema.HASH in data:
        rows.append(("fingerprint", fmt_value(data[schema.HASH], 80)))
    skipped: list[str] = []
    sk = data.get(schema.SKIPPED_FILES)
    if isinstance(sk, dict):
        rows.append(("skipped files", fmt_value(sk.get(schema.SKIPPED_COUNT, 0))))
        examples = sk.get(schema.SKIPPED_EXAMPLES)
        skipped = [fmt_value(p, 160) for p in (examples or [])[:10]] if isinstance(examples, list) else []
    rows += [(fmt_value(key, 40), fmt_value(value)) for key, value in data.items() if key not in DATASET_SHOWN]
    return rows, skipped


def _config_table(run: Run) -> tuple[list[tuple[str, str]], list[str], list[tuple[str, list[str]]]]:
    """(config keys all variants share with their value, the variants, rows that differ per variant)."""
    configs = variant_configs(run)
    variants = ordered(list(configs))
    keys = list(dict.fromkeys(k for v in variants for k in configs[v] if k != schema.VARIANT))
    common, differing = [], []
    for key in keys:
        shown = [fmt_value(configs[v][key]) if key in configs[v] else "(absent)" for v in variants]
        if len(set(shown)) == 1 and len(variants) > 1:
            common.append((fmt_value(key, 60), shown[0]))
        else:
            differing.append((fmt_value(key, 60), shown))
    return common, variants, differing + _per_variant_rows(run, variants)


def _per_variant_rows(run: Run, variants: list[str]) -> list[tuple[str, list[str]]]:
    """Seeds, config hash, description, model fingerprint and weights of each variant."""
    seeds_of, by_variant, model = seeds(run), run.by_variant(), model_cases(run)
    hashes = [
        ", ".join(dict.fromkeys(fmt_value(c.config_hash, 40) for c in by_variant[v] if c.config_hash)) or NONE
        for v in variants
    ]
    return [
        ("seeds", [", ".join(map(str, seeds_of.get(v, []))) or NONE for v in variants]),
        (schema.CONFIG_HASH, hashes),
        (schema.DESCRIPTION, [fmt_value(_description(model.get(v), v), 160) for v in variants]),
        ("model fingerprint", [fingerprint_text(model.get(v)) for v in variants]),
        (
            "weights used",
            [facts.weights_label(case.weights if (case := model.get(v)) else None) for v in variants],
        ),
    ]


def _description(case: Case | None, variant: str) -> str:
    return (case.description if case else None) or registry.description(variant) or NONE


def fingerprint_text(case: Case | None) -> str:
    """The model fingerprint, with the layer the backbone is frozen until."""
    if case is None or not case.fingerprint:
        return "architecture not recorded"
    arch = case.architecture or {}
    cut = f", frozen until {fmt_value(arch[schema.FROZEN_UNTIL], 40)}" if arch.get(schema.FROZEN_UNTIL) else ""
    return fmt_value(case.fingerprint, 20) + cut
