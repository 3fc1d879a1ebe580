"""The trend chart as inline SVG, drawn on the server: no script, no asset from anywhere.

Per day: the metric (a line through filled dots), its 95% interval (a shaded band), days with
fewer than `min_sample` responses as hollow dots, days without a response left as gaps; the
previous window's value as a dashed baseline. The y axis names the metric, its unit and its
definition. Every text from outside is escaped; the rest are numbers we format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from bot.metrics.report import DayPoint
from bot.metrics.statistics import Estimate
from bot.texts import digest as texts

WIDTH, HEIGHT = 480, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 36, 40
MAX_X_LABELS = 5


def y_range(metric: str) -> tuple[float, float]:
    return (-100.0, 100.0) if metric == "nps" else (0.0, 100.0)


def trend_svg(
    points: Sequence[DayPoint], *, metric: str, previous: Estimate | None, title: str, window_name: str
) -> str:
    """The chart's markup (an `<svg>` element, already escaped)."""
    low, high = y_range(metric)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_describe(points, metric, previous, window_name))}</desc>',
    ]
    parts += _grid(metric, low, high, y)
    for segment in _segments(points):
        upper = " ".join(f"{x(i):.1f},{y(e.high):.1f}" for i, e in segment)
        lower = " ".join(f"{x(i):.1f},{y(e.low):.1f}" for i, e in reversed(segment))
        parts.append(f'<polygon class="band" points="{upper} {lower}"/>')
        line = " ".join(f"{x(i):.1f},{y(e.value):.1f}" for i, e in segment)
        parts.append(f'<polyline class="line" points="{line}"/>')
    if previous is not None:
        yp = y(previous.value)
        parts.append(f'<line class="baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yp:.1f}" y2="{yp:.1f}"/>')
    for i, point in enumerate(points):
        if point.estimate is not None:
            css = "dot small" if point.estimate.small else "dot"
            parts.append(f'<circle class="{css}" cx="{x(i):.1f}" cy="{y(point.estimate.value):.1f}" r="4"/>')
    parts += _x_labels(points, x)
    # The y axis's title sits above it, level: a rotated one would not fit NPS's definition.
    parts.append(f'<text class="axis-title" x="4" y="16">{escape(texts.chart_axis(metric))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _grid(metric: str, low: float, high: float, y: Callable[[float], float]) -> list[str]:
    parts = []
    ticks = [low + (high - low) * k / 4 for k in range(5)]
    for tick in ticks:
        yy = y(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        label = f"{tick:+.0f}" if metric == "nps" else f"{tick:.0f}%"
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>')
    return parts


def _x_labels(points: Sequence[DayPoint], x: Callable[[int], float]) -> list[str]:
    if not points:
        return []
    every = max(1, -(-len(points) // MAX_X_LABELS))
    labels = []
    for i, point in enumerate(points):
        if i % every == 0:
            labels.append(
                f'<text class="tick" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 22}" text-anchor="middle">'
                f"{point.day:%d %b}</text>"
            )
    return labels


def _segments(points: Sequence[DayPoint]) -> list[list[tuple[int, Estimate]]]:
    """Runs of consecutive days that have an estimate: a day without answers breaks the line."""
    runs: list[list[tuple[int, Estimate]]] = [[]]
    for i, point in enumerate(points):
        if point.estimate is None:
            runs.append([])
        else:
            runs[-1].append((i, point.estimate))
    return [run for run in runs if run]


def _describe(points: Sequence[DayPoint], metric: str, previous: Estimate | None, window_name: str) -> str:
    answered = [p for p in points if p.estimate is not None]
    text = f"{len(points)} days, {len(answered)} with responses."
    if answered:
        last = answered[-1]
        assert last.estimate is not None
        text += f" Latest day {last.day:%d %b}: {texts.metric_value(metric, last.estimate.value)}."
    if previous is not None:
        text += f" The previous {window_name}: {texts.metric_value(metric, previous.value)} (dashed line)."
    return text
