"""Post a rendered digest through any client shaped like `slack_sdk.WebClient`.

The client is handed in (built once by the composition root), so this module imports no SDK;
tests pass the real `WebClient` pointed at a local fake of Slack's Web API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.metrics.digest import DigestReport
from bot.slack.digest_blocks import render_digest_blocks, render_fallback_text
from bot.texts import digest as texts


class SlackWebApi(Protocol):
    """The two `slack_sdk.WebClient` methods a digest needs."""

    def chat_postMessage(
        self, *, channel: str, text: str | None = ..., blocks: Any = ..., **kwargs: Any
    ) -> Any: ...

    def files_upload_v2(self, *, filename: str | None = ..., file: Any = ..., **kwargs: Any) -> Any: ...


def post_digest(
    client: SlackWebApi,
    *,
    channel_id: str,
    report: DigestReport,
    charts: Sequence[tuple[str, bytes]] = (),
) -> str:
    """Post the digest's blocks, then each (survey, PNG) chart in its thread; returns the
    message's `ts`. `files_upload_v2` needs a channel id, not a `#name`."""
    answer = client.chat_postMessage(
        channel=channel_id, text=render_fallback_text(report), blocks=render_digest_blocks(report)
    )
    ts = str(answer["ts"])
    for survey, png in charts:
        client.files_upload_v2(
            channel=channel_id,
            file=png,
            filename=f"{report.name}-{survey}.png",
            title=texts.chart_comment(survey),
            thread_ts=ts,
        )
    return ts
