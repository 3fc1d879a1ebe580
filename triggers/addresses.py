"""Addresses as keys: a keyed hash, so an opt-out outlives the erasure of the address itself."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache


class AddressKeys:
    """`key("sms", "+14155550100")` -> a stable hex digest under this instance's secret."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self.key = lru_cache(maxsize=65536)(self._key)

    def _key(self, channel: str, address: str) -> str:
        normalized = address.strip().lower() if channel == "email" else address.strip()
        message = f"{channel}:{normalized}".encode()
        # The one-shot `hmac.digest` (OpenSSL's HMAC in one call): the same digest as
        # `hmac.new(...).hexdigest()`, without building an HMAC object per address.
        return hmac.digest(self._secret, message, hashlib.sha256).hex()[:40]
