"""The three survey metrics: the scale each asks on, and the bands its scores fall in.

A score at or below a metric's `low_score` is low (a survey may set its own threshold); from
`favourable_from` up it counts as satisfied (CSAT), easy (CES) or a promoter (NPS). NPS splits
the rest too: passives (`NPS_PASSIVE`) and, below them, detractors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricName = Literal["csat", "ces", "nps"]


@dataclass(frozen=True)
class Metric:
    name: MetricName
    scale: tuple[int, int]  # inclusive
    low_score: int  # the default threshold: a score at or below it is low
    favourable_from: int


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("csat", scale=(1, 5), low_score=2, favourable_from=4),
        Metric("ces", scale=(1, 7), low_score=3, favourable_from=5),
        Metric("nps", scale=(0, 10), low_score=6, favourable_from=9),
    )
}
NPS_PASSIVE = (7, 8)  # detractors score below, promoters from `favourable_from` (9) up
