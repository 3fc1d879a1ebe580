"""Which triggers an event sets off, and whether their `when` conditions hold."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from triggers.paths import lookup
from triggers.settings import Condition, NotCondition, TriggerConfig


def conditions_hold(when: Mapping[str, Condition], document: Mapping[str, Any]) -> bool:
    """All conditions hold; a list means one of, `{not: x}` means anything but x (or a missing value)."""
    return all(_holds(condition, lookup(document, path)) for path, condition in when.items())


def _holds(condition: Condition, value: Any) -> bool:
    if isinstance(condition, NotCondition):
        return not _holds(condition.not_, value)
    if isinstance(condition, list):
        return any(_equal(option, value) for option in condition)
    return _equal(condition, value)


def _equal(expected: Any, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    return bool(expected == value or str(expected) == str(value))


def in_sample(contact_id: str, survey: str, rate: float) -> bool:
    """Deterministic sampling: the same contact and survey always land on the same side."""
    if rate >= 1.0:
        return True
    digest = hashlib.blake2b(f"{contact_id}\x1f{survey}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


def cancel_key(trigger: TriggerConfig, document: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The values at the trigger's `cancel_on.match` paths; None when the event lacks one of them."""
    assert trigger.cancel_on is not None
    values = tuple(lookup(document, path) for path in trigger.cancel_on.match)
    return None if any(value is None for value in values) else values


def cancels(trigger: TriggerConfig, key: tuple[Any, ...] | None, later: Mapping[str, Any]) -> bool:
    """Whether `later` calls off a send whose event had `cancel_key` `key`: every
    `cancel_on.match` path agrees (and the first event had a value at each)."""
    assert trigger.cancel_on is not None
    return key is not None and key == tuple(lookup(later, path) for path in trigger.cancel_on.match)
