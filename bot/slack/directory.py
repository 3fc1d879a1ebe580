"""Channel names from the config (`#cx-alerts`) to the ids Slack's file upload needs.

One `conversations.list` walk fills a cache; a name not found refreshes it once (the channel
may be new). An id given in the config (`C0123ABCD`) is used as it is.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Protocol

from bot.errors import SurveybotError

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")


class ConversationsApi(Protocol):
    def conversations_list(self, **kwargs: Any) -> Any: ...


class ChannelNotFound(SurveybotError):
    """No channel of that name is visible to the bot (invite it, or check channels:read)."""


class ChannelDirectory:
    def __init__(self, client: ConversationsApi) -> None:
        self.client = client
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def channel_id(self, name: str) -> str:
        """The id of `#name` (or `name`); raises `ChannelNotFound` when Slack knows no such."""
        bare = name.strip().lstrip("#")
        if _CHANNEL_ID.match(bare):
            return bare
        with self._lock:
            if bare not in self._ids:
                self._ids = self._load()
            if bare not in self._ids:
                raise ChannelNotFound(f"no Slack channel named #{bare} is visible to the bot")
            return self._ids[bare]

    def _load(self) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor = None
        while True:
            page = self.client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=200, cursor=cursor
            )
            found |= {c["name"]: c["id"] for c in page["channels"]}
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found
