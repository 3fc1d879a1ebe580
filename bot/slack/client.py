"""The Slack Web API client, built once by the composition root (slack_sdk lives here and in
`bot.slack.app` only); everything else talks to it through the small protocols it needs."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.config import SlackConfig

SlackError = SlackApiError


def build_web_client(slack: SlackConfig) -> WebClient:
    """A `WebClient` with the bot token, pointed at `slack.api_base_url` when set (tests, GovSlack),
    retrying twice when Slack answers 429."""
    client = WebClient(token=slack.bot_token)
    if slack.api_base_url:
        client.base_url = slack.api_base_url.rstrip("/") + "/"
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client
