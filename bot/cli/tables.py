"""Terminal tables for `explain` and `simulate` (rich), and the texts around them.

Each function takes plain values and returns a renderable; the CLI prints it. Nothing here
reads the database or the config.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bot.texts.times import when_iso
from storage.explain import ContactHistory, timeline

KIND_STYLES = {
    "event": "cyan", "decision": "yellow", "send": "green", "reminder": "blue", "response": "magenta",
}  # fmt: skip


def no_contact(contact_id: str) -> str:
    return f"nothing is stored about contact {contact_id!r} (no events, no decisions)"


def explain_table(contact_id: str, history: ContactHistory) -> RenderableType:
    """The contact's timeline: one row per event, decision, send and response, oldest first."""
    table = Table(title=f"contact {contact_id}", title_justify="left", expand=False, box=box.SIMPLE_HEAD)
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("what")
    for moment in timeline(history, when=when_iso):
        what = f"{moment.survey}: {moment.what}" if moment.survey else moment.what
        table.add_row(when_iso(moment.at), Text(moment.kind, style=KIND_STYLES[moment.kind]), what)
    contact = history.contact or {}
    zone = contact.get("timezone") or "not given (from the phone number, else the default)"
    header = Text(f"time zone: {zone}")
    if contact.get("forgotten_at"):
        header.append(f"; personal data erased at {contact['forgotten_at']}")
    return Group(header, table)


def simulation_view(report: dict[str, Any]) -> RenderableType:
    """A `SimulationReport.to_json()` as tables: totals, held back by survey and reason, per day."""
    summary = Table(title="simulation", title_justify="left")
    totals = {
        **report["events"],
        **{k: report[k] for k in ("would_send", "deferred_by_quiet_hours", "cancelled")},
    }
    totals["held_back"] = sum(report["held_back"].values())
    reminders = report.get("reminders") or {}
    if reminders.get("would_send"):
        totals["reminders"] = reminders["would_send"]
    for name in totals:
        summary.add_column(name.replace("_", " "), justify="right")
    summary.add_row(*(f"{value:,}" for value in totals.values()))
    by_survey = Table(title="by survey: would send, and held back by reason", title_justify="left")
    by_survey.add_column("survey")
    by_survey.add_column("outcome")
    by_survey.add_column("decisions", justify="right")
    for survey, outcomes in report["by_survey"].items():
        for outcome, count in outcomes.items():
            by_survey.add_row(survey, outcome.replace("_", " "), f"{count:,}")
    days = Table(
        title="by day (UTC: sends by the day they are due, holds by the event's day)", title_justify="left"
    )
    for name in ("day", "survey", "outcome"):
        days.add_column(name)
    days.add_column("decisions", justify="right")
    for day, surveys in sorted(report["by_day"].items()):
        for survey, outcomes in surveys.items():
            for outcome, count in outcomes.items():
                days.add_row(day, survey, outcome.replace("_", " "), f"{count:,}")
    notes = [Text(f"reminders assume {reminders['assumes']}")] if reminders.get("would_send") else []
    return Group(summary, *notes, by_survey, days)
