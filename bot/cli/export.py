"""`surveybot export`: where the rows go (a file, written whole or not at all, or stdout)."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

from bot.cli.commands import open_database
from bot.config import Config
from bot.exports.files import ExportFormat, export_to
from storage.exports import ExportKind


def format_for(output: Path | None, fmt: str | None) -> ExportFormat:
    """The format asked for; else by the output file's extension (.jsonl, .ndjson); else CSV."""
    if fmt in ("csv", "jsonl"):
        return fmt  # type: ignore[return-value]
    if output is not None and output.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def export_file(
    config: Config,
    kind: ExportKind,
    output: Path | None,
    *,
    fmt: ExportFormat,
    personal: bool,
    since: datetime | None,
    until: datetime | None,
) -> int:
    """Export to `output` (stdout when None); rows written. A file appears only once complete:
    rows go to `<output>.partial`, renamed when the last one is in."""
    db = open_database(config)
    try:
        if output is None:
            stdout = sys.stdout.buffer
            count = export_to(db, stdout, kind, fmt=fmt, personal=personal, since=since, until=until)
            stdout.flush()
            return count
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb", buffering=1 << 20) as out:
                count = export_to(db, out, kind, fmt=fmt, personal=personal, since=since, until=until)
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
        return count
    finally:
        db.dispose()
