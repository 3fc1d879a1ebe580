"""The weighted CX index of `index:`: one number on 0-100, always read beside its parts.

Each part is its survey's metric on a 0-100 scale: CSAT and CES as they are (% favourable),
NPS as (NPS + 100) / 2. The index is the weighted sum `I = Σ wᵢ·vᵢ` (the weights sum to 1).

Its 95% interval is `I ± 1.96·SE` by the delta method, the parts taken as independent samples
(different surveys, different answers): `Var(I) = Σ wᵢ²·Var(vᵢ)`, exact for a weighted sum.
Each part's variance (in points², on the 0-100 scale):
- a share x of n: the Agresti-Coull variance `p̃(1-p̃)/(n+z²)·100²`, p̃ = (x + z²/2)/(n + z²), the
  centre of the part's own Wilson interval; unlike `p(1-p)/n` it is not 0 when every answer agrees;
- NPS: its own standard error (`bot.metrics.statistics.nps_standard_error`), halved by the mapping.
The interval is clipped to 0..100. A period where a part has no counted response has no index
(renormalising the other weights would change what the number means from one period to the
next): `missing` names the parts without one. The index is `small` when any part is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.metrics.statistics import Z95, is_small_sample, nps_standard_error


@dataclass(frozen=True)
class PartCounts:
    """A survey's counts in one period: `top` favourable (NPS promoters), `bottom` NPS detractors."""

    metric: str
    n: int
    top: int
    bottom: int = 0


@dataclass(frozen=True)
class Part:
    """A part of the index in one period: its value and standard error on 0-100 (None: no answer)."""

    survey: str
    weight: float
    value: float | None
    standard_error: float | None
    n: int


@dataclass(frozen=True)
class IndexValue:
    """The index of one period; `value`, `low`, `high` are None when a part has no answer."""

    value: float | None
    low: float | None
    high: float | None
    small: bool
    parts: list[Part]
    missing: list[str]


def part_of(survey: str, weight: float, counts: PartCounts | None) -> Part:
    """The part on the 0-100 scale with its standard error."""
    if counts is None or counts.n == 0:
        return Part(survey, weight, None, None, 0)
    n = counts.n
    if counts.metric == "nps":
        passives = n - counts.top - counts.bottom
        nps = 100 * (counts.top - counts.bottom) / n
        return Part(
            survey, weight, (nps + 100) / 2, nps_standard_error(counts.top, passives, counts.bottom) / 2, n
        )
    z2 = Z95 * Z95
    centre = (counts.top + z2 / 2) / (n + z2)
    return Part(survey, weight, 100 * counts.top / n, 100 * math.sqrt(centre * (1 - centre) / (n + z2)), n)


def cx_index(weights: Mapping[str, float], counts: Mapping[str, PartCounts], min_sample: int) -> IndexValue:
    """The index of one period from each weighted survey's counts (absent: no answer)."""
    parts = [part_of(survey, weight, counts.get(survey)) for survey, weight in weights.items()]
    missing = [p.survey for p in parts if p.value is None]
    small = any(is_small_sample(p.n, min_sample) for p in parts)
    if missing:
        return IndexValue(None, None, None, small, parts, missing)
    value = math.fsum(p.weight * (p.value or 0.0) for p in parts)
    se = math.sqrt(math.fsum((p.weight * (p.standard_error or 0.0)) ** 2 for p in parts))
    return IndexValue(value, max(0.0, value - Z95 * se), min(100.0, value + Z95 * se), small, parts, [])
