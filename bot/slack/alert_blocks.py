"""How a low-score alert reads in Slack (Block Kit), in each state of its follow-up. Pure."""

from __future__ import annotations

import re
from typing import Any

from bot.texts import digest as texts
from storage.alerts import AlertContext, AlertRow
from triggers.metrics import METRICS

CLAIM_ACTION = "alert_claim"
RESOLVE_ACTION = "alert_resolve"
MAX_TEXT = 3000
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def render_alert_blocks(context: AlertContext, state: AlertRow | None = None) -> list[dict[str, Any]]:
    """The alert: score, comment, contact, event properties; then who follows up, and the
    buttons still useful (none once resolved). Button values carry the send id."""
    high = METRICS[context.metric].scale[1]
    title = texts.alert_title(context.survey, context.metric, context.score, high)
    blocks: list[dict[str, Any]] = [
        _section(f"*{texts.escape(title)}*\n{texts.escape(texts.alert_comment(context.comment))}"),
        _context(
            texts.escape(
                texts.alert_contact(
                    context.contact_name, context.contact_id, context.channel, context.event_type
                )
            ),
            texts.escape(texts.alert_properties(context.properties)),
        ),
    ]
    if state and state.claimed_by and state.claimed_at:
        blocks.append(_context(texts.alert_claimed(_who(state.claimed_by), state.claimed_at)))
    if state and state.resolved_by and state.resolved_at:
        blocks.append(_context(texts.alert_resolved(_who(state.resolved_by), state.resolved_at)))
        return blocks
    buttons = (
        [] if state and state.claimed_by else [_button(texts.CLAIM_BUTTON, CLAIM_ACTION, context, "primary")]
    )
    buttons.append(_button(texts.RESOLVE_BUTTON, RESOLVE_ACTION, context))
    blocks.append({"type": "actions", "block_id": "alert_actions", "elements": buttons})
    return blocks


def alert_fallback(context: AlertContext) -> str:
    """The message's `text` (notifications, screen readers): Slack reads it as mrkdwn too, so
    the comment is escaped as in the blocks; `<!channel>` or a disguised link stays inert."""
    high = METRICS[context.metric].scale[1]
    title = texts.alert_title(context.survey, context.metric, context.score, high)
    return texts.escape(f"{title}: {texts.alert_comment(context.comment)}")


def _who(user: str) -> str:
    """A Slack user id as a mention; anyone else (a dashboard user's email) as plain text."""
    return f"<@{user}>" if SLACK_USER_ID.match(user) else texts.escape(user)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def _context(*lines: str) -> dict[str, Any]:
    """Lines already in mrkdwn (escaped where they hold outside text; mentions stay live)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": line[:MAX_TEXT]} for line in lines]}


def _button(label: str, action: str, context: AlertContext, style: str | None = None) -> dict[str, Any]:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action,
        "value": context.send_id,
    }
    return button | ({"style": style} if style else {})
