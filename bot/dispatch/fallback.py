"""A trigger's `fallback: true`: when a send fails or is undelivered, the same survey goes once
to the contact's next channel in the trigger's list, while the survey is still open.

Called in the transaction that records the failure: by the dispatcher when the provider
refused the send (`failed`), and by the Twilio status callback when a send that left is
reported `undelivered` or `failed`. Never after `unknown`: that send may have arrived. The
fallback is an ordinary `scheduled` send (`fallback` true), so it leaves by the same claim ->
sending -> outcome path; quiet hours and opt-outs are re-checked when it falls due.

What is chosen, in order:
  - no fallback for a test send, a fallback (one hop only), a trigger without `fallback`, or a
    send the recipient refused by opting out (Twilio 21610);
  - the window: the survey must still be open (`expires_after` from the original due time) and
    the event not older than the trigger's `max_age`; else `no_fallback` (`too_late`);
  - the channel: the first after the failed one in `channels` with an address not opted out;
    else `no_fallback` (`no_channel`).
Each choice is a decision `explain` shows: `fallback` with the provider's reason, or
`no_fallback` with why.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.config import Config
from storage import fallbacks, queries
from storage.db import Connection
from storage.fallbacks import FallbackOrigin
from triggers.addresses import AddressKeys
from triggers.settings import TriggerConfig

log = logging.getLogger(__name__)


def fall_back(
    conn: Connection,
    *,
    config: Config,
    address_keys: AddressKeys,
    send_id: str,
    reason: str | None,
    now: datetime,
) -> str | None:
    """Schedule the fallback of the failed send `send_id` if its trigger asks for one; returns
    the new send's id, or None when there is none (see the module docstring for why)."""
    origin = fallbacks.load_origin(conn, send_id)
    trigger = _trigger(config, origin.trigger) if origin else None
    if origin is None or trigger is None or not trigger.fallback or origin.test or origin.is_fallback:
        return None
    provider_reason = reason or f"{origin.channel} {origin.status}"
    if _too_late(config, trigger, origin, now):
        _record_none(conn, origin, "too_late", provider_reason, now)
        return None
    channel, to = _next_channel(conn, address_keys, trigger, origin)
    if channel is None or to is None:
        _record_none(conn, origin, "no_channel", provider_reason, now)
        return None
    new_id = fallbacks.insert_fallback(conn, origin, channel=channel, to=to, now=now)
    if new_id is not None:
        detail = f"{origin.channel} {origin.status}; the survey goes by {channel}"
        fallbacks.record_decision(conn, origin, outcome="fallback", reason=provider_reason, detail=detail,
                                  send_id=new_id, now=now)  # fmt: skip
        log.info("send %s %s: fallback %s by %s", origin.id, origin.status, new_id, channel,
                 extra={"send_id": origin.id, "contact_id": origin.contact_id})  # fmt: skip
    return new_id


def _trigger(config: Config, name: str) -> TriggerConfig | None:
    return next((t for t in config.triggers if t.name == name), None)


def _too_late(config: Config, trigger: TriggerConfig, origin: FallbackOrigin, now: datetime) -> bool:
    survey = config.surveys.get(origin.survey)
    if survey is None or now >= origin.due_at + survey.expires_after:
        return True
    if trigger.max_age is not None and origin.occurred_at is not None:
        return now - origin.occurred_at > trigger.max_age
    return False


def _next_channel(
    conn: Connection, address_keys: AddressKeys, trigger: TriggerConfig, origin: FallbackOrigin
) -> tuple[str | None, str | None]:
    """The first channel after the failed one with an address that has not opted out."""
    later = (
        trigger.channels[trigger.channels.index(origin.channel) + 1 :]
        if origin.channel in trigger.channels
        else []
    )
    candidates = [(channel, address) for channel in later if (address := origin.address(channel))]
    keys = {address_keys.key(channel, address): (channel, address) for channel, address in candidates}
    opted_out = queries.opted_out_keys(conn, list(keys))
    for key, (channel, address) in keys.items():
        if key not in opted_out:
            return channel, address
    return None, None


def _record_none(
    conn: Connection, origin: FallbackOrigin, why: str, provider_reason: str, now: datetime
) -> None:
    detail = f"{origin.channel} {origin.status}: {provider_reason}"
    fallbacks.record_decision(
        conn, origin, outcome="no_fallback", reason=why, detail=detail, send_id=None, now=now
    )
    return None
