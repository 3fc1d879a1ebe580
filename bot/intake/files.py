"""Reading events from files, JSON lines or CSV, one (line number, object) at a time.

`import` and `simulate` read through these, so a file means the same to both.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from bot.errors import InvalidFile

REQUIRED_COLUMNS = ("type", "contact.id")


def file_format(path: Path, fmt: str) -> str:
    """`jsonl` or `csv`: as asked, or by the file's extension when `fmt` is `auto`."""
    return fmt if fmt != "auto" else ("csv" if path.suffix.lower() == ".csv" else "jsonl")


def read_jsonl(raw: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object) per non-blank line; a bad line yields an error marker."""
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, Unparsable(f"not valid JSON ({exc})")


def read_csv(raw: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """Rows as events: columns are paths (`id`, `type`, `contact.email`, `properties.team`).

    A header without a required column (`type`, `contact.id`) raises `InvalidFile` naming it
    before any row is read: every row would be invalid for the same reason."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        _check_columns([c.strip() for c in reader.fieldnames or []])
        yield from _csv_events(reader)
    finally:
        text.detach()  # the caller still owns (and reads the position of) the binary file


def _check_columns(columns: list[str]) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if not missing:
        return
    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
        hints.append(f"{name!r}" + (f" (is {close[0]!r} it? name it {name})" if close else ""))
    raise InvalidFile(
        f"the CSV has no column {' and no column '.join(hints)}; its columns are: "
        f"{', '.join(columns) or 'none (an empty file?)'}"
    )


def _csv_events(reader: csv.DictReader[str]) -> Iterator[tuple[int, Any]]:
    for row in reader:
        event: dict[str, Any] = {}
        for column, value in row.items():
            if column is None or value in (None, ""):
                continue
            target = event
            *parents, leaf = column.strip().split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
        yield reader.line_num, event


class Unparsable(dict[str, Any]):
    """A line that was not JSON: ingestion reports it as an invalid event with this message."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message
