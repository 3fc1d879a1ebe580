"""The policy's own settings: surveys, triggers, throttles and quiet hours, as validated values.

These are the parts of `config.yaml` that the decisions read. `bot.config` builds the whole
config from them; nothing here reads a file or the environment.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from triggers.durations import format_duration, not_a_duration, parse_duration
from triggers.locales import canonical_tag, language_tag_problem
from triggers.metrics import METRICS, MetricName


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(not_a_duration(value))


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 20:00 as the sexagesimal number 1200.
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        raise ValueError(f'{value!r} is not a time of day like "20:00"')
    return time(int(match.group(1)), int(match.group(2)))


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone like Europe/London or America/New_York"
        ) from None
    return str(value)


Duration = Annotated[
    timedelta, BeforeValidator(_duration), PlainSerializer(format_duration, when_used="json")
]
TimeOfDay = Annotated[
    time, BeforeValidator(_time_of_day), PlainSerializer(lambda t: t.strftime("%H:%M"), when_used="json")
]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]
ChannelName = Literal["sms", "email", "whatsapp"]
CHANNEL_NAMES: tuple[str, ...] = get_args(ChannelName)


class Section(BaseModel):
    """Every section refuses keys it does not know, so a typo is a problem, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class EmailQuestion(Section):
    subject: str
    body: str
    html: str | None = None


class SurveyQuestion(Section):
    sms: str | None = None
    email: EmailQuestion | None = None
    whatsapp: str | None = None  # default: the sms text

    def text_for(self, channel: str) -> str | None:
        """The text template of a text channel (`sms`, `whatsapp`); WhatsApp falls back to SMS's."""
        if channel == "whatsapp":
            return self.whatsapp or self.sms
        return self.sms if channel == "sms" else None


class Reminder(Section):
    """One reminder when no response came: `after` the first ask left; its texts are optional
    (default: "Reminder: " and the question), given per channel like the question's."""

    after: Duration
    sms: str | None = None
    email: EmailQuestion | None = None


class ReminderTexts(Section):
    """A translation's reminder texts (`translations.<locale>.reminder`); `after` stays the survey's."""

    sms: str | None = None
    email: EmailQuestion | None = None


class SurveyTexts(Section):
    """One locale's texts of a survey (`surveys.<id>.translations.<locale>`). Each text (a dotted
    name below this section) stands in for the survey's own at `TRANSLATED_FIELDS[name]`; one
    left out keeps the survey's, and a reminder's texts count only when the survey has one.
    A new translatable text is one field here and one entry in `TRANSLATED_FIELDS`."""

    sms: str | None = None
    whatsapp: str | None = None
    email: EmailQuestion | None = None
    follow_up: str | None = None
    reminder: ReminderTexts | None = None  # used when the survey has a `reminder`


# Where each field of `SurveyTexts` goes in a `SurveyConfig`: (section, field) or (field,).
TRANSLATED_FIELDS: dict[str, tuple[str, ...]] = {
    "sms": ("question", "sms"),
    "whatsapp": ("question", "whatsapp"),
    "email": ("question", "email"),
    "follow_up": ("follow_up",),
    "reminder.sms": ("reminder", "sms"),
    "reminder.email": ("reminder", "email"),
}


def _language_tag(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a BCP 47 language tag like en, fr-CA or pt-BR")
    if problem := language_tag_problem(value.strip()):
        raise ValueError(problem)
    return canonical_tag(value.strip())


LanguageTag = Annotated[str, BeforeValidator(_language_tag)]


class Cap(Section):
    count: int = Field(ge=1)
    per: Duration


class SurveyConfig(Section):
    metric: MetricName
    name: str | None = None  # how people see it in digests' charts; default: its id
    question: SurveyQuestion
    follow_up: str | None = None
    expires_after: Duration = timedelta(days=3)
    survey_cooldown: Duration | None = None
    contact_cooldown: Duration | None = None
    max_per_contact: Cap | None = None
    low_score: int | None = None
    reminder: Reminder | None = None
    locale: LanguageTag = "en"  # the language of the texts above
    translations: dict[LanguageTag, SurveyTexts] = Field(default_factory=dict)

    @property
    def scale(self) -> tuple[int, int]:
        return METRICS[self.metric].scale

    @property
    def low_score_threshold(self) -> int:
        return self.low_score if self.low_score is not None else METRICS[self.metric].low_score

    @model_validator(mode="after")
    def _threshold_on_scale(self) -> SurveyConfig:
        low, high = self.scale
        if self.low_score is not None and not low <= self.low_score <= high:
            raise ValueError(f"low_score {self.low_score} is outside the {self.metric} scale {low}-{high}")
        return self

    @model_validator(mode="after")
    def _reminder_before_expiry(self) -> SurveyConfig:
        if self.reminder is not None and not timedelta(0) < self.reminder.after < self.expires_after:
            raise ValueError(
                f"reminder.after ({format_duration(self.reminder.after)}) must be longer than 0 and "
                f"shorter than expires_after ({format_duration(self.expires_after)}): a reminder "
                "goes only while the survey is open"
            )
        return self


Scalar = str | int | float | bool


class NotCondition(Section):
    not_: Scalar | list[Scalar] = Field(alias="not")


Condition = Scalar | list[Scalar] | NotCondition


class CancelOn(Section):
    type: str
    match: list[str] = Field(default_factory=list)


class TriggerConfig(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    on: str
    survey: str
    channels: list[ChannelName] = Field(min_length=1)
    delay: Duration = timedelta(0)
    max_age: Duration | None = None
    when: dict[str, Condition] = Field(default_factory=dict)
    sample: float = Field(default=1.0, gt=0.0, le=1.0)
    cancel_on: CancelOn | None = None
    fallback: bool = False  # a failed or undelivered send tries the next channel, once


class QuietHours(Section):
    start: TimeOfDay
    end: TimeOfDay


class ThrottleConfig(Section):
    contact_cooldown: Duration = timedelta(days=7)
    survey_cooldown: Duration = timedelta(days=30)
    max_per_contact: Cap | None = Cap(count=4, per=timedelta(days=90))
    daily_cap: int | None = Field(default=10000, ge=0)
    quiet_hours: QuietHours | None = None
    default_timezone: TimeZoneName = "UTC"
