"""Background jobs with APScheduler 3 (the only module that imports it).

Dispatch runs every second and at once when ingestion schedules a send that is already due
(`poke()`), so a zero-delay survey leaves within a second, not on the next tick.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

_CRON_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A trigger for a standard crontab line, weekdays counted as cron counts them (0 = Sunday).

    APScheduler 3's `from_crontab` counts 0 as Monday, and a trigger object ignores the
    scheduler's time zone, so both are fixed here: numbers become names, the zone is explicit.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"{expr!r} has {len(fields)} fields; a cron line has 5 (minute hour day month weekday)"
        )
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_weekday_names(weekday), timezone=timezone
    )


def _weekday_names(field: str) -> str:
    parts = []
    for part in field.split(","):
        span, _, step = part.partition("/")
        span = re.sub(
            r"\d+", lambda m: _CRON_DAYS[int(m.group())] if int(m.group()) <= 7 else m.group(), span
        )
        parts.append(f"{span}/{step}" if step else span)
    return ",".join(parts)


def latest_fire_time(expr: str, timezone: str, *, after: datetime, now: datetime) -> datetime | None:
    """The last time `expr` fired in `(after, now]`, in UTC; None when it did not fire then.

    A digest's window ends at its scheduled fire time, whenever its job actually ran."""
    trigger = cron_trigger(expr, timezone)
    latest = None
    fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest.astimezone(UTC) if latest else None


def cron_problem(expr: str) -> str | None:
    """None when `expr` is a valid cron line, else what is wrong with it."""
    try:
        cron_trigger(expr, "UTC")
    except ValueError as exc:
        return f'{expr!r} is not a cron schedule like "0 9 * * mon" ({exc})'
    return None


class BotScheduler:
    """Owns the APScheduler instance; jobs are plain callables handed in by the app."""

    def __init__(self) -> None:
        self._scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1}
        )

    def every(self, seconds: float, job_id: str, func: Callable[[], Any]) -> None:
        self._scheduler.add_job(
            _guarded(job_id, func), "interval", seconds=seconds, id=job_id, next_run_time=datetime.now(UTC)
        )

    def on_cron(self, expr: str, timezone: str, job_id: str, func: Callable[[], Any]) -> None:
        self._scheduler.add_job(_guarded(job_id, func), cron_trigger(expr, timezone), id=job_id)

    def poke(self, job_id: str) -> None:
        """Run `job_id` now (or right after its current run): wakes the scheduler at once."""
        try:
            self._scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        except Exception:  # the job may be gone while shutting down
            log.debug("could not poke %s", job_id, exc_info=True)

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    def start(self) -> None:
        self._scheduler.start()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)


def _guarded(job_id: str, func: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            func()
        except Exception:
            log.exception("job %s failed; it runs again on its next turn", job_id)

    run.__name__ = job_id
    return run
