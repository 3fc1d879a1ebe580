"""`surveybot simulate`: replaying events through a policy, and agreeing with real ingestion."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner
from sqlalchemy import update

from bot.cli.main import cli
from bot.intake.ordering import in_time_order
from bot.intake.simulate import Simulation
from storage.db import Database
from storage.models import Send
from tests.conftest import ServicesFactory
from tests.helpers import decisions, sends, write_config

START = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = {
    "contact_cooldown": "2d",
    "survey_cooldown": "5d",
    "max_per_contact": {"count": 3, "per": "20d"},
    "daily_cap": 6,
    "quiet_hours": {"start": "20:00", "end": "09:00"},
}


def sample_events(count: int = 300, seed: int = 3) -> list[dict[str, Any]]:
    """Events for a dozen contacts over three weeks, in time order, with reopenings and repeats."""
    rng = random.Random(seed)
    phones = ["+12125550100", "+14155550100", "+4930901820", None]
    events = []
    for i in range(count):
        who = rng.randrange(12)
        contact: dict[str, Any] = {"id": f"c{who}", "email": f"c{who}@example.com"}
        if phones[who % 4]:
            contact["phone"] = phones[who % 4]
        kind = rng.choice(["ticket.solved", "ticket.solved", "order.delivered", "ticket.reopened"])
        at = START + timedelta(minutes=97 * i)
        events.append(
            {
                "id": f"e{i}",
                "type": kind,
                "occurred_at": at.isoformat().replace("+00:00", "Z"),
                "contact": contact,
                "properties": {"ticket_id": f"T{who}-{rng.randrange(2)}"},
            }
        )
    return events


def write_jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


def simulate(tmp_path: Path, events_file: Path, *extra: str, exit_code: int = 0) -> Any:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", throttle=POLICY)
    result = CliRunner().invoke(cli, ["simulate", "--config", str(config), str(events_file), *extra])
    assert result.exit_code == exit_code, result.output
    return orjson.loads(result.stdout) if "--json" in extra else result.output


def test_simulate_counts_what_would_go_out_and_what_is_held_back(tmp_path: Path) -> None:
    report = simulate(tmp_path, write_jsonl(tmp_path / "events.jsonl", sample_events()), "--json")
    assert report["events"] == {"accepted": 300}
    decided = report["would_send"] + report["cancelled"] + sum(report["held_back"].values())
    triggered = sum(e["type"] in ("ticket.solved", "order.delivered") for e in sample_events())
    assert decided == triggered
    assert set(report["held_back"]) <= {"survey_cooldown", "contact_cooldown", "contact_cap", "daily_cap"}
    assert report["held_back"]["daily_cap"] > 0
    assert not (tmp_path / "unused.db").exists()  # a replay stores nothing
    assert not (tmp_path / "outbox").exists()  # and sends nothing


def test_a_cancel_event_before_the_send_is_due_calls_it_off(tmp_path: Path) -> None:
    contact = {"id": "c1", "phone": "+4930901820"}
    solved = {"id": "e1", "type": "ticket.solved", "occurred_at": "2026-03-02T21:00:00Z", "contact": contact}
    solved["properties"] = {"ticket_id": "T1"}
    reopened = {**solved, "id": "e2", "type": "ticket.reopened", "occurred_at": "2026-03-02T22:00:00Z"}
    report = simulate(tmp_path, write_jsonl(tmp_path / "events.jsonl", [solved, reopened]), "--json")
    # Quiet in Berlin until 09:00 (08:00 UTC) the next morning; the reopening comes first.
    assert (report["would_send"], report["deferred_by_quiet_hours"], report["cancelled"]) == (0, 1, 1)
    assert report["by_day"] == {"2026-03-03": {"support_csat": {"cancelled": 1}}}


def test_simulate_prints_tables_by_survey_and_day(tmp_path: Path) -> None:
    output = simulate(tmp_path, write_jsonl(tmp_path / "events.jsonl", sample_events()))
    assert "by survey: would send, and held back by reason" in output
    assert "2026-03-01" in output and "daily cap" in output


def test_events_out_of_order_are_replayed_in_time_order(tmp_path: Path) -> None:
    events = sample_events()
    shuffled = events[:]
    random.Random(1).shuffle(shuffled)
    in_order = simulate(tmp_path, write_jsonl(tmp_path / "a.jsonl", events), "--json")
    out_of_order = simulate(tmp_path, write_jsonl(tmp_path / "b.jsonl", shuffled), "--json")
    assert out_of_order == in_order


def test_the_external_sort_merges_runs_stably() -> None:
    events = sample_events(50)
    rows = list(enumerate(reversed(events)))
    merged = list(in_time_order(lambda: iter(rows), run_size=7))
    assert [raw["id"] for _, raw in merged] == [e["id"] for e in events]


def test_csv_events_replay_like_json_lines(tmp_path: Path) -> None:
    events = sample_events(120)
    lines = ["id,type,occurred_at,contact.id,contact.email,contact.phone,properties.ticket_id"]
    for e in events:
        c = e["contact"]
        fields = [
            e["id"],
            e["type"],
            e["occurred_at"],
            c["id"],
            c["email"],
            c.get("phone", ""),
            e["properties"]["ticket_id"],
        ]
        lines.append(",".join(fields))
    (tmp_path / "events.csv").write_text("\n".join(lines) + "\n")
    from_csv = simulate(tmp_path, tmp_path / "events.csv", "--json")
    assert from_csv == simulate(tmp_path, write_jsonl(tmp_path / "events.jsonl", events), "--json")


def test_bad_lines_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = orjson.dumps(sample_events(1)[0]).decode()
    path.write_text(f'{good}\nnot json\n{{"id": "x", "type": "ticket.solved", "contact": {{"id": "c"}}}}\n')
    report = simulate(tmp_path, path, "--json", exit_code=1)  # any invalid line: exit 1
    assert report["events"] == {"accepted": 1, "invalid": 2}
    assert [e["line"] for e in report["errors"]] == [2, 3]
    assert "occurred_at: is required to simulate" in report["errors"][1]["error"]


def deliver_what_is_due(db: Database, now: datetime) -> None:
    """As a dispatcher keeping up would have: every send due by `now` has gone out."""
    s = Send.__table__.c  # type: ignore[attr-defined]
    with db.write() as conn:
        conn.execute(
            update(Send.__table__).where(s.status == "scheduled", s.due_at <= now).values(status="sent")  # type: ignore[attr-defined]
        )


def test_the_replay_decides_as_ingestion_does(make_services: ServicesFactory) -> None:
    """The same events, one at a time at their own time: through the database and in memory."""
    services = make_services(throttle=POLICY)
    events = sample_events()
    for raw in events:
        at = datetime.fromisoformat(raw["occurred_at"])
        deliver_what_is_due(services.db, at)
        services.ingestor.ingest([raw], now=at)
    simulation = Simulation(services.config)
    simulation.feed_all(enumerate(events))
    stored: Counter[tuple[str, str, str]] = Counter()
    for send in sends(services.db):
        outcome = "cancelled" if send.status == "cancelled" else "would_send"
        stored[(send.due_at.date().isoformat(), send.survey, outcome)] += 1
    times = {e["id"]: e["occurred_at"][:10] for e in events}
    pks = {d.event_pk for d in decisions(services.db)}
    with services.db.read() as conn:
        from storage.queries import events_by_pk

        event_ids = {pk: row.event_id for pk, row in events_by_pk(conn, sorted(pks)).items()}
    for d in decisions(services.db):
        if d.outcome == "suppressed":
            stored[(times[event_ids[d.event_pk]], d.survey, d.reason)] += 1
    assert +simulation.report.tally == stored
