"""The service's own errors. Every error surveybot raises on purpose derives from `SurveybotError`
(in `triggers.errors`, beside `InvalidEvent`, so the decisions can raise without knowing the bot).

Each class's docstring is its default message, so `raise NotFound()` still says something.
"""

from __future__ import annotations

from triggers.errors import InvalidEvent, SurveybotError

__all__ = [
    "ConfigError",
    "InvalidEvent",
    "InvalidFile",
    "NotFound",
    "PortInUse",
    "SlackRefused",
    "SurveybotError",
]


class ConfigError(SurveybotError):
    """The config has problems; each is listed by its path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems) or None)


class NotFound(SurveybotError):
    """Nothing was found by that name."""


class SlackRefused(SurveybotError):
    """Slack answered the call with an error."""

    def __init__(self, error: str) -> None:
        self.error = error  # Slack's code, e.g. `invalid_auth`, `channel_not_found`
        super().__init__(f"Slack refused the call: {error}")


class PortInUse(SurveybotError):
    """The address to listen on is taken by another process."""


class InvalidFile(SurveybotError):
    """The file cannot be read as events at all."""
