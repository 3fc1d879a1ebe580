"""The trend chart attached to a digest: the metric per day with its 95% interval as a band.

Drawn with matplotlib's Agg canvas on a fresh `Figure` (no pyplot, so no global state and safe
from several threads), returned as PNG bytes ready for `files_upload_v2`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.metrics.statistics import Estimate
from bot.texts import digest as texts

Y_RANGE = {"csat": (0.0, 100.0), "ces": (0.0, 100.0), "nps": (-100.0, 100.0)}


def render_trend_chart(
    points: Sequence[tuple[date, Estimate | None]],
    *,
    survey: str,
    metric: str,
    min_sample: int = 30,
    title: str | None = None,
    partial_last: bool = False,
) -> bytes:
    """A PNG of the metric per day (see `draw_trend`)."""
    figure = Figure(figsize=(8, 3.6), dpi=110)
    FigureCanvasAgg(figure)
    draw_trend(
        figure, points, survey=survey, metric=metric, min_sample=min_sample, title=title,
        partial_last=partial_last,
    )  # fmt: skip
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def draw_trend(
    figure: Figure,
    points: Sequence[tuple[date, Estimate | None]],
    *,
    survey: str,
    metric: str,
    min_sample: int = 30,
    title: str | None = None,
    partial_last: bool = False,
) -> Axes:
    """The metric per day on `figure`: days without responses leave a gap, small samples are
    drawn hollow so a reader does not trust them more than they deserve, and a last day still
    under way (`partial_last`) is joined by a dashed line and labelled "so far", so a few early
    answers do not read as a fall. The axis says the unit and what the metric counts."""
    axes = figure.add_subplot()
    days = date2num([day for day, _ in points])
    values = [e.value if e else float("nan") for _, e in points]
    axes.fill_between(
        days,
        [e.low if e else float("nan") for _, e in points],
        [e.high if e else float("nan") for _, e in points],
        color="#4a90d9",
        alpha=0.2,
        linewidth=0,
        label="95% interval",
    )
    whole = len(values) - 1 if partial_last else len(values)
    axes.plot(days[:whole], values[:whole], color="#1f5fa8", linewidth=2)
    if partial_last and len(values) >= 2:
        axes.plot(days[-2:], values[-2:], color="#1f5fa8", linewidth=2, linestyle="--",
                  label=texts.chart_partial_day())  # fmt: skip
    solid = [(x, e.value) for x, (_, e) in zip(days, points, strict=True) if e and not e.small]
    hollow = [(x, e.value) for x, (_, e) in zip(days, points, strict=True) if e and e.small]
    if solid:
        axes.scatter(*zip(*solid, strict=True), color="#1f5fa8", zorder=3)
    if hollow:
        axes.scatter(
            *zip(*hollow, strict=True),
            facecolors="white",
            edgecolors="#1f5fa8",
            zorder=3,
            label=texts.chart_small_sample(min_sample),
        )
    _style(axes, metric, title or survey)
    if partial_last and len(points):
        labels = [f"{day:%a %d}" for day, _ in points]
        labels[-1] += "\n" + texts.chart_partial_day()
        axes.set_xticks(days, labels)
    return axes


def _style(axes: Axes, metric: str, title: str) -> None:
    axes.set_ylim(*Y_RANGE[metric])
    axes.set_title(texts.chart_title(title, metric), fontsize=11)
    axes.set_ylabel(texts.chart_axis(metric), fontsize=9)
    if metric != "nps":  # NPS is a difference of two shares: points from -100 to 100, not a %
        axes.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    axes.xaxis.set_major_locator(DayLocator())
    axes.xaxis.set_major_formatter(DateFormatter("%a %d"))
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="lower left", frameon=False, fontsize=8)
