"""Which group-by paths and theme keyword sets keep rollups: those the digests break down by
(see `storage.rollups`) and the config's `themes` (see `storage.theme_rollups`).

`surveybot run` syncs them at start-up (a path or keyword set new to the config is backfilled
from every response, one no longer there dropped); `surveybot rollups rebuild` recomputes every
rollup: metrics, sends, holds and themes, and the outcome follow-ups.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.runtime.clock import Clock
from storage import outcomes, rollups, theme_rollups
from storage.db import Database
from triggers.follow_ups import follow_ups


@dataclass(frozen=True)
class RollupSync:
    added: list[str]
    dropped: list[str]
    rows: int | None = None  # rollup rows after a rebuild


# The breakdowns the dashboard's survey page offers besides the digests' own.
DASHBOARD_PATHS = ["channel", "contact.locale", "properties.agent", "properties.team"]


def configured_paths(config: Config) -> list[str]:
    """The digests' group-by paths, and the dashboard's when it has users, that rollups can
    keep (contact paths read the rows)."""
    paths = {path for digest in config.digests for path in digest.group_by}
    if config.dashboard.users:
        paths.update(DASHBOARD_PATHS)
    return sorted(path for path in paths if rollups.can_roll_up(path))


def sync_rollups(db: Database, config: Config, clock: Clock) -> RollupSync:
    """Paths and theme keyword sets kept as the config says; (added, dropped) are the paths."""
    with db.write() as conn:
        added, dropped = rollups.sync_paths(conn, configured_paths(config), clock.now())
        theme_rollups.sync_themes(conn, config.themes.values(), clock.now())
    with db.write() as conn:  # outcomes whose definition changed are followed again (docs/outcomes.md)
        outcomes.sync_outcomes(conn, follow_ups(config.outcomes), clock.now())
    return RollupSync(added, dropped)


def rebuild_rollups(db: Database, config: Config, clock: Clock) -> RollupSync:
    """Sync the paths and themes, then recompute every rollup from the rows in one transaction, and
    the outcome follow-ups in a second."""
    with db.write() as conn:
        added, dropped = rollups.sync_paths(conn, configured_paths(config), clock.now())
        theme_rollups.sync_themes(conn, config.themes.values(), clock.now())
        rows = rollups.rebuild_every_rollup(conn)
    with db.write() as conn:
        outcomes.rebuild_outcomes(conn, follow_ups(config.outcomes), clock.now())
    return RollupSync(added, dropped, rows)
