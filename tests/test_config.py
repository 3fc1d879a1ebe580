"""The config: the shipped one runs as it is; a bad one is refused with every problem listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from bot.config import load_config, parse_config
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

BAD = """
surveys:
  s1:
    metric: csat
    question: {sms: "Rate us {{ contact.name"}
triggers:
  - name: t1
    on: ticket.solved
    survey: s1
    channels: [sms, pigeon]
    delay: 10 minutes
  - name: t2
    on: ticket.solved
    survey: nope
    channels: [sms]
    sample: 1.5
throttle:
  quiet_hours: {start: "25:00", end: "09:00"}
  default_timezone: Mars/Base
sevrer: {}
"""


def test_the_shipped_config_is_valid_and_runs_in_log_mode() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    assert config.storage.url == "sqlite:///surveybot.db"
    assert (config.channels.sms.provider, config.channels.email.provider) == ("log", "log")
    metrics = {config.surveys[t.survey].metric: t.on for t in config.triggers}
    assert metrics == {"csat": "ticket.solved", "ces": "onboarding.completed", "nps": "order.delivered"}


def test_every_problem_is_listed_by_its_path() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BAD, environ={})
    problems = "\n".join(caught.value.problems)
    assert "triggers[0].channels[1]: 'pigeon' is not one of: 'sms', 'email' or 'whatsapp'" in problems
    assert "triggers[0].delay: '10 minutes' is not a duration like 10m" in problems
    assert "triggers[1].sample:" in problems
    assert "throttle.quiet_hours.start: '25:00' is not a time of day" in problems
    assert "throttle.default_timezone: 'Mars/Base' is not an IANA time zone" in problems
    assert "sevrer: is not a known key here: did you mean 'server'?" in problems
    # In the same pass, what the sound parts refer to: t2's survey, s1's template.
    assert "triggers[1].survey: 'nope' is not a survey (known: s1)" in problems
    assert "surveys.s1.question.sms: the template does not compile" in problems
    assert len(caught.value.problems) == 8


def test_references_and_templates_are_checked_when_the_shape_is_right_too() -> None:
    text = BAD.replace("pigeon", "email").replace("10 minutes", "10m").replace("1.5", "0.5")
    text = text.replace('"25:00"', '"20:00"').replace("Mars/Base", "UTC").replace("sevrer: {}", "")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    problems = caught.value.problems
    assert any(p.startswith("triggers[1].survey: 'nope' is not a survey (known: s1)") for p in problems)
    assert any(p.startswith("triggers[0].channels: survey 's1' has no question.email") for p in problems)
    assert any(p.startswith("surveys.s1.question.sms: the template does not compile") for p in problems)


def test_env_variables_are_interpolated_and_unset_ones_named() -> None:
    text = (
        'server: {api_keys: ["${KEY}", "${OTHER:-}"], public_url: "${URL:-https://x.example}"}\n'
        'slack: {bot_token: "${TOKEN}", signing_secret: s}'
    )
    config = parse_config(text.replace(', "${OTHER:-}"', ""), environ={"KEY": "k", "TOKEN": "t"})
    assert [k.key for k in config.server.api_keys] == [
        "k"
    ] and config.server.public_url == "https://x.example"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={"KEY": "k"})
    assert caught.value.problems == [
        "slack.bot_token: environment variable TOKEN is not set "
        "(set it, or write ${TOKEN:-default} to allow a default)"
    ]


def test_json_is_accepted() -> None:
    config = parse_config('{"throttle": {"contact_cooldown": "2d"}}', environ={})
    assert config.throttle.contact_cooldown.days == 2


def test_check_config_exits_2_and_lists_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    result = CliRunner().invoke(cli, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    assert "the config has 8 problems:" in result.output
    assert "  - triggers[0].delay: '10 minutes' is not a duration like 10m" in result.output


def test_check_config_accepts_the_shipped_config() -> None:
    result = CliRunner().invoke(cli, ["check-config", "--config", str(ROOT / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("config OK: 3 surveys, 3 triggers")


def test_a_twilio_channel_without_credentials_is_a_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("channels: {sms: {provider: twilio}}", environ={})
    assert caught.value.problems == [
        "channels.sms: provider twilio needs account_sid, auth_token, from (or messaging_service_sid)"
    ]


def test_a_liveness_sweep_out_of_range_is_named_with_the_range() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("dispatch: {liveness_sweep: 0s}", environ={})
    assert caught.value.problems == ["dispatch.liveness_sweep: 0s is out of range: give 1s to 5m, such as 5s"]
    assert parse_config("{}", environ={}).dispatch.liveness_sweep.total_seconds() == 5


def test_every_command_has_help_text() -> None:
    def walk(group: object, prefix: str = "") -> list[tuple[str, object]]:
        found = []
        for name, command in getattr(group, "commands", {}).items():
            found.append((prefix + name, command))
            found += walk(command, prefix + name + " ")
        return found

    for name, command in walk(cli):
        assert getattr(command, "help", None), f"`surveybot {name}` has no help text"


LONG_SMS = """
surveys:
  short:
    metric: csat
    question: {sms: "Hi {{ contact.name }}, rate ticket {{ properties.ticket_id }} 1-5"}
  emoji:
    metric: csat
    question:
      sms: "Hi {{ contact.name }} 😊 how did {{ properties.agent }} do? Reply with a number from 1 to 5, ta!"
    follow_up: "{{ link }} {{ link }}"
"""


def test_check_config_warns_about_sms_longer_than_one_segment(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(LONG_SMS)
    result = CliRunner().invoke(cli, ["check-config", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("config OK: 2 surveys")
    lines = result.stderr.splitlines()
    assert lines[0] == "2 warnings:"
    assert lines[1].startswith("  - surveys.emoji.question.sms: for an example contact this SMS is ")
    assert "2 segments in UCS-2 (one holds 70)" in lines[1]
    assert lines[2].startswith("  - surveys.emoji.follow_up: ") and "in GSM-7 (one holds 160)" in lines[2]


def test_the_shipped_config_has_no_sms_warnings() -> None:
    result = CliRunner().invoke(cli, ["check-config", "--config", str(ROOT / "config.yaml")])
    assert result.stderr == ""


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, command in cli.commands.items():
        subcommands = getattr(command, "commands", None)
        for full in [f"{name} {sub}" for sub in subcommands] if subcommands else [name]:
            assert f"surveybot {full}" in readme, f"`surveybot {full}` is not in the README"


def test_the_shipped_digest_prints_without_slack_credentials(tmp_path: Path) -> None:
    env = {"SURVEYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'surveybot.db'}", "SLACK_BOT_TOKEN": ""}
    config = load_config(ROOT / "config.yaml", environ=env)
    assert [d.name for d in config.digests] == ["weekly"] and config.alerts.channel == "#cx-alerts"
    assert config.slack.bot_token in (None, "")
    result = CliRunner().invoke(
        cli, ["digest", "weekly", "--print", "--config", str(ROOT / "config.yaml")], env=env
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Survey digest: weekly")
    assert "support_csat (CSAT)" in result.output


def test_a_reference_in_a_part_with_a_shape_problem_keeps_the_users_index() -> None:
    text = """
surveys: {s1: {metric: csat, question: {sms: hi}}}
triggers:
  - {name: t0, on: a, survey: s1, channels: [sms], delay: soon}
  - {name: t1, on: a, survey: s1, chanels: [sms]}
  - {name: t2, on: a, survey: s2, channels: [sms]}
digests:
  - {name: d, channel: "#x", schedule: "0 9 * * mon", surveys: [s1, s9], windw: 7d}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    assert caught.value.problems == [
        "triggers[0].delay: 'soon' is not a duration like 10m "
        "(s seconds, m minutes, h hours, d days, w weeks: 30s, 10m, 2h, 7d, 1w)",
        "triggers[1].channels: is required",
        "triggers[1].chanels: is not a known key here: did you mean 'channels'?",
        "digests[0].windw: is not a known key here: did you mean 'window'?",
        "triggers[2].survey: 's2' is not a survey (known: s1)",  # index 2 as written, with t1 set aside
        "digests[0].surveys: 's9' is not a survey",
    ]


def test_a_survey_with_a_shape_problem_is_not_also_called_missing() -> None:
    text = """
surveys: {s1: {metric: csta, question: {sms: hi}}}
triggers: [{name: t, on: a, survey: s1, channels: [sms]}]
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    assert caught.value.problems == ["surveys.s1.metric: 'csta' is not one of: 'csat', 'ces' or 'nps'"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("server: {port: 70000}", "server.port: 70000 is too large: at most 65535"),
        ("server: {port: eighty}", "server.port: 'eighty' is not a whole number"),
        ("throttle: {daily_cap: -1}", "throttle.daily_cap: -1 is too small: at least 0"),
        (
            "triggers: [{name: t, on: a, survey: s, channels: sms}]",
            "triggers[0].channels: 'sms' is not a list",
        ),
        ("surveys: []", "surveys: [] is not a mapping"),
        ("chanels: {}", "chanels: is not a known key here: did you mean 'channels'?"),
        (
            "channels: {sms: {providr: log}}",
            "channels.sms.providr: is not a known key here: did you mean 'provider'?",
        ),
        (
            "surveys: {s: {metric: csat, question: {sms: x}, folow_up: y}}",
            "surveys.s.folow_up: is not a known key here: did you mean 'follow_up'?",
        ),
    ],
)
def test_problems_are_said_in_our_words(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    assert not any("Input should" in p for p in caught.value.problems)


def test_every_duration_message_lists_the_same_units() -> None:
    from triggers.durations import UNITS_HELP

    for text in ("throttle: {contact_cooldown: 3 days}", "throttle: {contact_cooldown: 3}"):
        with pytest.raises(ConfigError) as caught:
            parse_config(text, environ={})
        assert caught.value.problems[0].endswith(f"is not a duration like 10m ({UNITS_HELP})")
    result = CliRunner().invoke(cli, ["stats", "--window", "a week", "--config", str(ROOT / "config.yaml")])
    assert result.exit_code == 2 and UNITS_HELP in result.output
