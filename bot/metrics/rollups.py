"""Which group-by paths keep rollups: those the digests break down by (see `storage.rollups`).

`surveybot run` syncs them at start-up (a path new to the config is backfilled from every
response, one no longer there dropped); `surveybot rollups rebuild` recomputes them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.runtime.clock import Clock
from storage import outcomes, rollups
from storage.db import Database
from triggers.follow_ups import follow_ups


@dataclass(frozen=True)
class RollupSync:
    added: list[str]
    dropped: list[str]
    rows: int | None = None  # rollup rows after a rebuild


def configured_paths(config: Config) -> list[str]:
    """The digests' group-by paths that rollups can keep (contact paths read the rows)."""
    paths = {path for digest in config.digests for path in digest.group_by}
    return sorted(path for path in paths if rollups.can_roll_up(path))


def sync_rollups(db: Database, config: Config, clock: Clock) -> RollupSync:
    with db.write() as conn:
        added, dropped = rollups.sync_paths(conn, configured_paths(config), clock.now())
    with db.write() as conn:  # outcomes whose definition changed are followed again (docs/outcomes.md)
        outcomes.sync_outcomes(conn, follow_ups(config.outcomes), clock.now())
    return RollupSync(added, dropped)


def rebuild_rollups(db: Database, config: Config, clock: Clock) -> RollupSync:
    """Sync the paths, then recompute every rollup from the responses, in one transaction."""
    with db.write() as conn:
        added, dropped = rollups.sync_paths(conn, configured_paths(config), clock.now())
        rows = rollups.rebuild_rollups(conn)
    with db.write() as conn:
        outcomes.rebuild_outcomes(conn, follow_ups(config.outcomes), clock.now())
    return RollupSync(added, dropped, rows)
