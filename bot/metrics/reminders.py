"""Whether reminders pay: the response rate of first asks and of reminders, apart, each with its
95% Wilson interval (SPEC §2: a response rate is responses over sends that left).

- First asks: of a survey's sends that left in the window, the share answered before any
  reminder of theirs left (a send whose reminder never left counts whenever it was answered).
- Reminders: of those sends' reminders that left, the share answered after the reminder.
Both read `storage.reminders.reminder_rates`; the report carries them as `SurveySection.reminders`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.metrics.statistics import wilson_interval
from storage.db import Connection
from storage.reminders import reminder_rates

if TYPE_CHECKING:
    from bot.config import Config
    from bot.metrics.digest import SurveySection


@dataclass(frozen=True)
class AskRate:
    """`responded` of `asked` answered, as a percentage with its 95% Wilson interval."""

    asked: int
    responded: int

    @property
    def rate(self) -> float | None:
        return 100 * self.responded / self.asked if self.asked else None

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.asked:
            return None
        low, high = wilson_interval(self.responded, self.asked)
        return 100 * low, 100 * high


@dataclass(frozen=True)
class ReminderRates:
    first_asks: AskRate
    reminders: AskRate


def with_reminder_rates(
    conn: Connection, sections: Sequence[SurveySection], *, config: Config, start: datetime, end: datetime
) -> list[SurveySection]:
    """`sections` with their `reminders` filled in, for the surveys that have a reminder or sent
    one in the window (one query for all of them)."""
    rows = {
        r.survey: r for r in reminder_rates(conn, surveys=[s.survey for s in sections], start=start, end=end)
    }
    filled = []
    for section in sections:
        row, survey = rows.get(section.survey), config.surveys.get(section.survey)
        reminding = survey is not None and survey.reminder is not None
        if row is None and reminding:
            rates = ReminderRates(AskRate(0, 0), AskRate(0, 0))
        elif row is not None and (reminding or row.reminders):
            rates = ReminderRates(
                AskRate(row.first_asks, row.first_responses), AskRate(row.reminders, row.reminder_responses)
            )
        else:
            filled.append(section)
            continue
        filled.append(replace(section, reminders=rates))
    return filled
