"""The interface between dispatch and a provider: one message in, one outcome out.

A channel must tell apart three endings, because a send is never repeated once it may have left:
  - `sent`: the provider took it (with its message id when it has one);
  - `failed`: the provider refused it for good, so nothing left (reason says why);
  - `unknown`: the request may have reached the provider but the answer was lost;
and one non-ending, `retry`: nothing left (connection refused, 429), try again after `retry_after`.
The endings are the send statuses of the same names (`storage.models.SendStatus`), recorded as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final, Literal, Protocol

from storage.models import SendStatus

RETRY: Final = "retry"
OutcomeStatus = Literal[SendStatus.SENT, SendStatus.FAILED, SendStatus.UNKNOWN, "retry"]


@dataclass(frozen=True)
class OutboundMessage:
    send_id: str
    channel: str
    to: str
    survey: str
    metric: str
    body: str
    subject: str | None = None
    html: str | None = None
    # score -> signed rating link; for email one per score on the survey's scale
    links: dict[int, str] = field(default_factory=dict)
    unsubscribe_url: str | None = None
    locale: str | None = None  # the language of the survey's texts: the frame around them follows
    # WhatsApp: the Content template's variables ("1" -> text), sent as ContentVariables
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendOutcome:
    status: OutcomeStatus
    provider_id: str | None = None
    reason: str | None = None
    retry_after: timedelta | None = None
    opt_out: bool = False  # the provider says the recipient unsubscribed (Twilio 21610)


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> SendOutcome:
        """Hand one message to the provider; never raise for a provider's answer."""

    def close(self) -> None:
        """Release connections; called once at shutdown."""
