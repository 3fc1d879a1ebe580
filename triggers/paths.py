"""Dotted paths into an event, like `properties.team` or `contact.locale`.

The same paths serve trigger conditions, `cancel_on.match` and digest `group_by`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROOTS = ("properties", "contact", "type", "id")
_MISSING = object()


def path_problem(path: str, allow: tuple[str, ...] = ()) -> str | None:
    """None when `path` can be looked up in an event, else what would be right."""
    root = path.split(".", 1)[0]
    if path in allow or (root in ROOTS and (root in ("type", "id") or "." in path)):
        return None
    extra = f", or one of {', '.join(allow)}" if allow else ""
    return f"{path!r} is not a path like properties.team or contact.locale{extra}"


def lookup(document: Mapping[str, Any], path: str) -> Any:
    """The value at `path`, or None when any step is missing."""
    value: Any = document
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step, _MISSING)
        if value is _MISSING:
            return None
    return value
