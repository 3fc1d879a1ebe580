"""The Slack side of the running bot: the one module that imports slack_bolt and slack_sdk.

Everything else in `bot.slack` talks to the `WebClient` built here through the small protocols
it needs; a caller that handles Slack's refusals (`SlackBot.post_digest_now`) gets them as
`bot.errors.SlackRefused`, never as an SDK error.

`build_slack_bot` wires a bolt `App` around that `WebClient` with the slash command `/surveybot`
and the alert buttons; bolt checks the signing secret of every request (a forged one gets 401
and changes nothing). Slack's retries (`X-Slack-Retry-Num`) of a delivery already handled here
are acknowledged and dropped; the handlers are idempotent in the database anyway, so a retry
reaching another process changes nothing either.

HTTP: `slack_router` serves `POST /slack/events` (commands, interactivity, events) through a
thin adapter: the body is read on the event loop, `App.dispatch` runs in the thread pool.
Socket Mode (`slack.app_token` set): `socket_mode_handler` connects from `surveybot run`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from starlette.concurrency import run_in_threadpool

from bot.config import Config, DigestConfig, SlackConfig
from bot.errors import SlackRefused
from bot.runtime.clock import Clock
from bot.slack.alert_blocks import CLAIM_ACTION, RESOLVE_ACTION
from bot.slack.alerts import AlertPoster
from bot.slack.digests import DigestPoster
from bot.slack.directory import ChannelDirectory
from bot.slack.stats_command import stats_answer
from storage.db import Database

log = logging.getLogger(__name__)

COMMAND = "/surveybot"
SEEN_DELIVERIES = 10_000


@dataclass
class SlackBot:
    """Everything Slack-facing the composition root hands out."""

    client: WebClient
    directory: ChannelDirectory
    digests: DigestPoster
    alerts: AlertPoster | None
    bolt: App

    def post_digest_now(self, digest: DigestConfig, end: datetime) -> tuple[str, str]:
        """`DigestPoster.post_now`; raises `SlackRefused` when Slack answers with an error."""
        try:
            return self.digests.post_now(digest, end)
        except SlackApiError as exc:
            raise SlackRefused(str(exc.response.get("error"))) from exc

    def close(self) -> None:
        if self.alerts:
            self.alerts.close()


def build_slack_bot(config: Config, db: Database, clock: Clock, *, worker: str) -> SlackBot:
    """Needs `slack.bot_token`; alerts are on when `alerts.channel` is set."""
    client = build_web_client(config.slack)
    directory = ChannelDirectory(client)
    digests = DigestPoster(db, config, clock, client, directory, worker=worker)
    alerts = (
        AlertPoster(db, config, clock, client, directory, worker=worker) if config.alerts.channel else None
    )
    bolt = App(
        client=client,
        signing_secret=config.slack.signing_secret or "",
        process_before_response=True,  # answers are quick; a listener done before the reply is testable
        token_verification_enabled=False,  # no auth.test call at start: the bot may start offline
        request_verification_enabled=True,
    )
    bolt.use(RetryFilter().middleware)
    _register(bolt, lambda text: stats_answer(db, config, clock, text), alerts)
    return SlackBot(client, directory, digests, alerts, bolt)


def build_web_client(slack: SlackConfig) -> WebClient:
    """A `WebClient` with the bot token, pointed at `slack.api_base_url` when set (tests, GovSlack),
    retrying twice when Slack answers 429."""
    client = WebClient(token=slack.bot_token)
    if slack.api_base_url:
        client.base_url = slack.api_base_url.rstrip("/") + "/"
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def _register(bolt: App, answer: Callable[[str], dict[str, Any]], alerts: AlertPoster | None) -> None:
    @bolt.command(COMMAND)
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        ack(**answer(command.get("text") or ""))

    @bolt.action(CLAIM_ACTION)
    def on_claim(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        if alerts:
            alerts.claim(action["value"], body["user"]["id"])

    @bolt.action(RESOLVE_ACTION)
    def on_resolve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        if alerts:
            alerts.resolve(action["value"], body["user"]["id"])


class RetryFilter:
    """Drops a retried delivery (`X-Slack-Retry-Num`) this process has already taken in."""

    def __init__(self, size: int = SEEN_DELIVERIES) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def middleware(
        self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        key = delivery_key(req.body)
        retry = req.headers.get("x-slack-retry-num")
        with self._lock:
            seen = key is not None and key in self._seen
            if key is not None:
                self._seen[key] = None
                self._seen.move_to_end(key)
                while len(self._seen) > self._size:
                    self._seen.popitem(last=False)
        if seen and retry:
            log.info("dropped Slack retry %s of a delivery already handled", retry[0])
            return BoltResponse(status=200, body="")
        return next()


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery across its retries: the event id, else the trigger id."""
    if not isinstance(body, dict):
        return None
    key = body.get("event_id") or body.get("trigger_id")
    return key if isinstance(key, str) and key else None


def _is_typed_object(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str)


def _is_list_of_objects(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _is_object_or_text(value: object) -> bool:
    return isinstance(value, dict | str)


# The fields bolt's middleware and matchers reach into without checking their type (for example
# `body["event"]["type"]`), with the shape Slack always sends them in. A signed body with another
# shape is not Slack's, and bolt would answer it with a 500.
SHAPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "event": (_is_typed_object, "must be an object with a text `type`"),
    "view": (_is_typed_object, "must be an object with a text `type`"),
    "actions": (_is_list_of_objects, "must be a list of objects"),
    "user": (_is_object_or_text, "must be an object or a text"),
    "team": (_is_object_or_text, "must be an object or a text"),
    "channel": (_is_object_or_text, "must be an object or a text"),
    "container": (_is_object_or_text, "must be an object or a text"),
    "message": (_is_object_or_text, "must be an object or a text"),
}


def misshapen_field(body: object) -> str | None:
    """The first field of `body` that Slack never sends in that shape, or None."""
    if not isinstance(body, dict):
        return None
    return next((key for key, (fits, _) in SHAPES.items() if key in body and not fits(body[key])), None)


def slack_router(bot: SlackBot) -> APIRouter:
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        try:
            body = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:  # never Slack's: it sends UTF-8; refused before any signature check
            log.info("refused a request to /slack/events whose body is not UTF-8")
            return Response("the body is not UTF-8", 400, media_type="text/plain")
        try:  # bolt parses the body here, before any signature check: a malformed one must not 500
            bolt_request = BoltRequest(body=body, query=request.url.query, headers=dict(request.headers))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            log.info("refused a request to /slack/events whose body is not one Slack sends")
            return Response("the body is not a Slack request", 400, media_type="text/plain")
        if (wrong := misshapen_field(bolt_request.body)) is not None:
            log.info("refused a request to /slack/events whose %r is not shaped as Slack sends it", wrong)
            return Response(
                f"the body is not a Slack request: {wrong!r} {SHAPES[wrong][1]}", 400, media_type="text/plain"
            )
        answer: BoltResponse = await run_in_threadpool(bot.bolt.dispatch, bolt_request)
        return Response(answer.body, answer.status, headers=answer.first_headers_without_set_cookie())

    return router


def socket_mode_handler(bot: SlackBot, app_token: str) -> SocketModeHandler:
    """The Socket Mode connection: `connect()` to start without blocking, `close()` to stop."""
    return SocketModeHandler(bot.bolt, app_token=app_token, web_client=bot.client)
