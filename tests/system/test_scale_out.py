"""Four real `surveybot run` processes on one PostgreSQL database, against a fake Twilio and a
fake Slack: the throttle holds across processes, every survey leaves once, a retried webhook
counts once, every low score is alerted once, and a digest window is posted once."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from bot.config import parse_config
from storage import digest_posts
from storage.db import Database
from storage.models import Decision, Response, Send
from tests.conftest import empty_database_url, open_test_database
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, inbound_sms_params, signed_webhook
from tests.helpers import answers_ok, free_port, wait_until

PROCESSES = 4
CONTACTS = 60
PUBLIC_URL = "https://surveys.example.com"
DIGEST = {"name": "hourly", "channel": "#cx-metrics", "schedule": "0 * * * *", "window": "7d"}


def config_for(db_url: str, twilio: FakeTwilio, slack: FakeSlack, tmp_path: Path) -> Path:
    raw: dict[str, Any] = {
        "server": {"api_keys": ["test-key"], "secret_key": "s3cret", "public_url": PUBLIC_URL},
        "storage": {"url": db_url},
        "surveys": {"csat": {"metric": "csat", "question": {"sms": "Rate us 1-5"}}},
        "triggers": [{"name": "t", "on": "ticket.solved", "survey": "csat", "channels": ["sms"]}],
        "throttle": {"quiet_hours": None, "daily_cap": None, "contact_cooldown": "7d"},
        "channels": {
            "sms": {
                "provider": "twilio",
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "from": "+15550001111",
                "rate_per_second": 1000,
                "api_base_url": twilio.base_url,
            },
            "email": {"provider": "log", "path": str(tmp_path / "email.jsonl")},
        },
        "slack": {
            "bot_token": slack.token,
            "signing_secret": "slack-secret",
            "api_base_url": f"{slack.url}/api/",
        },
        "alerts": {"channel": "#cx-alerts"},
        "digests": [DIGEST],
    }
    path = tmp_path / "config.json"
    path.write_bytes(orjson.dumps(raw))
    parse_config(path.read_text())  # the test's own config must be valid
    return path


def rows(db: Database, model: Any) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(model.__table__)))


def phone(i: int) -> str:
    return f"+1415555{i:04d}"


def test_four_processes_share_the_work_and_do_everything_once(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db = open_test_database(empty_database_url("postgres", request, tmp_path))
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with db.write() as conn:  # the digest was last posted a few hours ago: the missed hour is due
        digest_posts.claim_window(
            conn,
            digest="hourly",
            window_end=hour - timedelta(hours=3),
            worker="old",
            now=hour - timedelta(hours=3),
            stale_before=hour,
        )
        digest_posts.mark_posted(
            conn,
            digest="hourly",
            window_end=hour - timedelta(hours=3),
            worker="old",
            now=hour - timedelta(hours=3),
            channel="C0METRICS",
            ts="1.0",
        )
    channels = {"cx-metrics": "C0METRICS", "cx-alerts": "C0ALERTS"}
    with FakeTwilio() as twilio, FakeSlack(channels=channels) as slack:
        config = config_for(db.url, twilio, slack, tmp_path)
        ports = [free_port() for _ in range(PROCESSES)]
        bots = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(p)],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for p in ports
        ]
        try:
            with httpx.Client(timeout=30) as client, ThreadPoolExecutor(max_workers=16) as pool:
                for port in ports:
                    ready = f"http://127.0.0.1:{port}/readyz"
                    wait_until(
                        lambda url=ready: answers_ok(url, client),
                        f"the process on {port} to be ready",
                        timeout=60,
                    )
                # Each contact's touchpoint reaches all four processes at once, as four events.
                posts = [
                    (
                        port,
                        {
                            "id": f"e{i}-{n}",
                            "type": "ticket.solved",
                            "contact": {"id": f"c{i}", "phone": phone(i)},
                        },
                    )
                    for i in range(CONTACTS)
                    for n, port in enumerate(ports)
                ]
                answers = list(
                    pool.map(
                        lambda p: client.post(
                            f"http://127.0.0.1:{p[0]}/v1/events",
                            json=p[1],
                            headers={"Authorization": "Bearer test-key"},
                        ),
                        posts,
                    )
                )
                assert {a.status_code for a in answers} == {202}
                wait_until(
                    lambda: (
                        len(twilio.messages) >= CONTACTS and all(s.status == "sent" for s in rows(db, Send))
                    ),
                    "every survey to go out",
                    timeout=60,
                )
                sids = {m["to"]: m["sid"] for m in twilio.messages}
                # Each contact answers 1; Twilio retries every webhook once, to another process.
                replies = []
                for i in range(CONTACTS):
                    params = inbound_sms_params(phone(i), "1", message_sid="SM" + uuid.uuid4().hex)
                    headers = signed_webhook(f"{PUBLIC_URL}/twilio/sms", params)
                    replies += [
                        (ports[i % PROCESSES], params, headers),
                        (ports[(i + 1) % PROCESSES], params, headers),
                    ]
                webhooks = list(
                    pool.map(
                        lambda r: client.post(f"http://127.0.0.1:{r[0]}/twilio/sms", data=r[1], headers=r[2]),
                        replies,
                    )
                )
                assert {w.status_code for w in webhooks} == {200}
                wait_until(
                    lambda: len(slack.calls_to("chat.postMessage")) >= CONTACTS + 1,
                    "alerts and the digest",
                    timeout=60,
                )
        finally:
            for bot in bots:
                bot.send_signal(signal.SIGTERM)
            exits = [bot.wait(timeout=60) for bot in bots]
        assert exits == [0] * PROCESSES
        to_numbers = Counter(m["to"] for m in twilio.messages)
        posted = Counter(call.params["channel"] for call in slack.calls_to("chat.postMessage"))
    decided = Counter(d.outcome for d in rows(db, Decision))
    assert decided["scheduled"] == CONTACTS, decided  # one per contact; the other three held back
    assert decided["suppressed"] == CONTACTS * (PROCESSES - 1)
    assert sorted(to_numbers.values()) == [1] * CONTACTS and set(to_numbers) == {
        phone(i) for i in range(CONTACTS)
    }
    assert len(sids) == CONTACTS
    responses = rows(db, Response)
    assert len(responses) == CONTACTS and {r.score for r in responses} == {1}
    assert posted["C0ALERTS"] == CONTACTS, "one alert per low score"
    assert posted["C0METRICS"] == 1, "the missed digest window, once"
    db.dispose()
