"""The SQL that hands out responses feed positions on PostgreSQL (see `storage.feed`).

Each inserted response takes the next value of `responses_feed_seq` as its `feed_seq`, while
holding a shared advisory lock until its transaction ends: inserters never wait for each other,
but a reader taking the lock exclusively waits until every position handed out so far belongs
to a finished transaction. The table models (`create_all`) and the migration both use these.
"""

from __future__ import annotations

FEED_LOCK = 7270315  # the advisory lock key: one per database (keys are per database)
CREATE_SEQUENCE = "CREATE SEQUENCE IF NOT EXISTS responses_feed_seq"
CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION responses_feed_next() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT pg_advisory_xact_lock_shared({FEED_LOCK});
  SELECT nextval('responses_feed_seq');
$$
"""
OWN_SEQUENCE = "ALTER SEQUENCE responses_feed_seq OWNED BY responses.feed_seq"
COLUMN_DEFAULT = "responses_feed_next()"
# The last position handed out, once every transaction holding one has ended (0: none yet).
# A writer stuck for longer makes the page fail (DatabaseUnavailable: "ask again"), not hang.
READER_PATIENCE = "SET LOCAL lock_timeout = '5s'"
WAIT_FOR_WRITERS = f"SELECT pg_advisory_xact_lock({FEED_LOCK})"
LAST_POSITION = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM responses_feed_seq"
