"""Digest rendering: Slack's limits hold, lists are cut honestly, numbers read as computed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.cli.digest_text import render_digest_text
from bot.metrics.digest import (
    AlertSummary,
    Breakdown,
    CommentLine,
    DigestReport,
    GroupLine,
    SurveySection,
    ThemeLine,
)
from bot.metrics.statistics import nps_estimate, share_change, share_estimate
from bot.slack.digest_blocks import MAX_BLOCKS, MAX_SECTION_CHARS, render_digest_blocks

END = datetime(2026, 11, 23, tzinfo=UTC)


def section(name: str = "support_csat", groups: int = 3, comments: int = 2) -> SurveySection:
    estimate = share_estimate(80, 100)
    assert estimate is not None
    group_lines = [GroupLine(f"agent{i}", e) for i in range(groups) if (e := share_estimate(i % 10, 10))]
    return SurveySection(
        survey=name,
        metric="csat",
        estimate=estimate,
        change=share_change(80, 100, 60, 100),
        sends_left=250,
        responded=100,
        holds=[("contact_cooldown", 40), ("opted_out", 3)],
        breakdowns=[Breakdown("properties.agent", group_lines)],
        comments=[CommentLine(1, f"bad <b> & slow #{i} " + "x" * 300, "sms", END) for i in range(comments)],
        comments_total=comments + 4,
        themes=[ThemeLine("billing", 7, 20)],
    )


def report(*sections: SurveySection) -> DigestReport:
    return DigestReport(
        name="weekly_cx", start=END - timedelta(days=7), end=END, timezone="UTC",
        window=timedelta(days=7), min_sample=30, sections=list(sections),
        alerts=AlertSummary(12, 9, 7, timedelta(minutes=65)),
    )  # fmt: skip


def texts_of(blocks: list[dict]) -> list[str]:
    found = []
    for b in blocks:
        if "text" in b:
            found.append(b["text"]["text"])
        found += [e["text"] for e in b.get("elements", [])]
    return found


def test_a_digest_reads_its_numbers() -> None:
    blocks = render_digest_blocks(report(section()))
    text = "\n".join(texts_of(blocks))
    assert "*80.0%*" in text and "95% interval 71.1% to 86.7%" in text and "n=100" in text
    assert "up 20.0 points vs the previous 7 days (more than noise, 5% test)" in text
    assert "response rate 40.0% (100 of 250 surveys sent)" in text
    assert "held back: contact cooldown 40, opted out 3" in text
    assert "billing: 7 (35% of 20 low scores)" in text
    assert "Alerts: 12 posted, 9 claimed, 7 resolved, median time to claim 1h 5m" in text
    assert "bad &lt;b&gt; &amp; slow" in text  # comments are escaped for mrkdwn
    assert "_and 4 more_" in text  # 2 shown of 6 low-score comments


def test_small_samples_are_flagged() -> None:
    small = SurveySection("tiny", "nps", nps_estimate(5, 3, 2))
    text = "\n".join(texts_of(render_digest_blocks(report(small))))
    assert "small sample (fewer than 30 responses)" in text and "*+30.0*" in text


def test_long_lists_stay_within_a_section_and_say_how_many_are_cut() -> None:
    blocks = render_digest_blocks(report(section(groups=400, comments=40)))
    assert all(len(t) <= MAX_SECTION_CHARS for t in texts_of(blocks))
    by_agent = next(t for t in texts_of(blocks) if t.startswith("*By agent*"))
    shown = by_agent.count("\n• ")
    assert f"_and {400 - shown} more_" in by_agent
    comments = next(t for t in texts_of(blocks) if t.startswith("*Latest low-score"))
    assert f"_and {44 - comments.count(chr(10) + '• ')} more_" in comments


def test_many_surveys_stay_within_fifty_blocks() -> None:
    many = [section(f"survey_{i}") for i in range(30)]
    blocks = render_digest_blocks(report(*many))
    assert len(blocks) <= MAX_BLOCKS
    shown = sum(1 for t in texts_of(blocks) if t.startswith("*survey_"))
    assert f"and {30 - shown} more surveys" in texts_of(blocks)[-2]
    assert texts_of(blocks)[-1].startswith("Alerts:")
    assert len(json.dumps(blocks)) < 50_000


def test_terminal_text_holds_the_same_numbers() -> None:
    text = render_digest_text(report(section(groups=30)))
    assert "80.0%  95% interval 71.1% to 86.7%, n=100" in text
    assert "By agent:" in text and "and 15 more" in text
    assert "and 4 more" in text
