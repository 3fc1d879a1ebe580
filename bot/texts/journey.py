"""The words of the journey by period (`surveybot stats --by`, the dashboard's journey page)."""

from __future__ import annotations

INDEX_NAME = "CX index"
JOURNEY_TABLE = "Journey by period"
INDEX_TABLE = "CX index by period, with its parts"
INDEX_COLUMN = "index and parts (0-100)"
PARTIAL = "to date"
NO_INDEX = "-"
NO_ANSWERS = "no answers"  # a cell of the dashboard (a lone "-" opens as a formula in a spreadsheet)
NO_INDEX_CELL = "no index"
KIND_NAMES = {"week": "ISO week (from Monday)", "month": "month", "quarter": "quarter"}
INDEX_METHOD = (
    "The CX index is the weighted sum of its parts on 0-100 (CSAT and CES as % favourable, NPS as "
    "(NPS + 100) / 2); its 95% interval is by the delta method, parts independent: "
    "Var = sum of weight² x the part's variance. No index in a period where a part has no answer."
)


def heading(kind: str, timezone: str, count: int) -> str:
    return f"Journey by {KIND_NAMES[kind]}, {count} periods, cut at midnight {timezone}"


def period_name(label: str, partial: bool) -> str:
    """`2026-12`, or `2026-12 (to date)` for the period cut short by the end."""
    return f"{label} ({PARTIAL})" if partial else label


def stage_title(stage: str, survey: str, metric_name: str) -> str:
    return f"{stage}: {survey} ({metric_name})"


def part_title(survey: str, weight: float) -> str:
    """An index part's column: `support_csat x0.4`."""
    return f"{survey} x{weight:g}"


def index_points(value: float) -> str:
    return f"{value:.1f}"


def missing_parts(surveys: list[str]) -> str:
    return "no answers for " + ", ".join(surveys)


def not_a_kind(value: str) -> str:
    return f"by: {value!r} is not week, month or quarter"


def not_a_count(value: str, most: int) -> str:
    return f"periods: {value!r} is not a number of periods from 1 to {most}"
