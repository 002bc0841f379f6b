"""The Westgard rules (Westgard, "Basic QC Practices"): which rules a new control result breaks,
given its lot's target mean and SD and the lot's previous results. Pure: no database, no Django.

Scope. The rules are read within one control lot's history, which is per assay and instrument
(``ControlLot``), across runs, in the order the results were measured: ``previous`` holds the
lot's results before the new one, oldest first (newest last). Rules are not read across lots or
levels (the "across materials" form of 2-2s and R-4s within one run is not applied).

Every rule is checked whatever the others say (the 1-2s "warning gate" of the manual multirule
flowchart is not applied: a computer reads every rule at once). A limit is a strict inequality:
a result exactly at mean + 2 SD breaks no rule, one a hair beyond does. Each comparison is done
on the deviation from the mean against a multiple of the SD, in exact decimals (no division).

- **1-2s** (warning): the new result is beyond mean ± 2 SD.
- **1-3s** (rejection): the new result is beyond mean ± 3 SD.
- **2-2s** (rejection): the new result and the previous one are both beyond 2 SD on the same
  side (both above mean + 2 SD, or both below mean - 2 SD).
- **R-4s** (rejection): the range between the new result and the previous one exceeds 4 SD with
  one above mean + 2 SD and the other below mean - 2 SD (with both limits strict the range
  always exceeds 4 SD then).
- **4-1s** (rejection): the new result and the previous 3 are all beyond 1 SD on the same side.
- **10x** (rejection): the new result and the previous 9 are all on the same side of the mean
  (a result exactly at the mean is on neither side and ends the streak).

A rule needing more previous results than there are is not broken (a new lot's first results
can break 1-2s and 1-3s only). The verdict: ``rejected`` when any rejection rule is broken,
else ``warning`` when 1-2s is, else ``in_control``. ``rules`` lists every rule broken, in the
order above (a result beyond 3 SD breaks "1-2s" and "1-3s").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

IN_CONTROL, WARNING, REJECTED = "in_control", "warning", "rejected"  # QcVerdict's values
RULES = ("1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10x")
WARNING_RULES = frozenset({"1-2s"})
# The most previous results a rule reads (10x: the new one and 9 before it).
NEEDED = 9


@dataclass(frozen=True)
class Evaluation:
    rules: tuple[str, ...]
    verdict: str

    @property
    def rejection_rules(self) -> tuple[str, ...]:
        return tuple(rule for rule in self.rules if rule not in WARNING_RULES)


def evaluate(
    *, mean: Decimal, sd: Decimal, previous: Sequence[Decimal], value: Decimal
) -> Evaluation:
    """The rules ``value`` breaks after ``previous`` (the lot's results, newest last; only the
    last ``NEEDED`` are read), against the lot's target ``mean`` and ``sd`` (> 0)."""
    if sd <= 0:
        raise ValueError(f"A control lot's SD must be above 0, not {sd}.")
    series = [Decimal(v) - mean for v in previous[-NEEDED:]] + [Decimal(value) - mean]
    one, two, three = sd, 2 * sd, 3 * sd
    new = series[-1]
    broken = []
    if abs(new) > two:
        broken.append("1-2s")
    if abs(new) > three:
        broken.append("1-3s")
    if len(series) >= 2:
        before = series[-2]
        if (new > two and before > two) or (new < -two and before < -two):
            broken.append("2-2s")
        if ((new > two and before < -two) or (new < -two and before > two)) and abs(
            new - before
        ) > 4 * sd:
            broken.append("R-4s")
    if _same_side(series[-4:], 4, one):
        broken.append("4-1s")
    if _same_side(series[-10:], 10, Decimal(0)):
        broken.append("10x")
    verdict = (
        REJECTED
        if any(rule not in WARNING_RULES for rule in broken)
        else WARNING
        if broken
        else IN_CONTROL
    )
    return Evaluation(tuple(broken), verdict)


def _same_side(deviations: Sequence[Decimal], count: int, beyond: Decimal) -> bool:
    """Whether there are ``count`` deviations, all above ``beyond`` or all below -``beyond``."""
    return len(deviations) == count and (
        all(d > beyond for d in deviations) or all(d < -beyond for d in deviations)
    )


def deviation_in_sd(*, mean: Decimal, sd: Decimal, value: Decimal) -> Decimal:
    """How many SDs ``value`` lies from ``mean`` (for showing, e.g. on a Levey-Jennings chart)."""
    return (Decimal(value) - mean) / sd
