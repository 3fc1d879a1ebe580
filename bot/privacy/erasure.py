"""`surveybot forget`: erase a contact's personal data, keep their anonymous scores.

What is erased, per kind (the counts `forget` prints):
  contacts                 the contact's email, phone and name
  send_addresses           the address on each send (its keyed hash stays, see below)
  event_properties         text in the contact's events' properties (see `keep_properties`)
  comments                 comments on responses (scores stay)
  sms_messages             SMS bodies, sender numbers and our answers to them
  pending_sends_cancelled  sends not gone out yet: cancelled, reason `forgotten`
plus anything registered in `storage.erasure.PERSONAL_DATA`.

What stays: scores, sends, decisions and events as rows (so metrics, cooldowns and `explain`
see the same history), the contact row with `forgotten_at` set, opt-outs (a keyed hash of the
address, never the address), and each erased send's keyed address hash, so its unsubscribe
link keeps working. Running it again erases nothing more and reports zeros.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.errors import InvalidEvent
from bot.runtime.clock import Clock
from storage import erasure, outbox, queries
from storage.db import Database
from triggers.addresses import AddressKeys
from triggers.events import EMAIL_PATTERN, normalize_phone
from triggers.settings import CHANNEL_NAMES

log = logging.getLogger(__name__)


@dataclass
class ErasureReport:
    """What one `forget` did: the contacts it found and the rows it changed, per kind."""

    contact_ids: list[str]
    erased: dict[str, int] = field(default_factory=dict)
    at: datetime | None = None

    @property
    def found(self) -> bool:
        return bool(self.contact_ids) or any(self.erased.values())

    def to_json(self) -> dict[str, Any]:
        at = self.at.isoformat().replace("+00:00", "Z") if self.at else None
        return {"contacts": self.contact_ids, "erased": self.erased, "at": at}


class Eraser:
    def __init__(self, db: Database, config: Config, clock: Clock, address_keys: AddressKeys) -> None:
        self.db = db
        self.clock = clock
        self.address_keys = address_keys
        self.keep_properties = property_keeper(config)

    def find(self, *, contact_id: str | None = None, phone: str | None = None,
             email: str | None = None) -> tuple[list[str], list[str]]:  # fmt: skip
        """(contact ids, addresses) to erase. An address finds every contact that has it or
        was sent a survey at it, including contacts erased before. `InvalidEvent` for an
        address that is not one."""
        addresses = [a for a in (normalize_phone(phone), _email(email)) if a]
        with self.db.read() as conn:
            ids = set(erasure.known_contacts(conn, [contact_id])) if contact_id else set()
            for address in addresses:
                keys = [self.address_keys.key(channel, address) for channel in CHANNEL_NAMES]
                ids.update(erasure.contacts_with_address(conn, address, keys))
        return sorted(ids), addresses

    def forget(self, contact_ids: list[str], addresses: Sequence[str] = ()) -> ErasureReport:
        """Erase in one transaction; the contacts' ingestion waits for it (same lock)."""
        now = self.clock.now()
        with self.db.write() as conn:
            queries.lock_keys(conn, [f"c:{c}" for c in contact_ids])
            known = erasure.addresses_of(conn, contact_ids) | set(addresses)
            owners = erasure.Owners(contact_ids, sorted(known))
            counts = {
                "contacts": erasure.erase_contact_fields(conn, contact_ids, now),
                "send_addresses": erasure.erase_send_addresses(
                    conn, contact_ids, self.address_keys.key, known
                ),
                "event_properties": erasure.erase_event_properties(conn, contact_ids, self.keep_properties),
                **erasure.erase_listed(conn, owners),
                "pending_sends_cancelled": erasure.cancel_pending_sends(conn, contact_ids, now),
                "outbox_messages": outbox.erase_for_contacts(conn, contact_ids),
            }
            erasure.mark_forgotten(conn, contact_ids, now, again=any(counts.values()))
        for contact_id in contact_ids:
            log.info("contact erased", extra={"contact_id": contact_id})
        log.info("erasure: %s", ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        return ErasureReport(contact_ids, counts, now)


def property_keeper(config: Config) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """What an erased event keeps of its properties: numbers, booleans and nulls anywhere, and
    any value at a path a digest groups by (`properties.team`); every other string goes.

    So digests break down an erased contact's scores as before, while free text (a ticket
    subject, an address, a name) does not survive."""
    paths = {
        tuple(path.split(".")[1:])
        for digest in config.digests
        for path in digest.group_by
        if path.startswith("properties.")
    }

    def keep(properties: dict[str, Any]) -> dict[str, Any]:
        kept = _kept(properties, (), paths)
        return kept if isinstance(kept, dict) else {}

    return keep


_DROP = object()


def _kept(value: Any, path: tuple[str, ...], paths: set[tuple[str, ...]]) -> Any:
    if path in paths:
        return value
    if isinstance(value, dict):
        inner = {k: _kept(v, (*path, str(k)), paths) for k, v in value.items()}
        return {k: v for k, v in inner.items() if v is not _DROP}
    if isinstance(value, list):
        return [v for v in (_kept(item, path, paths) for item in value) if v is not _DROP]
    return _DROP if isinstance(value, str) else value


def _email(text: str | None) -> str | None:
    """As ingestion stores it: the domain lower-cased."""
    if text is None:
        return None
    text = text.strip()
    if not EMAIL_PATTERN.match(text):
        raise InvalidEvent("email", f"{text!r} is not an email address like ada@example.com")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"
