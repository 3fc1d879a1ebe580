"""Events in the order they happened, from a file that may not be in that order, in bounded memory.

`in_time_order(open_rows)` first reads the file once for its `occurred_at` values only. When they
never go backwards (the common case: an export of a log) the rows are streamed as they are.
Otherwise the rows are sorted in runs of `run_size` into temporary files and merged: memory
holds one run at a time, however long the file. Ties keep the order of the file (stable).
Rows whose `occurred_at` is missing or unreadable sort first; ingestion then reports them.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

Rows = Iterator[tuple[int, Any]]
RUN_SIZE = 50_000
_EARLIEST = float("-inf")


def time_key(raw: Any) -> float:
    """The event's `occurred_at` as a POSIX timestamp (UTC when no offset); -inf when unusable."""
    value = raw.get("occurred_at") if isinstance(raw, dict) else None
    if not isinstance(value, str):
        return _EARLIEST
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return _EARLIEST
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def is_time_ordered(rows: Rows) -> bool:
    last = _EARLIEST
    for _, raw in rows:
        key = time_key(raw)
        if key < last:
            return False
        last = key
    return True


def in_time_order(open_rows: Callable[[], Rows], *, run_size: int = RUN_SIZE) -> Rows:
    """(line, raw event) in `occurred_at` order; `open_rows()` may be called twice (two passes)."""
    if is_time_ordered(open_rows()):
        yield from open_rows()
        return
    with tempfile.TemporaryDirectory(prefix="surveybot-sort-") as folder:
        runs = _write_sorted_runs(open_rows(), Path(folder), run_size)
        yield from _strip_keys(heapq.merge(*(_read_run(path) for path in runs), key=_merge_key))


def _write_sorted_runs(rows: Rows, folder: Path, run_size: int) -> list[Path]:
    runs: list[Path] = []
    chunk: list[tuple[float, int, Any]] = []
    for line, raw in rows:
        chunk.append((time_key(raw), line, raw))
        if len(chunk) >= run_size:
            runs.append(_write_run(chunk, folder / f"run{len(runs)}.jsonl"))
            chunk = []
    if chunk:
        runs.append(_write_run(chunk, folder / f"run{len(runs)}.jsonl"))
    return runs


def _write_run(chunk: list[tuple[float, int, Any]], path: Path) -> Path:
    chunk.sort(key=lambda item: (item[0], item[1]))
    with path.open("wb") as out:
        for key, line, raw in chunk:
            # -inf is not JSON; None stands for it and is turned back on reading.
            out.write(orjson.dumps([None if key == _EARLIEST else key, line, raw]) + b"\n")
    return path


def _read_run(path: Path) -> Iterator[tuple[float, int, Any]]:
    with path.open("rb") as lines:
        for text in lines:
            key, line, raw = orjson.loads(text)
            yield (_EARLIEST if key is None else key), line, raw


def _merge_key(item: tuple[float, int, Any]) -> tuple[float, int]:
    return item[0], item[1]


def _strip_keys(merged: Iterator[tuple[float, int, Any]]) -> Rows:
    for _, line, raw in merged:
        yield line, raw
