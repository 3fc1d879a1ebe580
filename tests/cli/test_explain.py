"""`surveybot explain CONTACT_ID`: what happened to one contact, and why, in time order."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import orjson
from click.testing import CliRunner

from bot.app import Services
from bot.cli.main import cli
from bot.runtime.clock import FakeClock
from storage import queries
from storage.db import Database
from tests.conftest import BASE_CONFIG, ServicesFactory
from tests.helpers import event, write_config


def explain(tmp_path: Path, services: Services, *args: str) -> tuple[int, str]:
    config = write_config(tmp_path, services.config.storage.url)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["explain", "--config", str(config), *args])
    return result.exit_code, result.output


def test_explain_json_holds_events_decisions_sends_and_responses(
    make_services: ServicesFactory, clock: FakeClock, tmp_path: Path
) -> None:
    services = make_services(throttle={"survey_cooldown": "30d"})
    [first] = services.ingestor.ingest([event("e1")])
    services.dispatcher.run_once()
    services.responses.record_rating(first.decisions[0].send_id or "", 2, "slow reply", clock.now())
    clock.advance(timedelta(hours=1))
    services.ingestor.ingest([event("e2", properties={"ticket_id": "T-2"})])
    code, output = explain(tmp_path, services, "c1", "--json")
    assert code == 0, output
    document = orjson.loads(output)
    assert [e["id"] for e in document["events"]] == ["e1", "e2"]
    assert [(d["event_id"], d["outcome"], d["reason"]) for d in document["decisions"]] == [
        ("e1", "scheduled", None),
        ("e2", "suppressed", "survey_cooldown"),
    ]
    [send] = document["sends"]
    assert (send["status"], send["channel"], send["to_address"]) == ("sent", "sms", "+14155550100")
    [response] = document["responses"]
    assert (response["score"], response["comment"], response["send_id"]) == (2, "slow reply", send["id"])


def test_an_opt_out_met_at_send_time_is_a_decision_explain_shows(
    services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    services.ingestor.ingest([event("e1")])
    with services.db.write() as conn:
        key = services.address_keys.key("sms", "+14155550100")
        queries.add_opt_out(conn, key=key, channel="sms", source="sms_stop", now=clock.now())
    clock.advance(timedelta(minutes=1))
    services.dispatcher.run_once()
    _, output = explain(tmp_path, services, "c1", "--json")
    document = orjson.loads(output)
    assert [(d["outcome"], d["reason"]) for d in document["decisions"]] == [
        ("scheduled", None),
        ("suppressed", "opted_out"),
    ]
    assert [(s["status"], s["reason"]) for s in document["sends"]] == [("suppressed", "opted_out")]


def test_a_cancel_on_event_is_explained_with_its_reason(services: Services, tmp_path: Path) -> None:
    services.ingestor.ingest([event("e1")])
    services.ingestor.ingest([event("r1", type_="ticket.reopened")])
    services.dispatcher.run_once()
    code, output = explain(tmp_path, services, "c1")
    assert code == 0, output
    lines = output.splitlines()
    assert any("ticket.solved" in line for line in lines)
    assert any("csat_after_ticket: cancelled (cancel_on)" in line for line in lines)
    assert any("sms to +14155550100: cancelled (cancel_on)" in line for line in lines)


def test_explain_of_an_unknown_contact_says_so_and_exits_1(services: Services, tmp_path: Path) -> None:
    code, output = explain(tmp_path, services, "nobody")
    assert code == 1
    assert "nothing is stored about contact 'nobody'" in output


def test_explain_and_stats_fit_80_columns_with_one_time_format(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    quiet_all_day = {**BASE_CONFIG["throttle"], "quiet_hours": {"start": "00:00", "end": "23:59"}}
    config = write_config(tmp_path, db_url, throttle=quiet_all_day)
    runner = CliRunner(env={"COLUMNS": "80"})
    args = ["--config", str(config)]
    runner.invoke(
        cli,
        [
            "emit",
            *args,
            "--type",
            "ticket.solved",
            "--contact-id",
            "c1",
            "--phone",
            "+442071838750",
            "--name",
            "Ada",
        ],
    )
    runner.invoke(cli, ["send-test", *args, "support_csat", "--to", "+14155550100", "--contact-id", "c1"])
    explained = runner.invoke(cli, ["explain", *args, "c1"])
    stats = runner.invoke(cli, ["stats", *args, "--group-by", "channel"])
    for result in (explained, stats):
        assert result.exit_code == 0, result.output
        too_wide = [line for line in result.output.splitlines() if len(line) > 80]
        assert not too_wide, too_wide
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", explained.output)  # no ISO times for people
    people_time = r"\w{3} \d{2} \w{3} \d{4} \d{2}:\d{2}"
    assert re.search(rf"due {people_time}", re.sub(r"\s+", " ", explained.output))
    assert re.search(rf"{people_time} to {people_time} \(UTC\)", stats.output)
