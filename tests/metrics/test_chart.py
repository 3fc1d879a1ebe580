"""The trend chart says what it shows: the unit and the metric's definition on the axis, the
survey's display name, and a last day still under way marked as such."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.metrics.chart import draw_trend, render_trend_chart
from bot.metrics.statistics import Estimate

DAYS = [date(2026, 11, 23) + timedelta(days=i) for i in range(7)]


def estimate(value: float, small: bool = False) -> Estimate:
    return Estimate(value=value, low=value - 10, high=min(value + 10, 100), n=40, small=small)


def draw(metric: str, **options: Any) -> Axes:
    figure = Figure()
    FigureCanvasAgg(figure)
    points = [(day, estimate(80.0)) for day in DAYS[:-1]] + [(DAYS[-1], estimate(20.0, small=True))]
    axes = draw_trend(figure, points, survey="support_csat", metric=metric, **options)
    figure.canvas.draw()
    return axes


def test_the_axis_has_the_unit_and_the_definition() -> None:
    axes = draw("csat")
    assert axes.get_ylabel() == "CSAT: % of scores 4-5"
    assert axes.yaxis.get_major_formatter()(80, 0) == "80%"
    nps = draw("nps")
    assert nps.get_ylabel() == "NPS: % promoters (9-10) minus % detractors (0-6)"
    assert "%" not in nps.yaxis.get_major_formatter()(30, 0)  # NPS is in points, not a share


def test_the_title_uses_the_display_name() -> None:
    assert draw("csat", title="Support satisfaction").get_title().startswith("Support satisfaction:")
    assert draw("csat").get_title().startswith("support_csat:")


def test_a_partial_last_day_is_dashed_and_labelled_so_far() -> None:
    axes = draw("csat", partial_last=True)
    labels = [tick.get_text() for tick in axes.get_xticklabels()]
    assert labels[-1] == "Sun 29\nso far" and "so far" not in "".join(labels[:-1])
    dashed = [line for line in axes.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_ydata()) == [80.0, 20.0]
    whole_days = draw("csat")
    assert not [line for line in whole_days.get_lines() if line.get_linestyle() == "--"]


def test_the_png_is_rendered() -> None:
    points = [(day, estimate(70.0)) for day in DAYS]
    png = render_trend_chart(points, survey="s", metric="ces", title="Onboarding", partial_last=True)
    assert png.startswith(b"\x89PNG")
