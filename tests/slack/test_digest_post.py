"""A digest built from the database, posted through the real slack_sdk WebClient to a local
fake of Slack's Web API; the numbers in the posted blocks are checked against the rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config
from bot.metrics.chart import render_trend_chart
from bot.metrics.digest import DigestReport
from bot.metrics.report import build_digest_report, daily_points
from bot.slack.publish import post_digest
from storage.db import Database
from tests.fakes.metric_rows import NOW, SURVEYS, insert_rows, make_dataset
from tests.fakes.slack_api import FakeSlack
from tests.metrics.test_statistics import score_test_bound

CONFIG = Config.model_validate(
    {
        "surveys": {
            name: {"metric": metric, "question": {"sms": "Rate us"}}
            for name, metric in SURVEYS.items()
        },
        "digests": [
            {"name": "weekly_cx", "channel": "#cx-metrics", "schedule": "0 9 * * mon",
             "window": "7d", "group_by": ["properties.team", "channel"], "chart": True}
        ],
        "themes": {"billing": ["invoice", "refund", "charge"]},
    }
)  # fmt: skip
TOKEN = "xoxb-test-token"


def posted_text(call_params: dict[str, Any]) -> str:
    return "\n".join(
        b["text"]["text"] if "text" in b else b.get("elements", [{}])[0].get("text", "")
        for b in call_params["blocks"]
    )


def test_digest_posts_the_numbers_of_the_rows(database: Database) -> None:
    engine = database.engine
    data = make_dataset(600)
    insert_rows(engine, data)
    digest = CONFIG.digests[0]
    start = NOW - timedelta(days=7)
    with engine.connect() as conn:
        report = build_digest_report(conn, config=CONFIG, digest=digest, end=NOW)
        points = daily_points(conn, survey="support_csat", start=start, end=NOW, timezone="UTC")
    chart = render_trend_chart(points, survey="support_csat", metric="csat")
    with FakeSlack(token=TOKEN, channels={"cx-metrics": "C0CX"}) as slack:
        client = WebClient(token=TOKEN, base_url=slack.url + "/api/")
        ts = post_digest(client, channel_id="C0CX", report=report, charts=[("support_csat", chart)])
        [message] = slack.calls_to("chat.postMessage")
        [upload] = slack.uploads.values()
    assert message.authorization == f"Bearer {TOKEN}"
    assert slack.counts["/api/chat.postMessage"] == 1
    assert slack.counts["/api/files.completeUploadExternal"] == 1
    assert upload.data == chart and upload.channel == "C0CX" and chart.startswith(b"\x89PNG")
    assert ts.startswith("1700000000.")
    text = posted_text(message.params)

    csat = [
        r for r in data.responses
        if r["survey"] == "support_csat" and r["counted"] and start <= r["received_at"] < NOW
    ]  # fmt: skip
    good = sum(r["score"] >= 4 for r in csat)
    low, high = (100 * score_test_bound(good, len(csat), upper=u) for u in (False, True))
    assert f"*{100 * good / len(csat):.1f}%*" in text
    assert f"95% interval {low:.1f}% to {high:.1f}%, n={len(csat)}" in text

    answered = {r["send_id"] for r in data.responses if r["counted"]}
    left = [
        s for s in data.sends
        if s["survey"] == "support_csat" and s["sent_at"] and start <= s["sent_at"] < NOW
        and s["status"] in ("sent", "delivered", "undelivered")
    ]  # fmt: skip
    responded = sum(s["id"] in answered for s in left)
    assert f"response rate {100 * responded / len(left):.1f}% ({responded} of {len(left)}" in text

    sms = [r for r in csat if r["channel"] == "sms"]
    sms_good = sum(r["score"] >= 4 for r in sms)
    assert f"• sms: {100 * sms_good / len(sms):.1f}%, n={len(sms)}" in text

    nps = [
        r for r in data.responses
        if r["survey"] == "relationship_nps" and r["counted"] and start <= r["received_at"] < NOW
    ]  # fmt: skip
    score = 100 * (sum(r["score"] >= 9 for r in nps) - sum(r["score"] <= 6 for r in nps)) / len(nps)
    assert f"*{score:+.1f}*" in text


def test_a_wrong_token_is_refused_like_slack_does() -> None:
    with FakeSlack(token=TOKEN) as slack:
        client = WebClient(token="xoxb-wrong", base_url=slack.url + "/api/")
        with pytest.raises(SlackApiError, match="invalid_auth"):
            client.chat_postMessage(channel="general", text="hi")
        client = WebClient(token=TOKEN, base_url=slack.url + "/api/")
        assert client.auth_test()["bot_id"] == "B0BOT"
        with pytest.raises(SlackApiError, match="channel_not_found"):
            client.chat_postMessage(channel="#nowhere", text="hi")
        update = client.chat_update(channel="general", ts="1.2", text="edited")
        assert update["text"] == "edited"
        assert client.chat_postEphemeral(channel="general", user="U1", text="psst")["ok"]
        channels = client.conversations_list()["channels"]
        assert [c["id"] for c in channels] == ["C0GENERAL"]
    assert slack.counts["/api/chat.postMessage"] == 2


def test_the_posted_fallback_text_is_escaped_for_mrkdwn() -> None:
    start = NOW - timedelta(days=7)
    title = "<!channel> & <https://evil.example|Click>"
    report = DigestReport(name="x", start=start, end=NOW, timezone="UTC", window=timedelta(days=7),
                          min_sample=1, sections=[], title=title)  # fmt: skip
    with FakeSlack(token=TOKEN) as slack:
        client = WebClient(token=TOKEN, base_url=slack.url + "/api/")
        post_digest(client, channel_id="C0GENERAL", report=report)
    [post] = slack.calls_to("chat.postMessage")
    assert post.params["text"].startswith("&lt;!channel&gt; &amp; &lt;https://evil.example|Click&gt;")
