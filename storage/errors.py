"""The errors storage raises on purpose, for the service to catch without knowing SQLAlchemy."""

from __future__ import annotations

from triggers.errors import SurveybotError


class DatabaseUnavailable(SurveybotError):
    """The database cannot be reached or did not answer in time; nothing was stored, try again."""
