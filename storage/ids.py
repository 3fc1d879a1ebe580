"""Ids we mint: a time prefix (so new rows sort and index together) and 80 random bits."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """`snd_0192f1c3a5e7` + 20 hex digits of randomness: unique without asking the database."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(10)}"
