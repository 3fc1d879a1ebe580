"""`surveybot rollups rebuild`: rows loaded past the writers become visible to the digests,
the digests' paths included, with the numbers of the rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, func, select

from bot.cli.main import cli
from storage.db import Database
from storage.metrics import (
    digest_metrics,
    holds_by_reason,
    raw_digest_metrics,
    raw_holds_by_reason,
    raw_send_counts,
    send_counts,
)
from storage.models import MetricRollup, RollupPath, SQLModel
from tests.cli.test_stats_commands import DIGEST, SURVEY_CONFIG
from tests.fakes.metric_rows import NOW, SURVEYS, insert_rows, make_dataset
from tests.helpers import write_config

ROLLUPS = MetricRollup.__table__  # type: ignore[attr-defined]
PATHS = RollupPath.__table__  # type: ignore[attr-defined]
ROLLUP_TABLES = [
    SQLModel.metadata.tables[name]
    for name in ("metric_rollups", "send_rollups", "hold_rollups", "theme_rollups")
]


def test_rebuild_registers_the_digest_paths_and_counts_every_response(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    insert_rows(database.engine, make_dataset(300))
    with database.engine.begin() as conn:  # as if loaded by hand: no rollups at all
        for table in ROLLUP_TABLES:
            conn.execute(delete(table))
    config = write_config(tmp_path, db_url, surveys=SURVEY_CONFIG, digests=[DIGEST])

    result = CliRunner().invoke(cli, ["rollups", "rebuild", "--config", str(config)])

    assert result.exit_code == 0, result.output
    with database.engine.connect() as conn:
        rows = sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in ROLLUP_TABLES)
        paths = list(conn.execute(select(PATHS.c.path)).scalars())
        asked = {"surveys": list(SURVEYS), "start": NOW - timedelta(days=7), "end": NOW,
                 "group_bys": [None, "properties.team"],
                 "previous_start": NOW - timedelta(days=14)}  # fmt: skip
        from_rollups, from_rows = digest_metrics(conn, **asked), raw_digest_metrics(conn, **asked)
        window = {"surveys": list(SURVEYS), "start": NOW - timedelta(days=7), "end": NOW}
        sends, raw_sends = send_counts(conn, **window), raw_send_counts(conn, **window)
        holds, raw_holds = holds_by_reason(conn, **window), raw_holds_by_reason(conn, **window)
    assert paths == ["properties.team"]
    assert (
        f"rollups rebuilt (metrics, sends, holds, themes): {rows} rows "
        "(metric rollups built for properties.team)" in result.output
    )
    assert sorted(map(repr, from_rollups)) == sorted(map(repr, from_rows))
    assert sends and sorted(map(repr, sends)) == sorted(map(repr, raw_sends))
    assert holds and holds == raw_holds
