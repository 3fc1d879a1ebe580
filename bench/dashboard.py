"""Time the dashboard's pages over a million responses, answered in-process over HTTP.

    python -m bench.dashboard [--backend sqlite|postgresql|both] [--responses 1000000]
                              [--repeat 3] [--quick]

Loads the responses as `bench.digest_compute` does (28 days, three surveys, teams, agents,
comments, reminders, held decisions), builds the bot as `surveybot run` does with a signed-in
manager and every rollup built (as `surveybot rollups rebuild` does; timed), then times each
page (best of `--repeat`, warm caches): the overview, a survey page (7d, with a breakdown by
team, with a theme filter on comments; 28d), and a CSV download; each page beside itself with
the report's numbers read from the rows alone (the raw queries: the baseline), with the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import text

from bench.digest_compute import NOW, PG_URL, SURVEYS, load_postgres, load_sqlite
from bot.app import build_services
from bot.config import parse_config
from bot.dashboard.auth import SignInLinks
from bot.metrics.rollups import rebuild_rollups
from bot.runtime.clock import FakeClock
from bot.web.app import create_web_app
from storage import metrics
from storage.db import Database
from storage.reminders import raw_reminder_rates

PUBLIC_URL = "https://surveys.example.com"
PAGES = [
    ("overview 7d", "/dashboard?window=7d"),
    ("overview 28d", "/dashboard?window=28d"),
    ("survey 7d", "/dashboard/surveys/support_csat?window=7d"),
    ("survey 7d by team", "/dashboard/surveys/support_csat?window=7d&by=properties.team"),
    ("survey 7d low comments, theme", "/dashboard/surveys/support_csat?window=7d&score=low&theme=money"),
    ("survey 28d by agent", "/dashboard/surveys/relationship_nps?window=28d&by=properties.agent"),
    ("comments CSV 7d", "/dashboard/surveys/support_csat?window=7d&download=comments"),
    ("alerts 7d", "/dashboard/alerts?window=7d"),
]


def config_text(url: str) -> str:
    surveys = {
        name: {"metric": metric, "question": {"sms": "Rate us"}} for name, (metric, _, _) in SURVEYS.items()
    }
    return orjson.dumps({
        "server": {"public_url": PUBLIC_URL, "secret_key": "bench-secret"},
        "storage": {"url": url},
        "surveys": surveys,
        "themes": {"money": ["refund"], "speed": ["slow"]},
        "dashboard": {"secret": "bench-dashboard-secret-0123456789",
                      "users": [{"email": "m@x.io", "role": "manager"}]},
    }).decode()  # fmt: skip


@contextlib.contextmanager
def rows_only() -> Iterator[None]:
    """The report's numbers from the raw queries alone, as before the rollups: the baseline."""
    raw = {
        "digest_metrics": metrics.raw_digest_metrics, "send_counts": metrics.raw_send_counts,
        "comment_themes": metrics.raw_comment_themes, "holds_by_reason": metrics.raw_holds_by_reason,
        "daily_series": metrics.raw_daily_series,
    }  # fmt: skip
    with contextlib.ExitStack() as stack:
        for name, function in raw.items():
            stack.enter_context(mock.patch(f"bot.metrics.report.{name}", function))
        stack.enter_context(mock.patch("bot.metrics.reminders.reminder_rates", raw_reminder_rates))
        yield


def best(client: TestClient, page: str, repeat: int) -> tuple[float, float, str]:
    times, body = [], ""
    for _ in range(repeat):
        began = time.perf_counter()
        answer = client.get(page)
        times.append(time.perf_counter() - began)
        assert answer.status_code == 200, (page, answer.status_code)
        body = answer.text
    return min(times), times[0], body


def measure(name: str, url: str, repeat: int) -> None:
    config = parse_config(config_text(url))
    clock = FakeClock(NOW)
    services = build_services(config, db=Database(url), clock=clock, channels={})
    began = time.perf_counter()
    rebuild_rollups(services.db, config, clock)
    print(f"{name}: every rollup built in {time.perf_counter() - began:.1f} s")
    with TestClient(create_web_app(services), base_url=PUBLIC_URL) as client:
        links = SignInLinks(services.db, clock, public_url=PUBLIC_URL, lifetime=timedelta(minutes=15))
        path = links.create("m@x.io").removeprefix(PUBLIC_URL)
        form = client.get(path).text
        csrf = form.split('name="csrf" value="')[1].split('"')[0]
        assert client.post(path, data={"csrf": csrf}, follow_redirects=False).status_code == 303
        for label, page in PAGES:
            fast, first, shown = best(client, page, repeat)
            with rows_only():
                slow, _, baseline = best(client, page, repeat)
            assert _numbers(shown) == _numbers(baseline), f"{label}: the rollups and the rows disagree"
            print(f"{name}: {label:32s} best {fast * 1000:7.0f} ms  (first {first * 1000:.0f} ms)  "
                  f"rows {slow * 1000:7.0f} ms  ratio {fast / slow:.3f}")  # fmt: skip
    services.db.dispose()


def _numbers(page: str) -> str:
    """The page without its per-request tokens (CSRF, CSP nonces), for comparing two renderings."""
    return re.sub(r'(name="csrf" value|nonce)="[^"]*"', "", page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100,000 responses")
    args = parser.parse_args()
    if args.quick:
        args.responses = 100_000
    span = timedelta(days=28)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            engine = load_sqlite(Path(tmp) / "bench.db", args.responses, span)
            engine.dispose()
            print(f"sqlite: {args.responses:,} responses loaded in {time.perf_counter() - began:.1f} s")
            measure("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.repeat)
    if args.backend in ("postgresql", "both"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        began = time.perf_counter()
        engine = load_postgres(schema, args.responses, span)
        print(f"postgresql: {args.responses:,} responses loaded in {time.perf_counter() - began:.1f} s")
        try:
            measure("postgresql", f"{PG_URL}?options=-csearch_path%3D{schema}", args.repeat)
        finally:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


if __name__ == "__main__":
    main()
