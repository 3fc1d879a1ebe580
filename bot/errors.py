"""Every error surveybot raises on purpose derives from `SurveybotError`.

Each class's docstring is its default message, so `raise NotFound()` still says something.
"""

from __future__ import annotations


class SurveybotError(Exception):
    """surveybot could not do what was asked."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(SurveybotError):
    """The config has problems; each is listed by its path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems) or None)


class InvalidEvent(SurveybotError):
    """The event is not valid."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NotFound(SurveybotError):
    """Nothing was found by that name."""
