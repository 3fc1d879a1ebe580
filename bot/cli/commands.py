"""What the one-shot CLI commands do, kept apart from argument parsing so tests can call it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import Services, build_services
from bot.config import Config, DigestConfig
from bot.errors import NotFound, SlackRefused, SurveybotError
from bot.intake.files import Unparsable as _Unparsable
from bot.intake.files import read_csv, read_jsonl
from bot.intake.ingest import EventResult, chunks
from bot.metrics.digest import DigestReport
from bot.privacy.erasure import Eraser, ErasureReport
from bot.sms.inbox import InboundSms
from bot.texts import digest as texts
from bot.texts import messages
from storage.db import Database
from storage.explain import ContactHistory, contact_history
from storage.migrate import check_current, upgrade
from triggers.events import EventIn


def open_database(config: Config, *, migrate: bool = False) -> Database:
    """The configured database, migrated on SQLite (or with `migrate`); otherwise its schema
    must already be current. Raises `DatabaseUnavailable` or `SchemaNotCurrent`, saying why."""
    db = Database(config.storage.url)
    try:
        if db.is_sqlite or migrate:
            db.check()
            upgrade(db)  # on PostgreSQL under an advisory lock: processes starting together wait
        else:
            check_current(db)
    except BaseException:
        db.dispose()
        raise
    return db


def open_services(config: Config) -> Services:
    return build_services(config, db=open_database(config))


def emit_event(config: Config, event: dict[str, Any]) -> EventResult:
    services = open_services(config)
    try:
        return services.ingestor.ingest([event], source="cli")[0]
    finally:
        services.db.dispose()


def send_test_now(
    config: Config, event: EventIn, *, survey: str, channel: str
) -> tuple[str, str, str | None]:
    """`surveybot send-test`: the survey to the event's contact now, marked as a test."""
    services = open_services(config)
    try:
        return services.dispatcher.send_test(event, survey=survey, channel=channel)
    finally:
        services.close()


def play_reply(config: Config, sms: InboundSms) -> str | None:
    """`surveybot reply`: an SMS from a customer, through the webhook's conversation."""
    services = open_services(config)
    try:
        return services.sms_inbox.receive(sms)
    finally:
        services.close()


def forget_contact(
    config: Config, *, contact_id: str | None, phone: str | None, email: str | None
) -> ErasureReport:
    """Find the contact(s) and erase them; an address alone also erases messages from it."""
    services = open_services(config)
    try:
        eraser = Eraser(services.db, config, services.clock, services.address_keys)
        contact_ids, addresses = eraser.find(contact_id=contact_id, phone=phone, email=email)
        if not contact_ids and not addresses:
            return ErasureReport([])
        report = eraser.forget(contact_ids, addresses)
        if services.slack and services.slack.alerts and contact_ids:
            report.erased["slack_alerts_redrawn"] = services.slack.alerts.redraw_for_contacts(contact_ids)
        return report
    finally:
        services.db.dispose()


@dataclass
class ImportSummary:
    counts: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_file(config: Config, path: Path, *, fmt: str = "auto", progress: bool = True) -> ImportSummary:
    """Stream a JSON-lines or CSV file through ingestion in batches; report per status."""
    services = open_services(config)
    summary = ImportSummary()
    fmt = fmt if fmt != "auto" else ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    size = path.stat().st_size
    try:
        with path.open("rb") as raw, _progress(size, progress, path.name) as advance:
            rows = read_csv(raw) if fmt == "csv" else read_jsonl(raw)
            for batch in chunks(rows):
                parsed = [item for _, item in batch if not isinstance(item, _Unparsable)]
                results = iter(services.ingestor.ingest(parsed, source="import"))
                for line, item in batch:
                    unparsable = isinstance(item, _Unparsable)
                    _tally(
                        summary,
                        line,
                        EventResult(None, "invalid", item.message) if unparsable else next(results),
                    )
                advance(raw.tell())
    finally:
        services.db.dispose()
    return summary


def explain_contact(config: Config, contact_id: str) -> ContactHistory:
    """Everything stored about one contact (see `storage.explain`)."""
    db = open_database(config)
    try:
        with db.read() as conn:
            return contact_history(conn, contact_id)
    finally:
        db.dispose()


def _tally(summary: ImportSummary, line: int, result: EventResult) -> None:
    summary.counts[result.status] += 1
    if result.error:
        summary.errors.append((line, result.error))
    for decision in result.decisions:
        held = decision.outcome not in ("scheduled", "deferred")
        summary.decisions[(decision.reason or decision.outcome) if held else decision.outcome] += 1


@contextmanager
def _progress(total: int, enabled: bool, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar over `total` bytes; yields the function that moves it to a position."""
    if not enabled:
        yield lambda _done: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def stats_numbers(
    config: Config, *, surveys: list[str], window: timedelta, group_by: list[str], end: datetime
) -> DigestReport:
    """The current numbers, as `/surveybot stats` and the digests compute them."""
    from bot.metrics.report import stats_report

    db = open_database(config)
    try:
        with db.read() as conn:
            return stats_report(
                conn, config=config, end=end, window=window, surveys=surveys or None,
                group_by=group_by, title=texts.stats_title(texts.window_name(window)),
            )  # fmt: skip
    finally:
        db.dispose()


def digest_for(config: Config, name: str) -> DigestConfig:
    for digest in config.digests:
        if digest.name == name:
            return digest
    raise NotFound(messages.unknown_digest(name, [d.name for d in config.digests]))


def render_digest(config: Config, name: str, end: datetime) -> tuple[DigestReport, list[tuple[str, bytes]]]:
    """The digest `name` for the window ending at `end`, and its charts (when `chart: true`)."""
    from bot.slack.digests import build_digest

    digest = digest_for(config, name)
    db = open_database(config)
    try:
        return build_digest(db, config, digest, end)
    finally:
        db.dispose()


def post_digest_now(config: Config, name: str, end: datetime) -> tuple[str, str]:
    """Post the digest now, by hand: outside the once-per-window record, so the scheduled
    post of the same window still happens. Returns (channel id, message ts)."""
    digest = digest_for(config, name)
    services = open_services(config)
    try:
        if services.slack is None:
            raise SurveybotError(messages.NO_SLACK)
        return services.slack.post_digest_now(digest, end)
    except SlackRefused as exc:
        raise SurveybotError(messages.slack_refused(exc.error)) from None
    finally:
        services.close()
