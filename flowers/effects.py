r"""What a change did: the difference between two runs of one variant, its interval, a verdict in
words, and what the runs' seeds can resolve at all.  Read by the report's comparison view
(:mod:`flowers.report.sidebyside`) and by the check's line on its seeds (:mod:`flowers.check.power`).

The problem
-----------
Each run trains a variant with a few seeds and measures each seed once on a test split of ``n``
images.  Two runs differ by a change (a learning rate, a layer, the data) and by noise: each seed
sends training down another trajectory, and ``n`` images measure an accuracy only to within the
binomial noise ``sqrt(p (1 - p) / n)``.  A difference of the runs' means says what the change did
only as far as it stands out from that noise, and how far is what the seeds have to tell.

Scales
------
Differences are judged where the noise of a metric is about the same size whatever its level, so
that one interval formula fits every variant:

* **accuracy** on the arcsine scale ``asin(sqrt(p))`` (Bartlett 1936), in Anscombe's (1948) form
  ``asin(sqrt((p n + 3/8) / (n + 3/4)))`` when the test split's size ``n`` is known: a proportion
  measured on ``n`` images has there the standard deviation ``1 / (2 sqrt(n))`` at every ``p``, and
  a score near 1.0 is not squeezed against its ceiling.  Anscombe's shift keeps that true at the
  ceiling itself, where the plain form would make three perfect seeds on 50 images look exact to
  within 0.006.  That binomial noise is a floor for the spread of one seed: seeds that happen to
  agree do not make a 50-image test split exact.  (The check's gate, calibrated on the plain form,
  keeps it.)
* **loss** on ``log(loss + c)`` with ``c = LOSS_OFFSET = 0.01``, the shifted logarithm of Box and
  Cox (1964).  Cross-entropy's spread over seeds grows with its level, as on a log scale, but near
  zero a plain logarithm turns noise into huge ratios: a loss of 0.00002 against 0.00005 is "+150%"
  although both models are as sure as they get.  ``c = 0.01`` is the loss of a model that gives the
  right class 99% on every image (``-ln 0.99``); far above it the scale is the log scale, far below
  it differences vanish.
* **throughput** (images per second) on a log scale: timings vary by factors, and a change is read
  as a ratio.  Throughputs are compared only between runs on one kind of machine.

Intervals
---------
Each run's seeds give their mean, placed on the scale, and the standard deviation ``s`` of one
seed's value on the scale (for accuracy never below the binomial floor; a floor that is larger
counts as a known spread, with infinite degrees of freedom).  The mean itself is the plain mean
of the seeds, as every table shows it, mapped to the scale (the delta method's linearisation): the
mean of mapped values would, near the ceiling, put seeds of 1.0, 0.98 and 1.0 at 0.998.  A run's
mean has the 95% interval ``mean +- t s / sqrt(k)`` on the scale over its ``k`` seeds (Student t
with ``k - 1`` degrees of freedom).  The difference of two runs' means has Welch's
interval (Welch 1947): ``d +- t_nu sqrt(s_a^2 / k_a + s_b^2 / k_b)`` with the Welch-Satterthwaite
degrees of freedom ``nu`` (Satterthwaite 1946), so runs of unequal spread or seed counts are not
pooled.  A run of one seed has no spread of its own and borrows the other run's (both are assumed
to vary alike); for accuracy with one seed each only the binomial floor is known, and the interval,
which then counts the test split's noise alone, says so; loss and throughput with one seed each
have no interval.  Intervals are mapped back to the metric's units at the reference run's level,
so they may be lopsided (an accuracy of 0.99 can rise by 0.01 at most).

Verdicts
--------
*better* or *worse* when the 95% interval of the difference excludes zero, else *no difference
shown*, which is not "no difference": the half-width of the interval is the smallest difference
these seeds can tell from noise.  To resolve a difference ``delta`` (find it four times in five
with the 95% interval), about ``k = 2 (z_0.975 + z_0.8)^2 s^2 / delta^2`` seeds per run are needed,
the normal-approximation sample size of a two-sample comparison (Cohen 1988, ch. 2), with
``delta`` taken on the scale in the worse direction from the reference's level.

References: M. S. Bartlett, "The square root transformation in analysis of variance", JRSS Suppl.
3 (1936); F. J. Anscombe, "The transformation of Poisson, binomial and negative-binomial data",
Biometrika 35 (1948); G. E. P. Box and D. R. Cox, "An analysis of transformations", JRSS B 26
(1964); B. L. Welch, "The generalization of 'Student's' problem when several different population
variances are involved", Biometrika 34 (1947); F. E. Satterthwaite, "An approximate distribution
of estimates of variance components", Biometrics Bulletin 2 (1946); J. Cohen, *Statistical Power
Analysis for the Behavioral Sciences*, 2nd ed. (1988).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flowers import schema
from flowers.stats import mean_sd

LOSS_OFFSET = 0.01  # the loss of 99% confidence in the right class: below it, differences vanish
CONFIDENCE = 0.95  # of every interval shown
POWER = 0.80  # "resolve": find a difference this often
TINY = 1e-12  # log scale: a throughput of 0 is read as this
BETTER, WORSE, NO_DIFFERENCE, UNKNOWN = "better", "worse", "no difference shown", "cannot tell"


@dataclass(frozen=True)
class Scale:
    """Where a metric's differences are judged: ``to`` maps a value there, ``back`` returns it."""

    name: str
    to: Callable[[float], float]
    back: Callable[[float], float]


ARCSINE = Scale(
    "arcsine",
    lambda v: math.asin(math.sqrt(min(max(v, 0.0), 1.0))),
    lambda x: math.sin(min(max(x, 0.0), math.pi / 2)) ** 2,
)
LOG = Scale("log", lambda v: math.log(max(v, TINY)), lambda x: math.exp(min(x, 700.0)))
LOG_LOSS = Scale(
    f"log(loss + {LOSS_OFFSET:g})",
    lambda v: math.log(max(v, 0.0) + LOSS_OFFSET),
    lambda x: max(math.exp(min(x, 700.0)) - LOSS_OFFSET, 0.0),
)


def anscombe(n: int) -> Scale:
    """The arcsine scale of a proportion measured on ``n`` items in Anscombe's form: an affine map of
    ``p`` into ``(3/8 / (n + 3/4), 1 - 3/8 / (n + 3/4))`` before the arcsine, undone on the way back."""
    shift, factor = 0.375 / (n + 0.75), n / (n + 0.75)
    return Scale(
        f"arcsine (Anscombe, n={n})",
        lambda v: ARCSINE.to(shift + factor * min(max(v, 0.0), 1.0)),
        lambda x: min(max((ARCSINE.back(x) - shift) / factor, 0.0), 1.0),
    )


@dataclass(frozen=True)
class Measure:
    """A metric as the comparison reads it: its key, scale, and which direction is better."""

    key: str  # extra_info key
    scale: Scale
    higher_is_better: bool
    relative: bool = False  # differences shown as ratios (throughput) rather than in the metric's units
    binomial: bool = False  # accuracy: one seed's spread never below the test split's binomial noise
    worse: str = "change"  # what a change for the worse is called: drop, rise, fall

    @property
    def sign(self) -> int:
        """+1 when a fall is worse, -1 when a rise is."""
        return 1 if self.higher_is_better else -1

    def scale_for(self, n_test: int | None) -> Scale:
        """The scale of this metric measured on ``n_test`` test images (accuracy: Anscombe's form)."""
        return anscombe(n_test) if self.binomial and n_test else self.scale

    def units(self, scale: Scale, centre: float, step: float) -> float:
        """A step on ``scale`` from ``centre`` in the metric's units: a difference, or a ratio - 1."""
        if self.relative:
            return math.expm1(max(min(step, 700.0), -700.0))
        return scale.back(centre + step) - scale.back(centre)

    def step(self, scale: Scale, centre: float, worse_by: float, relative: bool | None = None) -> float | None:
        """A worse change of ``worse_by`` (units; a ratio when ``relative``) from ``centre``, as a
        distance on ``scale``; None when the metric cannot get that much worse."""
        level = scale.back(centre)
        relative = self.relative if relative is None else relative
        worse = level * (1 - self.sign * worse_by) if relative else level - self.sign * worse_by
        if worse < 0 or (self.binomial and worse > 1) or (worse == 0 and scale is LOG):
            return None
        return abs(centre - scale.to(worse))


ACCURACY = Measure(schema.TEST_ACCURACY, ARCSINE, True, binomial=True, worse="drop")
LOSS = Measure(schema.TEST_LOSS, LOG_LOSS, False, worse="rise")
THROUGHPUT = Measure(schema.TRAIN_THROUGHPUT, LOG, True, relative=True, worse="fall")
MEASURES = (ACCURACY, LOSS, THROUGHPUT)


def binomial_sd(n_test: int) -> float:
    """The noise of an accuracy measured on ``n_test`` images, on the arcsine scale."""
    return 1 / (2 * math.sqrt(n_test))


def binomial_interval(p: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Where an accuracy ``p`` measured on ``n`` images may lie by the binomial noise alone
    (arcsine scale): the least span an axis of accuracies must show."""
    half, scale = quantile(math.inf, confidence) * binomial_sd(n), anscombe(n)
    centre = scale.to(p)
    return scale.back(centre - half), scale.back(centre + half)


def quantile(df: float, confidence: float = CONFIDENCE) -> float:
    """The two-sided ``confidence`` quantile: Student t with ``df`` degrees of freedom, normal for inf."""
    if math.isinf(df):
        return statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    from scipy import stats  # imported here: reading results needs no scipy

    return float(stats.t.ppf(0.5 + confidence / 2, df))


@dataclass(frozen=True)
class Spread:
    """The standard deviation of one seed on the scale, with its degrees of freedom."""

    sd: float
    df: float  # inf: a known floor sets it
    source: str  # "seeds", "binomial" or "borrowed"


def spread(scaled: Sequence[float], floor: float = 0.0) -> Spread | None:
    """One seed's spread from values on the scale, never below ``floor``; None for one value and no floor."""
    sd = mean_sd(scaled)[1] if len(scaled) > 1 else None
    if floor > 0 and floor >= (sd or 0.0):
        return Spread(floor, math.inf, "binomial")
    return None if sd is None else Spread(sd, len(scaled) - 1, "seeds")


@dataclass(frozen=True)
class Summary:
    """One run's seeds of one metric: the mean (units) and where it lies on the scale, one seed's
    spread there, and the mean's 95% interval (units)."""

    n: int
    mean: float
    scale: Scale
    centre: float  # the mean mapped to the scale (not the mean of the mapped values, which near a
    # bound of the scale lies far from the mean shown: three seeds 1.0, 0.98, 1.0 would centre on 0.998)
    spread: Spread | None
    low: float | None = None
    high: float | None = None


def summarise(measure: Measure, values: Sequence[float], n_test: int | None = None) -> Summary:
    """The seeds' ``values`` of one run (at least one) summed up; ``n_test`` (the test split's size)
    sets accuracy's scale and floor: give runs that are compared the same."""
    scale = measure.scale_for(n_test)
    mean = mean_sd(values)[0]
    centre = scale.to(mean)
    floor = binomial_sd(n_test) if measure.binomial and n_test else 0.0
    sp = spread([scale.to(v) for v in values], floor)
    if sp is None:
        return Summary(len(values), mean, scale, centre, sp)
    half = quantile(sp.df) * sp.sd / math.sqrt(len(values))
    ends = sorted((scale.back(centre - half), scale.back(centre + half)))
    return Summary(len(values), mean, scale, centre, sp, ends[0], ends[1])


@dataclass(frozen=True)
class Effect:
    """What ``other`` did against the reference, in the metric's units (a ratio - 1 when relative)."""

    diff: float
    low: float | None  # the 95% interval of the difference; None when the seeds cannot give one
    high: float | None
    verdict: str  # better | worse | no difference shown | cannot tell
    resolution: float | None  # the smallest worse difference these seeds tell from noise
    needed: int | None  # seeds per run that resolve ``target`` (None: unknown, or out of reach)
    target: float
    note: str = ""  # why the interval is partial or missing


def _spreads(ref: Summary, other: Summary) -> tuple[Spread, Spread] | None:
    """Each run's spread; a run of one seed borrows the other's when that one has several seeds
    (both assumed to vary alike), else keeps its floor (accuracy) or has none."""

    def one(run: Summary, partner: Summary) -> Spread | None:
        return run.spread if run.n > 1 or partner.n == 1 else (partner.spread or run.spread)

    a, b = one(ref, other), one(other, ref)
    return None if a is None or b is None else (a, b)


def _note(ref: Summary, other: Summary) -> str:
    if ref.n == 1 and other.n == 1:
        return "counting the test split's noise only, not the seeds'"
    if 1 in (ref.n, other.n):
        return "the run of one seed assumed to vary as the other"
    return ""


def welch(a: Spread, n_a: int, b: Spread, n_b: int) -> tuple[float, float]:
    """The standard error of a difference of two means and its Welch-Satterthwaite degrees of freedom."""
    va, vb = a.sd**2 / n_a, b.sd**2 / n_b
    parts = [v * v / sp.df for v, sp in ((va, a), (vb, b)) if not math.isinf(sp.df)]
    df = (va + vb) ** 2 / sum(parts) if parts and sum(parts) > 0 else math.inf
    return math.sqrt(va + vb), df


def seeds_needed(sd: float, delta: float, confidence: float = CONFIDENCE, power: float = POWER) -> int:
    """Seeds per run to find a difference ``delta`` (on the scale) with probability ``power`` by a
    two-sided interval at ``confidence``, one seed varying by ``sd`` (normal approximation)."""
    normal = statistics.NormalDist()
    z = normal.inv_cdf(0.5 + confidence / 2) + normal.inv_cdf(power)
    return max(2, math.ceil(2 * (z * sd / delta) ** 2)) if delta > 0 else 0


def effect(measure: Measure, ref: Summary, other: Summary, target: float, target_relative: bool = False) -> Effect:
    """The difference ``other - ref``, its interval and verdict, and what the seeds can resolve;
    ``target``: the difference worth resolving (units, a ratio when ``target_relative``)."""
    d, scale = other.centre - ref.centre, ref.scale
    diff = measure.units(scale, ref.centre, d)
    spreads = _spreads(ref, other)
    if spreads is None:
        return Effect(diff, None, None, UNKNOWN, None, None, target, "one seed per run: the seed noise is unknown")
    se, df = welch(spreads[0], ref.n, spreads[1], other.n)
    half = quantile(df) * se
    ends = sorted((measure.units(scale, ref.centre, d - half), measure.units(scale, ref.centre, d + half)))
    verdict = NO_DIFFERENCE
    if abs(d) > half:
        verdict = BETTER if (d > 0) == measure.higher_is_better else WORSE
    resolution = abs(measure.units(scale, ref.centre, -measure.sign * half))
    sd = math.sqrt((spreads[0].sd ** 2 + spreads[1].sd ** 2) / 2)
    delta = measure.step(scale, ref.centre, target, target_relative)
    needed = seeds_needed(sd, delta) if delta else None
    return Effect(diff, ends[0], ends[1], verdict, resolution, needed, target, _note(ref, other))
