"""The report's data model: what the templates see.

Plain data classes holding display strings (formatted by :mod:`flowers.display`), numbers and the
graphs (:class:`flowers.display.Figure`); markup is added by the templates only.
:func:`flowers.report.build.build` makes a :class:`Report`; :mod:`.render` and :mod:`.write` turn it
into files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowers.display import NONE, Figure


@dataclass
class ComparisonRow:
    """One variant's line in the comparison table (one per compared run when there are several)."""

    variant: str
    model: str  # the original's model number ("1", "3.2"), "" when the original had no such model
    status: str  # ok | partial | failed | skipped | invalid | missing
    n: str
    test_loss: str = NONE
    test_loss_orig: str = ""
    test_loss_diff: str = ""
    test_loss_trend: str = ""  # better | worse | "" (for colouring)
    test_accuracy: str = NONE
    test_accuracy_orig: str = ""
    test_accuracy_diff: str = ""
    test_accuracy_trend: str = ""
    notes: list[str] = field(default_factory=list)
    note_refs: list[int] = field(default_factory=list)
    epochs: str = NONE
    train_time: str = NONE
    images_per_second: str = NONE
    params: str = NONE  # "total / trainable"
    params_total: str = NONE
    params_trainable: str = NONE
    efficiency: str = NONE
    efficiency_detail: str = ""  # "achieved / peak GFLOP/s"
    efficiency_gflops: str = ""  # the same without the unit
    peak_memory: str = NONE
    feature_cache: str = NONE
    feature_cache_detail: str = ""
    run: str = ""  # the run's label ("#2") when the table holds several runs


@dataclass
class RunLabel:
    """A run of the comparison view: its label, file and date, and whether it is the reference."""

    label: str
    source: str
    date: str
    reference: bool
    seeds: str  # seeds per variant: "3", or "1-3"
    changes: list[Change] = field(default_factory=list)  # what changed from the reference


@dataclass
class ValueCell:
    """One run's mean of a metric over its seeds, with the 95% interval of the mean."""

    mean: str
    interval: str = ""  # "[0.921, 1.000]"; "" with one seed and no known noise
    best: bool = False  # the best mean of the row (among the runs compared)
    status: str = "ok"  # ok | partial | failed | skipped | invalid | missing
    n: int = 0  # seeds


@dataclass
class EffectCell:
    """The difference of one run from the reference, its 95% interval and the verdict in words."""

    diff: str = ""
    interval: str = ""
    verdict: str = ""  # better | worse | no difference shown | cannot tell | "" (not compared)
    note: str = ""  # why not compared, or what the interval leaves out


@dataclass
class SideRow:
    variant: str
    values: list[ValueCell]  # one per run, in the view's order
    effects: list[EffectCell]  # one per run other than the reference
    resolution: str = ""  # what these seeds can show, in words


@dataclass
class SideTable:
    """One metric of the comparison view: a row per variant."""

    key: str
    title: str
    rows: list[SideRow]
    note: str = ""


@dataclass
class SideBySide:
    """The comparison view: every compared run's scores side by side, each against the reference."""

    runs: list[RunLabel]
    others: list[str]  # the labels of the runs compared with the reference, in order
    tables: list[SideTable]
    left_out: int = 0  # runs of the profile not in the view (in the history only)


@dataclass
class BreakdownRow:
    """One variant's time breakdown (means over its seeds), as display strings in the order of
    :data:`flowers.report.breakdown.BREAKDOWN_PARTS`."""

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
    status: str  # ok | partial | failed | skipped | invalid | missing
    accuracy: str
    time: str
    interval: str = ""  # the 95% interval of the mean accuracy (never narrower than the binomial noise)
    loss: str = NONE


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
class GateLimits:
    """What ``flowers check`` detects with this run as its baseline (:mod:`flowers.report.gate`)."""

    seeds: int
    current_seeds: list[int]
    rows: list[list[str]]  # variant, metric, noise of one seed, smallest change flagged per current_seeds


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
    rows: list[ComparisonRow]
    notes: list[str]
    curves: list[Figure]
    no_curves: list[tuple[str, str]]  # (variant, why it has no graph)
    overlay: Figure | None
    details: Details
    history: History | None
    breakdown: Breakdown | None = None
    gate: GateLimits | None = None
    sidebyside: SideBySide | None = None  # several runs: the comparison view, leading the group
    compared: list[str] = field(default_factory=list)  # labels of the runs in the Results and curves


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
        """Every graph of the report, once each."""
        seen: dict[str, Figure] = {}
        for g in self.groups:
            for fig in [
                *g.curves,
                g.overlay,
                g.history.trend if g.history else None,
                g.breakdown.figure if g.breakdown else None,
            ]:
                if fig is not None:
                    seen.setdefault(fig.file, fig)
        return list(seen.values())
