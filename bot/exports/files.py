"""`surveybot export`: rows straight from a storage cursor into CSV or JSON lines.

Nothing is held but the batch in flight, so a million rows cost no more memory than a thousand.
Times are ISO 8601 in UTC (`2026-11-22T10:00:00Z`). In CSV a missing value is an empty cell,
`properties` is its JSON text, and a text cell that a spreadsheet would run as a formula (it
starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP
advises: a comment like `=HYPERLINK(...)` stays text. A plain signed number (a phone number
in E.164, `+14155550100`) is no formula and stays as it is. JSON lines hold values unchanged.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import IO, Any, Literal

import orjson

from storage.db import Database
from storage.exports import ExportKind, ValueKind, export_columns, stream_export

ExportFormat = Literal["csv", "jsonl"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SIGNED_NUMBER = re.compile(r"[+-]\d+")


def export_to(
    db: Database,
    out: IO[bytes],
    kind: ExportKind,
    *,
    fmt: ExportFormat,
    personal: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write the rows of `kind` to `out`; how many were written."""
    columns = export_columns(kind, personal=personal)
    with db.read() as conn:
        rows = stream_export(conn, kind, personal=personal, since=since, until=until)
        if fmt == "csv":
            return write_csv(out, [(col.name, col.kind) for col in columns], rows)
        return write_jsonl(out, [col.name for col in columns], rows)


def write_jsonl(out: IO[bytes], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    option = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z
    for row in rows:
        out.write(orjson.dumps(dict(zip(names, row, strict=True)), option=option))
        count += 1
    return count


def write_csv(out: IO[bytes], columns: Sequence[tuple[str, ValueKind]], rows: Iterable[Sequence[Any]]) -> int:
    """`columns` are (name, kind): each column's cells are converted by one function for its kind."""
    text = _TextSink(out)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([name for name, _ in columns])
    converters = [(index, CELLS[kind]) for index, (_, kind) in enumerate(columns) if CELLS[kind] is not None]
    count = 0
    for row in rows:
        cells = list(row)
        for index, convert in converters:
            value = cells[index]
            if value is not None:
                cells[index] = convert(value)  # type: ignore[misc]
        writer.writerow(cells)  # None is an empty cell
        count += 1
    return count


def _time(value: datetime) -> str:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()  # as in JSON lines


def _text(value: str) -> str:
    if value.startswith(FORMULA_STARTS) and not SIGNED_NUMBER.fullmatch(value):
        return "'" + value
    return value


CELLS: dict[ValueKind, Callable[[Any], Any] | None] = {
    "time": _time,
    "bool": lambda value: "true" if value else "false",
    "json": lambda value: _text(orjson.dumps(value).decode()),
    "number": None,
    "text": _text,
}


class _TextSink:
    """What csv.writer writes to: UTF-8 bytes into `out`, without a TextIOWrapper that would
    close `out` (stdout) when it goes."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out

    def write(self, text: str) -> int:
        return self._out.write(text.encode("utf-8"))
