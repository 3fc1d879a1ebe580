"""A table of a dashboard page as a CSV file: the same rows the page shows.

Values come from customers (comments, property values, names): a cell a spreadsheet would read
as a formula (starting with = + - @, or a tab or carriage return) is prefixed with `'`, so it
opens as text. Numbers we format ourselves (`-12.5`, `+30.0`, `80.0%`) stay numbers.
"""

from __future__ import annotations

import csv
import io
import re

from bot.dashboard.views import Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?%?$")


def guard_cell(text: str) -> str:
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([guard_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([guard_cell(cell.text) for cell in row])
    return out.getvalue()


def csv_filename(page: str, table: Table) -> str:
    """`support_csat-comments.csv`: letters, digits, `_.-` only (safe in a header)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{page}-{table.key}").strip("._") or "table"
    return f"{stem[:80]}.csv"
