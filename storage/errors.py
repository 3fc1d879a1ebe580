"""The errors storage raises on purpose, for the service to catch without knowing SQLAlchemy.

Their messages say what to do next: the command line prints them as its one line."""

from __future__ import annotations

from triggers.errors import SurveybotError


class DatabaseUnavailable(SurveybotError):
    """The database cannot be reached or did not answer in time; nothing was stored, try again."""


class EventIdTaken(SurveybotError):
    """Another transaction stored one of the batch's event ids after the batch looked for them
    (PostgreSQL, a racer we held no lock against): the batch wrote nothing; decide it again."""


class SchemaNotCurrent(SurveybotError):
    """The database schema is not the one this surveybot needs: run `surveybot db upgrade`."""


def no_such_database(name: str, host: str) -> str:
    return (
        f"the database {name!r} does not exist on {host}: create it (createdb {name}), or correct storage.url"
    )


def nothing_listening(host: str, url: str) -> str:
    return (
        f"no database answers at {host} (storage.url {url}): start PostgreSQL there, or correct storage.url"
    )


def cannot_connect(url: str, detail: str) -> str:
    return f"cannot reach the database at {url} ({detail}): check storage.url and the server"


def no_schema() -> str:
    return (
        "the database has no surveybot tables yet: run `surveybot db upgrade` once "
        "(or start with `surveybot run --migrate`)"
    )


def schema_behind(current: str, head: str | None) -> str:
    return (
        f"the database schema is at revision {current}, this surveybot needs {head}: "
        "run `surveybot db upgrade` (or start with `surveybot run --migrate`)"
    )
