"""Requests as Slack sends them to `POST /slack/events`, signed for real with the signing secret.

The v0 signature is computed here from Slack's documented recipe (HMAC-SHA256 of
`v0:{timestamp}:{body}`), not with slack_sdk, so a test checks bolt against the spec.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(body, stamp, secret),
    }


def slash_command(
    text: str, *, user: str = "U0ASKER", trigger_id: str = "13345224609.738474920.8088930838d88f008e0"
) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0FAKE",
            "team_domain": "fake",
            "channel_id": "C0CX",
            "channel_name": "cx-metrics",
            "user_id": user,
            "user_name": "ada",
            "command": "/surveybot",
            "text": text,
            "api_app_id": "A0SURVEYBOT",
            "response_url": "https://hooks.slack.com/commands/T0FAKE/1/abc",
            "trigger_id": trigger_id,
        }
    )


def button_click(action_id: str, value: str, *, user: str, channel: str, ts: str, trigger_id: str) -> str:
    """A `block_actions` payload as Slack posts it: form-encoded, the JSON in `payload`."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0FAKE", "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0FAKE"},
        "api_app_id": "A0SURVEYBOT",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": trigger_id,
        "channel": {"id": channel, "name": "cx-alerts"},
        "message": {"type": "message", "ts": ts, "text": "alert"},
        "response_url": "https://hooks.slack.com/actions/T0FAKE/1/abc",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "alert_actions",
                "type": "button",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
