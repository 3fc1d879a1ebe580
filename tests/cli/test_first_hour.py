"""The first hour: `send-test` shows a message at once, `reply` answers it as a customer would."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from click.testing import CliRunner, Result

from bot.cli.main import cli
from storage.db import Database
from tests.conftest import BASE_CONFIG
from tests.helpers import decisions, outbox, sends, write_config

PHONE = "+14155550100"


def quiet_now() -> dict[str, object]:
    """A throttle that would hold anything now: quiet hours around this minute where PHONE is
    (its region's zone: the contact gives none), long cooldowns."""
    now = datetime.now(ZoneInfo("America/Los_Angeles"))
    hours = {
        "start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (now + timedelta(hours=1)).strftime("%H:%M"),
    }
    return {
        **BASE_CONFIG["throttle"],
        "quiet_hours": hours,
        "contact_cooldown": "7d",
        "survey_cooldown": "30d",
    }


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [args[0], "--config", str(config), *args[1:]])


def test_send_test_goes_out_now_past_quiet_hours_and_counts_in_no_throttle(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    config = write_config(tmp_path, db_url, throttle=quiet_now())
    result = run(config, "send-test", "support_csat", "--to", PHONE,
                 "--contact-id", "c1", "--name", "Ada", "-p", "ticket_id=T-9")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"sms to {PHONE}: sent" in result.output
    assert f"surveybot reply --from {PHONE}" in result.output
    assert [m["body"] for m in outbox(tmp_path, "sms")] == ["Hi Ada, rate ticket T-9 1-5"]
    (send,) = sends(database)
    assert (send.status, send.test, send.trigger) == ("sent", True, "send-test")
    assert decisions(database) == []  # no trigger decided it
    # A real event for the same contact right after: only quiet hours hold it, no cooldown.
    emitted = run(config, "emit", "--type", "ticket.solved", "--contact-id", "c1", "-p", "ticket_id=T-10")
    assert "csat_after_ticket: deferred" in emitted.output, emitted.output


def test_reply_plays_the_sms_conversation_and_explain_shows_a_test(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    config = write_config(tmp_path, db_url)
    assert run(config, "send-test", "support_csat", "--to", PHONE).exit_code == 0
    first = run(config, "reply", "--from", PHONE, "2")
    assert first.exit_code == 0 and first.output.strip() == "What is the main reason for your score?"
    assert run(config, "reply", "--from", PHONE, "too slow").exit_code == 0
    explained = run(config, "explain", f"test:{PHONE}", "--json")
    history = orjson.loads(explained.output)
    (response,) = history["responses"]
    assert (response["score"], response["comment"], response["counted"], response["test"]) == (
        2, "too slow", False, True,
    )  # fmt: skip
    assert history["sends"][0]["test"] is True
    table = CliRunner().invoke(
        cli, ["explain", "--config", str(config), f"test:{PHONE}"], env={"COLUMNS": "200"}
    )
    assert "test send, sms to" in table.output and "test: not counted" in table.output
    stats = orjson.loads(run(config, "stats", "--json").output)
    csat = next(s for s in stats["surveys"] if s["survey"] == "support_csat")
    assert (csat["n"], csat["sent"], csat["responded"]) == (0, 0, 0), csat


def test_send_test_and_reply_by_whatsapp(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    result = run(config, "send-test", "support_csat", "--to", PHONE, "--channel", "whatsapp", "--name", "Ada")
    assert result.exit_code == 0, result.output
    assert f"whatsapp to {PHONE}: sent" in result.output
    assert f"surveybot reply --whatsapp --from {PHONE} 4" in result.output
    assert [(m["channel"], m["to"]) for m in outbox(tmp_path, "whatsapp")] == [("whatsapp", PHONE)]
    by_sms = run(config, "reply", "--from", PHONE, "4")
    assert "no open survey" in by_sms.output  # the SMS conversation is another one
    by_whatsapp = run(config, "reply", "--whatsapp", "--from", PHONE, "4")
    assert by_whatsapp.output.strip() == "What is the main reason for your score?"


def test_send_test_to_an_opted_out_number_is_held(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    stop = run(config, "reply", "--from", PHONE, "STOP")
    assert stop.exit_code == 0, stop.output
    result = run(config, "send-test", "support_csat", "--to", PHONE)
    assert result.exit_code == 1
    assert "suppressed (opted_out)" in result.output
    assert outbox(tmp_path, "sms") == []


def test_send_test_names_what_is_wrong(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    unknown = run(config, "send-test", "support_cast", "--to", PHONE)
    assert unknown.exit_code == 2 and "the surveys are: delivery_nps, support_csat" in unknown.output
    no_sms = run(config, "send-test", "delivery_nps", "--to", PHONE)
    assert no_sms.exit_code == 2 and "has no question.sms" in no_sms.output
    bad = run(config, "send-test", "support_csat", "--to", "12")
    assert bad.exit_code == 2 and "'12' is not a valid phone number" in bad.output
    assert sends(database) == []


def test_reply_without_an_open_survey_says_so(tmp_path: Path, database: Database, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    result = run(config, "reply", "--from", PHONE, "5")
    assert result.exit_code == 0
    assert "no open survey" in result.output.lower(), result.output


ROOT = Path(__file__).resolve().parents[2]


def test_no_config_says_where_one_comes_from(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", "--config", str(tmp_path / "config.yaml")])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: no config at {tmp_path / 'config.yaml'}")
    assert "--config PATH or SURVEYBOT_CONFIG" in line and "surveybot init" in line


def test_init_writes_the_shipped_config_and_never_overwrites_unasked(tmp_path: Path) -> None:
    assert (ROOT / "bot/texts/starter/config.yaml").read_text() == (ROOT / "config.yaml").read_text(), (
        "bot/texts/starter/config.yaml is what `surveybot init` writes: copy config.yaml over it"
    )
    target = tmp_path / "new" / "config.yaml"
    first = CliRunner().invoke(cli, ["init", str(tmp_path / "new")])
    assert first.exit_code == 0 and f"wrote {target}" in first.output
    assert target.read_text() == (ROOT / "config.yaml").read_text()
    target.write_text("# mine\n")
    again = CliRunner().invoke(cli, ["init", str(tmp_path / "new")])
    assert again.exit_code == 1 and "already exists" in again.output
    assert target.read_text() == "# mine\n"
    forced = CliRunner().invoke(cli, ["init", str(tmp_path / "new"), "--force"])
    assert forced.exit_code == 0 and target.read_text() == (ROOT / "config.yaml").read_text()
    check = CliRunner().invoke(cli, ["check-config", "--config", str(target)])
    assert check.exit_code == 0, check.output


def test_a_port_in_use_stops_run_before_it_starts_anything(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", str(port)],
            cwd=tmp_path, capture_output=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 3
    assert done.stdout == b""
    (line,) = done.stderr.decode().strip().splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port}") and "--port" in line
    assert not (tmp_path / "bot.db").exists()  # nothing started: not even the database


def test_a_score_after_the_reprompt_still_counts_through_the_inbox(
    tmp_path: Path, database: Database, db_url: str
) -> None:
    config = write_config(tmp_path, db_url)
    assert run(config, "send-test", "support_csat", "--to", PHONE).exit_code == 0
    answers = [
        run(config, "reply", "--from", PHONE, text).output.strip() for text in ("hmm", "dunno", "I'd say 3")
    ]
    assert answers[0].startswith("Sorry, we didn't catch a score")
    assert answers[1] == "(no answer: surveybot says nothing back to this message)"  # no second re-prompt
    assert answers[2] == "What is the main reason for your score?"
    history = orjson.loads(run(config, "explain", f"test:{PHONE}", "--json").stdout)
    assert [r["score"] for r in history["responses"]] == [3]
