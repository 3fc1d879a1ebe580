"""Group-by paths in SQL: which column or JSON value a digest breakdown reads, and the joins
it needs. JSON extraction is spelled per dialect (`json_extract` on SQLite, `#>>` on PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Text, func, literal_column, null
from sqlalchemy.sql.expression import cast

from storage.models import SQLModel

RESPONSES = SQLModel.metadata.tables["responses"]
SENDS = SQLModel.metadata.tables["sends"]
EVENTS = SQLModel.metadata.tables["events"]
CONTACTS = SQLModel.metadata.tables["contacts"]
DECISIONS = SQLModel.metadata.tables["decisions"]

_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTACT_COLUMNS = ("locale", "timezone")


def json_text(column: ColumnElement[object], keys: Sequence[str], dialect: str) -> ColumnElement[str]:
    """The JSON value at `keys` inside `column`, as text, in the dialect's own syntax.

    Keys are checked against a strict pattern and inlined, so the same SQL text can appear in
    SELECT and GROUP BY (PostgreSQL binds server-side and would see two different parameters).
    """
    for key in keys:
        if not _KEY.match(key):
            raise ValueError(f"{key!r} is not a property name (letters, digits, _ and - only)")
    if dialect == "postgresql":
        path: ColumnElement[Any] = literal_column("'{" + ",".join(keys) + "}'")
        return column.op("#>>", return_type=Text())(path)
    path = literal_column("'$." + ".".join(f'"{key}"' for key in keys) + "'")
    return cast(func.json_extract(column, path), Text())


def group_key(path: str | None, dialect: str) -> tuple[ColumnElement[Any], tuple[str, ...]]:
    """The SQL expression for a group_by path, and the tables it needs joined."""
    if path is None:
        return null(), ()
    if path in ("channel", "survey"):
        return RESPONSES.c[path], ()
    if path == "trigger":
        return SENDS.c.trigger, ("sends",)
    if path == "type":
        return EVENTS.c.type, ("sends", "events")
    root, _, rest = path.partition(".")
    if root == "properties" and rest:
        return json_text(EVENTS.c.properties, rest.split("."), dialect), ("sends", "events")
    if root == "contact" and rest in _CONTACT_COLUMNS:
        return CONTACTS.c[rest], ("contacts",)
    raise ValueError(
        f"{path!r} cannot be grouped by: use properties.<name>, channel, survey, trigger, type, "
        "contact.locale or contact.timezone"
    )


def joined_source(needs: set[str]) -> FromClause:
    """Responses with only the tables asked for. Every response has its send (sends are never
    purged), so that join is inner, which lets PostgreSQL hash the few window rows rather than
    all sends; events and contacts are outer-joined: a response whose event was purged by
    retention still counts (in the group None)."""
    source: FromClause = RESPONSES
    if "sends" in needs:
        source = source.join(SENDS, SENDS.c.id == RESPONSES.c.send_id)
    if "events" in needs:
        source = source.outerjoin(EVENTS, EVENTS.c.pk == SENDS.c.event_pk)
    if "contacts" in needs:
        source = source.outerjoin(CONTACTS, CONTACTS.c.id == RESPONSES.c.contact_id)
    return source
