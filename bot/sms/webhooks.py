"""Twilio's webhooks: incoming SMS and delivery status callbacks.

    POST /twilio/sms     a message came in (SMS, or WhatsApp with `From: whatsapp:+…`):
                         answered with TwiML in the same response, on the channel it came by
    POST /twilio/status  a message we sent moved on (sent, delivered, undelivered, failed)

Every request must carry a valid `X-Twilio-Signature`, computed by Twilio over the URL it
requested and the form fields, with the account's auth token. The URL is rebuilt from
`server.public_url` (what was pasted into the Twilio console), not from the request, so the
check holds behind a proxy or tunnel that rewrites host, scheme or port. Anything unsigned or
forged gets 403 and changes nothing. A database that cannot be reached answers 503, so
Twilio may try again; the MessageSid makes a repeat count once.

Replays: Twilio's signature covers the URL and the names and values run together, with no
timestamp (its `I-Twilio-Idempotency-Token` header is not signed, so it proves nothing). A
captured request can therefore be sent again, and its fields re-cut without breaking the
signature (`MessageSid=SM…` + `NumMedia=0` signs like `MessageSid=SM…NumMedia0`). So every
message SID must be well formed (`SM` or `MM` and 32 hex digits): a re-cut one is refused with
400, and an exact replay carries the SID already seen, which counts once.

The router only translates HTTP; `bot.sms.inbox.SmsInbox` does the work. The signature check
and the TwiML come from `bot.channels.twilio`, the one module that imports twilio.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict

from bot.channels.twilio import render_twiml, signature_is_valid
from bot.channels.whatsapp import split_address
from bot.sms.inbox import DeliveryReport, InboundSms, SmsInbox
from bot.sms.whatsapp import tapped_choice
from bot.web.schemas import TWIML, WEBHOOK_ERRORS
from storage.errors import DatabaseUnavailable
from storage.models import SendStatus

log = logging.getLogger(__name__)

SMS_PATH = "/twilio/sms"
STATUS_PATH = "/twilio/status"
BODY_LIMIT = 64 * 1024  # Twilio's form for a 1,600-character message is a few KiB
REPORTED_STATUSES = frozenset(
    {SendStatus.SENT, SendStatus.DELIVERED, SendStatus.UNDELIVERED, SendStatus.FAILED}
)
XML = "application/xml"
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
SID_FIELDS = ("MessageSid", "SmsSid", "SmsMessageSid")  # the one SID under the names Twilio sends


class _Rejected(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail


def twilio_routes(inbox: SmsInbox, *, auth_token: str | None, public_url: str) -> APIRouter:
    """The webhook routes; with no `auth_token` configured every request is refused (403)."""
    router = APIRouter(tags=["twilio"])

    @router.post(SMS_PATH, summary="Twilio: a message comes in", response_class=Response,
                 responses={**TWIML, **WEBHOOK_ERRORS})  # fmt: skip
    async def incoming_sms(request: Request) -> Response:
        try:
            form = await _signed_form(request, auth_token, public_url)
            channel, sender = split_address(_field(form, "From"))
            if not sender:
                raise _Rejected(400, "form field From has no number after whatsapp:")
            choice = tapped_choice(form) if channel == "whatsapp" else None
            sms = InboundSms(_message_sid(form), sender, form.get("To", ""), form.get("Body", ""),
                             channel, choice)  # fmt: skip
            answer = await run_in_threadpool(inbox.receive, sms)
        except _Rejected as problem:
            return Response(problem.detail, status_code=problem.status, media_type="text/plain")
        except DatabaseUnavailable:
            return _unavailable()
        return Response(render_twiml(answer), media_type=XML)

    @router.post(STATUS_PATH, summary="Twilio: a message we sent changed status", status_code=204,
                 response_class=Response, responses=WEBHOOK_ERRORS)  # fmt: skip
    async def status_callback(request: Request) -> Response:
        try:
            form = await _signed_form(request, auth_token, public_url)
            report = DeliveryReport(_message_sid(form), _field(form, "MessageStatus"),
                                    form.get("ErrorCode") or None)  # fmt: skip
            if report.status in REPORTED_STATUSES:
                await run_in_threadpool(inbox.record_report, report)
        except _Rejected as problem:
            return Response(problem.detail, status_code=problem.status, media_type="text/plain")
        except DatabaseUnavailable:
            return _unavailable()
        return Response(status_code=204)

    return router


async def _signed_form(
    request: Request, auth_token: str | None, public_url: str
) -> ImmutableMultiDict[str, str]:
    """The form fields, once the signature over `public_url` + path (+ query) checks out."""
    body = await _read_body(request)
    form = ImmutableMultiDict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    signature = request.headers.get("x-twilio-signature", "")
    url = public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not auth_token or not signature or not signature_is_valid(auth_token, url, form, signature):
        log.warning("refused a Twilio webhook to %s: missing or wrong signature", request.url.path)
        raise _Rejected(403, "invalid Twilio signature")
    return form


async def _read_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_LIMIT:
            raise _Rejected(413, "request body too large")
    return bytes(body)


def _field(form: ImmutableMultiDict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise _Rejected(400, f"missing form field {name}")
    return value


def _message_sid(form: ImmutableMultiDict[str, str]) -> str:
    """`MessageSid`, once it and every other SID field present are well formed."""
    sid = _field(form, "MessageSid")
    for name in SID_FIELDS:
        value = form.get(name)
        if value is not None and not MESSAGE_SID.fullmatch(value):
            raise _Rejected(400, f"form field {name} is not a message SID (SM or MM, then 32 hex digits)")
    return sid


def _unavailable() -> Response:
    log.warning("the database is unreachable: answered a Twilio webhook with 503")
    return Response("database unavailable, try again", status_code=503, media_type="text/plain",
                    headers={"Retry-After": "5"})  # fmt: skip
