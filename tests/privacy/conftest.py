"""The privacy tests reuse the SMS world (the bot against FakeTwilio, signed webhooks)."""

from __future__ import annotations

from tests.sms.conftest import make_world, world

__all__ = ["make_world", "world"]
