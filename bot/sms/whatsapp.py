"""WhatsApp replies through Twilio: the same conversation as SMS, plus tapped choices.

Twilio posts a WhatsApp message to the same webhook as an SMS, with `From: whatsapp:+…` and a
few fields of its own. A tapped quick-reply button arrives with `ButtonPayload` (the button's
id in the Content template) and `ButtonText` (its label); a picked list item with `ListId` and
`ListTitle`; `Body` holds the label either way. The tap counts as its score when the id ends in
a number on the survey's scale (`5`, `score_5`, `csat-5`), else when its label reads as one
(`5 - Very satisfied`); a tap that says neither is handled as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.sms.parsing import ParsedReply, parse_reply

_TRAILING_NUMBER = re.compile(r"(\d{1,2})\s*$")


@dataclass(frozen=True)
class TappedChoice:
    """A button or list item the customer tapped: its id (payload) and its label."""

    payload: str
    label: str


def tapped_choice(form: Mapping[str, str]) -> TappedChoice | None:
    """The choice in an inbound WhatsApp message's form, or None for typed text."""
    for id_field, label_field in (("ButtonPayload", "ButtonText"), ("ListId", "ListTitle")):
        payload, label = form.get(id_field, "").strip(), form.get(label_field, "").strip()
        if payload or label:
            return TappedChoice(payload[:200], label[:200])
    return None


def read_choice(choice: TappedChoice, body: str, scale: tuple[int, int]) -> ParsedReply:
    """What a tap says on `scale`: a score from its id, else from its label, else the text."""
    low, high = scale
    match = _TRAILING_NUMBER.search(choice.payload)
    if match and low <= int(match.group(1)) <= high:
        return ParsedReply(kind="score", score=int(match.group(1)), text=body.strip() or choice.label)
    from_label = parse_reply(choice.label, scale)
    if from_label.kind == "score":
        return ParsedReply(kind="score", score=from_label.score, text=body.strip() or choice.label)
    return parse_reply(body or choice.label, scale)
