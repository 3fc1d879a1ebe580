"""What the one-shot CLI commands do, kept apart from argument parsing so tests can call it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import messages
from bot.app import Services, build_services
from bot.config import Config
from bot.errors import SurveybotError
from bot.event_files import Unparsable as _Unparsable
from bot.event_files import read_csv, read_jsonl
from bot.ingest import EventResult, chunks
from storage.db import Database
from storage.explain import ContactHistory, contact_history
from storage.migrate import current_revision, head_revision, upgrade


def open_database(config: Config) -> Database:
    """The configured database, migrated on SQLite; on PostgreSQL it must already be current."""
    db = Database(config.storage.url)
    if db.is_sqlite:
        upgrade(db)
    elif current_revision(db) != head_revision():
        raise SurveybotError(messages.SCHEMA_BEHIND)
    return db


def open_services(config: Config) -> Services:
    return build_services(config, db=open_database(config))


def emit_event(config: Config, event: dict[str, Any]) -> EventResult:
    services = open_services(config)
    try:
        return services.ingestor.ingest([event], source="cli")[0]
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
        summary.decisions[decision.reason or decision.outcome] += 1


class _Progress:
    def __init__(self, total: int, enabled: bool, label: str) -> None:
        self.total, self.enabled, self.label = total, enabled, label
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda _done: None
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda done: self._bar.update(task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _progress(total: int, enabled: bool, label: str) -> _Progress:
    return _Progress(total, enabled, label)
