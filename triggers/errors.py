"""Every error surveybot raises on purpose derives from `SurveybotError`.

Each class's docstring is its default message, so `raise NotFound()` still says something. The
base lives here, at the bottom of the layers, so the decisions can raise without knowing the bot.
"""

from __future__ import annotations


class SurveybotError(Exception):
    """surveybot could not do what was asked."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class InvalidEvent(SurveybotError):
    """The event is not valid."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")
