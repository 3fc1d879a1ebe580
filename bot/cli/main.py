"""The `surveybot` command. Each command only translates arguments into calls on the core."""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from bot.config import Config, load_config
from bot.errors import ConfigError, InvalidEvent, InvalidFile, PortInUse, SurveybotError
from bot.texts import messages
from bot.texts.times import when_iso
from storage.errors import DatabaseUnavailable, SchemaNotCurrent
from triggers.paths import path_problem

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_CONFIG = "config.yaml"
# Something the command needs is not there (database, schema, port): exit 3.
UNAVAILABLE = (DatabaseUnavailable, SchemaNotCurrent, PortInUse)
# The arguments name something that cannot be used at all: exit 2, as a bad argument.
BAD_INPUT = (InvalidFile,)
SHOWN_ERRORS = 20


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        default=lambda: os.environ.get("SURVEYBOT_CONFIG", DEFAULT_CONFIG),
        show_default="./config.yaml or $SURVEYBOT_CONFIG",
        type=click.Path(dir_okay=False),
        help="The config file (YAML or JSON).",
    )(func)


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "csv"]),
    default="auto",
    show_default=True,
    help="JSON lines or CSV (auto: by the file's extension).",
)


def read_config(path: str) -> Config:
    """Load the config or stop with every problem listed and exit code 2."""
    if not Path(path).exists():
        click.echo(f"error: {messages.no_config(path)}", err=True)
        sys.exit(2)
    try:
        return load_config(path)
    except ConfigError as exc:
        click.echo(messages.config_problems(len(exc.problems)), err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)


class Surveybot(click.Group):
    """The command group: an error surveybot raises on purpose is one line on stderr, with its
    exit code (3: something unavailable, 2: a file that is no use, 1: otherwise); `--debug`
    shows the traceback instead."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SurveybotError as exc:
            if ctx.meta.get("surveybot.debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(3 if isinstance(exc, UNAVAILABLE) else 2 if isinstance(exc, BAD_INPUT) else 1)


@click.group(cls=Surveybot, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="surveybot")
@click.option("--debug", is_flag=True, help="On an error, show the whole traceback.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """surveybot: CSAT, CES and NPS surveys after the moments that matter."""
    ctx.meta["surveybot.debug"] = debug


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a config.yaml that is already there.")
def init(directory: Path, force: bool) -> None:
    """Write the commented starter config.yaml into DIRECTORY (default: here). It runs as it is:
    SQLite, and SMS and email in log mode, every message written to outbox/."""
    from importlib.resources import files

    target = directory / DEFAULT_CONFIG
    if target.exists() and not force:
        click.echo(f"error: {messages.config_exists(str(target))}", err=True)
        sys.exit(1)
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(files("bot.texts").joinpath("starter/config.yaml").read_text(encoding="utf-8"))
    click.echo(messages.config_written(str(target)))


@cli.command("check-config")
@config_option
def check_config(config_path: str) -> None:
    """Validate the config; list every problem by its path (exit 2 when there are any).

    Warns (exit 0) about SMS texts longer than one segment for an example contact."""
    from bot.sms.preview import sms_length_warnings

    config = read_config(config_path)
    click.echo(messages.config_ok(len(config.surveys), len(config.triggers), len(config.digests)))
    if warnings := sms_length_warnings(config):
        click.echo(messages.config_warnings(len(warnings)), err=True)
        for warning in warnings:
            click.echo(f"  - {warning}", err=True)


@cli.command()
@config_option
@click.option("--host", default=None, help="Listen on this address (default: server.host).")
@click.option("--port", type=int, default=None, help="Listen on this port (default: server.port).")
@click.option(
    "--migrate",
    is_flag=True,
    help="Bring the database schema up to date first (PostgreSQL; safe with several processes "
    "starting at once). SQLite is always migrated.",
)
def run(config_path: str, host: str | None, port: int | None, migrate: bool) -> None:
    """Serve the HTTP API and send surveys as they fall due, until SIGTERM or Ctrl-C."""
    from bot.cli.run import serve

    config = read_config(config_path)
    setup_logging()
    sys.exit(serve(config, host=host or config.server.host, port=port or config.server.port, migrate=migrate))


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@config_option
def db_upgrade(config_path: str) -> None:
    """Apply the schema migrations to the configured database."""
    from storage.db import Database
    from storage.migrate import current_revision, upgrade

    config = read_config(config_path)
    database = Database(config.storage.url)
    try:
        database.check()
        upgrade(database)
        click.echo(f"schema at revision {current_revision(database)}")
    finally:
        database.dispose()


@cli.group()
def rollups() -> None:
    """Metric rollups: the per-hour counts digests and stats read."""


@rollups.command("rebuild")
@config_option
def rollups_rebuild(config_path: str) -> None:
    """Recompute every metric rollup from the stored responses (the digests' paths included)."""
    from bot.cli.commands import open_database
    from bot.metrics.rollups import rebuild_rollups
    from bot.runtime.clock import SystemClock

    config = read_config(config_path)
    database = open_database(config)
    try:
        done = rebuild_rollups(database, config, SystemClock())
    finally:
        database.dispose()
    click.echo(messages.rollups_rebuilt(done.rows or 0, done.added, done.dropped))


@cli.command()
@config_option
@click.argument("event_json", required=False)
@click.option("--type", "event_type", help="The event type, e.g. ticket.solved.")
@click.option("--contact-id", help="The sender's id for the contact.")
@click.option("--id", "event_id", help="The event id (idempotency key).")
@click.option("--email", help="The contact's email address.")
@click.option("--phone", help="The contact's phone number, in E.164.")
@click.option("--name", help="The contact's name.")
@click.option("--timezone", help="The contact's IANA time zone.")
@click.option(
    "--property",
    "-p",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="An event property (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def emit(config_path: str, event_json: str | None, as_json: bool, **fields: Any) -> None:
    """Send one event, given as JSON (or - for stdin) or by options, and show the decisions."""
    from bot.cli.commands import emit_event

    config = read_config(config_path)
    event = _event_from(event_json, fields)
    result = emit_event(config, event)
    if as_json:
        click.echo(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(_describe_result(result.to_json()))
    if result.status == "invalid":
        sys.exit(1)


def _event_from(event_json: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    if event_json:
        text = sys.stdin.read() if event_json == "-" else event_json
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON ({exc})", param_hint="EVENT_JSON") from None
        if not isinstance(document, dict):
            raise click.BadParameter("must be one JSON object", param_hint="EVENT_JSON")
        return document
    if not fields["event_type"] or not fields["contact_id"]:
        raise click.UsageError("give the event as JSON, or at least --type and --contact-id")
    contact = {
        "id": fields["contact_id"],
        "email": fields["email"],
        "phone": fields["phone"],
        "name": fields["name"],
        "timezone": fields["timezone"],
    }
    properties = _properties(fields["properties"])
    event: dict[str, Any] = {
        "type": fields["event_type"],
        "contact": {k: v for k, v in contact.items() if v},
        "properties": properties,
    }
    if fields["event_id"]:
        event["id"] = fields["event_id"]
    return event


def _describe_result(result: dict[str, Any]) -> str:
    lines = [f"event {result['id'] or '(no id)'}: {result['status']}"]
    if result["error"]:
        lines.append(f"  error: {result['error']}")
    for d in result["decisions"]:
        why = d["reason"] + (f": {d['detail']}" if d.get("detail") else "") if d["reason"] else ""
        due = f"due {when_iso(d['due_at'])} UTC" if d["due_at"] else ""
        detail = ", ".join(x for x in (why, due) if x)
        lines.append(f"  {d['trigger']}: {d['outcome']}" + (f" ({detail})" if detail else ""))
    if result["status"] == "accepted" and not result["decisions"]:
        lines.append("  no trigger matches this event type")
    return "\n".join(lines)


@cli.command("import")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def import_events(config_path: str, file: Path, fmt: str, quiet: bool) -> None:
    """Import events from a JSON-lines or CSV file, through the same path as the API."""
    from bot.cli.commands import import_file

    config = read_config(config_path)
    summary = import_file(config, file, fmt=fmt, progress=not quiet)
    counts: Counter[str] = summary.counts
    click.echo(f"{sum(counts.values())} events: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if summary.decisions:
        click.echo("decisions: " + ", ".join(f"{n} {k}" for k, n in summary.decisions.most_common()))
    _exit_on_invalid(summary.errors, counts["invalid"], sum(counts.values()), "import")


def _exit_on_invalid(errors: list[tuple[int, str]], invalid: int, total: int, command: str) -> None:
    """The first invalid lines in line order, how many more, and exit 1 when there were any
    (no `errors` given: they are in the JSON document already)."""
    if not invalid:
        return
    for line, error in errors[:SHOWN_ERRORS]:
        click.echo(f"  line {line}: {error}", err=True)
    if errors and invalid > min(len(errors), SHOWN_ERRORS):
        click.echo(f"  and {invalid - min(len(errors), SHOWN_ERRORS)} more", err=True)
    click.echo(messages.invalid_rows(invalid, total, command), err=True)
    sys.exit(1)


@cli.command("send-test")
@config_option
@click.argument("survey")
@click.option("--to", "address", required=True, help="A phone number (E.164) or an email address.")
@click.option(
    "--channel",
    type=click.Choice(["sms", "email", "whatsapp"]),
    default=None,
    help="The channel (default: email for an address with @, sms otherwise).",
)
@click.option("--contact-id", default=None, help="Whose history it joins (default: test:ADDRESS).")
@click.option("--name", default=None, help="The contact's name, for the template.")
@click.option(
    "--property",
    "-p",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="An event property for the template (repeatable).",
)
def send_test(
    config_path: str,
    survey: str,
    address: str,
    channel: str | None,
    contact_id: str | None,
    name: str | None,
    properties: tuple[str, ...],
) -> None:
    """Send SURVEY to ADDRESS now through the configured channel, past delay, quiet hours and
    throttle. It is marked as a test: counted in no metric, cooldown or cap; an opt-out still
    stops it. Exit 1 when it did not go out."""
    from bot.cli.commands import send_test_now
    from triggers.events import parse_event

    config = read_config(config_path)
    if survey not in config.surveys:
        raise click.BadParameter(messages.unknown_survey(survey, list(config.surveys)), param_hint="SURVEY")
    channel = channel or ("email" if "@" in address else "sms")
    question = config.surveys[survey].question
    if (question.email if channel == "email" else question.text_for(channel)) is None:
        raise click.BadParameter(messages.no_question_for(survey, channel), param_hint="SURVEY")
    raw = {
        "type": "surveybot.test",
        "contact": {
            "id": contact_id or f"test:{address.strip()}",
            "name": name,
            "email" if channel == "email" else "phone": address,
        },
        "properties": _properties(properties),
    }
    try:
        event = parse_event(raw, datetime.now(UTC))
    except InvalidEvent as exc:
        raise click.BadParameter(str(exc).partition(": ")[2], param_hint="--to") from None
    send_id, status, reason = send_test_now(config, event, survey=survey, channel=channel)
    to = event.contact.address(channel) or address
    click.echo(messages.test_sent(send_id, channel, to, status, reason))
    if status not in ("sent", "delivered"):
        sys.exit(1)
    channel_config = getattr(config.channels, channel)
    outbox = str(channel_config.path) if channel_config.provider == "log" else None
    click.echo(messages.test_next_steps(event.contact.id, channel, to, outbox))


@cli.command()
@config_option
@click.option("--from", "address", required=True, help="The customer's phone number (E.164).")
@click.option("--whatsapp", is_flag=True, help="The reply comes by WhatsApp (default: by SMS).")
@click.argument("text")
def reply(config_path: str, address: str, whatsapp: bool, text: str) -> None:
    """Play the customer's SMS reply TEXT from ADDRESS through the same conversation as Twilio's
    webhook (scores, comments, STOP/START/HELP), and print what surveybot answers."""
    import secrets

    from bot.cli.commands import play_reply
    from bot.sms.inbox import InboundSms
    from triggers.events import normalize_phone

    config = read_config(config_path)
    try:
        number = normalize_phone(address) or address
    except InvalidEvent as exc:
        raise click.BadParameter(str(exc).partition(": ")[2], param_hint="--from") from None
    channel = "whatsapp" if whatsapp else "sms"
    own_number = getattr(config.channels, channel).from_ or ""
    inbound = InboundSms(f"cli-{secrets.token_hex(8)}", number, own_number, text, channel)
    answer = play_reply(config, inbound)
    click.echo(answer if answer is not None else messages.NO_ANSWER)


def _properties(items: tuple[str, ...]) -> dict[str, str]:
    properties = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--property")
        properties[key] = value
    return properties


def _window(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    from triggers.durations import parse_duration

    try:
        window = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if window <= timedelta(0):
        raise click.BadParameter("the window must be longer than 0")
    return window


def period_options(func: F) -> F:
    """`stats --by` and its companions (see `bot.cli.periods`)."""
    options = [
        click.option("--by", type=click.Choice(["week", "month", "quarter"]), default=None,
                     help="The journey per ISO week (from Monday), month or quarter, with the CX index."),
        click.option("--periods", "count", type=click.IntRange(1, 520), default=None,
                     help="With --by: periods up to --end (default 12 weeks, 12 months, 8 quarters)."),
        click.option("--since", default=None,
                     help="With --by: from the period holding this day, YYYY-MM-DD (not with --periods)."),
        click.option("--timezone", default=None,
                     help="With --by: where periods begin, at local midnight (default: dashboard.timezone)."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@config_option
@click.option("--survey", "surveys", multiple=True, help="Only this survey (repeatable; default: all).")
@click.option(
    "--window", default="7d", show_default=True, callback=_window, help="How far back, e.g. 24h, 7d."
)
@click.option("--group-by", "group_by", multiple=True, help="Break down by a path, e.g. properties.team.")
@click.option("--end", default=None, help="The window's end, ISO 8601 (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
@period_options
@click.option(
    "--outcomes",
    "outcomes",
    is_flag=True,
    help="Outcomes by score band instead: answers of the window (default 365d) whose follow-up has passed.",
)
@click.option(
    "--churn",
    type=click.Choice(["week", "month", "quarter"]),
    default=None,
    help="With the outcomes: churn rate per period over the window (cut at dashboard.timezone's midnight).",
)
@click.pass_context
def stats(
    ctx: click.Context,
    config_path: str,
    surveys: tuple[str, ...],
    window: timedelta,
    group_by: tuple[str, ...],
    end: str | None,
    as_json: bool,
    outcomes: bool,
    churn: str | None,
    **by_period: Any,
) -> None:
    """The current numbers per survey: metric with its 95% interval, change, response rate, holds.

    With --by week|month|quarter: the journey by period instead of one window (--window is then
    not used): each stage's surveys' metric per period with its 95% interval and n, and the CX
    index of `index:` beside its parts. The index is the weighted sum of the parts on 0-100
    (CSAT and CES as % favourable, NPS as (NPS + 100) / 2); its 95% interval is by the delta
    method, the parts independent: Var = sum of weight^2 x each part's variance. A period where
    a part has no answer shows no index.

    With --outcomes: each outcome's rate per score band (docs/outcomes.md); --churn PERIOD (or
    --by PERIOD) adds churn per period.
    """
    from bot.cli.commands import stats_numbers
    from bot.cli.stats import print_stats_table, report_json

    config = read_config(config_path)
    for name in surveys:
        if name not in config.surveys:
            raise click.BadParameter(f"{name!r} is not a survey in the config", param_hint="--survey")
    if outcomes or churn:
        if any(by_period[name] is not None for name in ("count", "since", "timezone")):
            raise click.BadParameter(
                "--outcomes reads one window (--window, default 365d); --periods, --since and --timezone "
                "belong to --by without --outcomes",
                param_hint="--outcomes",
            )
        given = ctx.get_parameter_source("window") is not click.core.ParameterSource.DEFAULT
        cohort = window if given else timedelta(days=365)
        _outcomes(config, list(surveys), cohort, _end(end), as_json, churn or by_period["by"])
        return
    if any(value is not None for value in by_period.values()):
        from bot.cli.periods import show_periods

        show_periods(
            config, surveys=list(surveys), group_by=group_by, end=_end(end), as_json=as_json, **by_period
        )
        return
    for path in group_by:
        if problem := path_problem(path, allow=("channel", "survey", "trigger")):
            raise click.BadParameter(problem, param_hint="--group-by")
    report = stats_numbers(
        config, surveys=list(surveys), window=window, group_by=list(group_by), end=_end(end)
    )
    if as_json:
        click.echo(orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2).decode())
        return
    from rich.console import Console

    print_stats_table(report, Console())


def _outcomes(
    config: Config, surveys: list[str], cohort: timedelta, end: datetime, as_json: bool, churn: str | None
) -> None:
    """`stats --outcomes` / `--churn`: see bot/cli/outcomes.py."""
    from bot.cli.outcomes import outcome_numbers, outcomes_json, print_outcomes

    report = outcome_numbers(config, surveys=surveys, cohort=cohort, end=end, churn=churn)
    if as_json:
        click.echo(orjson.dumps(outcomes_json(report, churn), option=orjson.OPT_INDENT_2).decode())
        return
    from rich.console import Console

    print_outcomes(report, Console(), configured=bool(config.outcomes), period=churn)


@cli.command()
@config_option
@click.argument("name")
@click.option("--print", "mode", flag_value="print", default=True, help="Show it here (the default).")
@click.option("--post", "mode", flag_value="post", help="Post it to its Slack channel now, by hand.")
@click.option("--end", default=None, help="The window's end, ISO 8601 (default: now).")
@click.option(
    "--chart-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --print: also write the trend charts (chart: true) as PNG files here.",
)
def digest(config_path: str, name: str, mode: str, end: str | None, chart_dir: Path | None) -> None:
    """Render the digest NAME for the window ending now (or --end); --post posts it to Slack.

    A manual --post is not recorded as the scheduled window's post: the scheduled one still goes out."""
    from bot.cli.commands import post_digest_now, render_digest
    from bot.cli.digest_text import render_digest_text

    config = read_config(config_path)
    until = _end(end)
    try:
        if mode == "post":
            channel, ts = post_digest_now(config, name, until)
            click.echo(messages.digest_posted(name, channel, ts))
            return
        report, charts = render_digest(config, name, until)
    except UNAVAILABLE:
        raise
    except SurveybotError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render_digest_text(report), nl=False)
    for survey, png in charts if chart_dir else []:
        assert chart_dir is not None
        chart_dir.mkdir(parents=True, exist_ok=True)
        target = chart_dir / f"{name}-{survey}.png"
        target.write_bytes(png)
        click.echo(messages.chart_saved(str(target)))


def _end(value: str | None, hint: str = "--end") -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=hint) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@cli.command()
@config_option
@click.argument("kind", type=click.Choice(["responses", "sends", "decisions"]))
@click.option("--since", default=None, help="Only rows from this time on, ISO 8601 (UTC without an offset).")
@click.option("--until", default=None, help="Only rows before this time, ISO 8601.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="CSV or JSON lines (default: jsonl for an --output ending in .jsonl, else csv).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: stdout).",
)
@click.option(
    "--personal",
    is_flag=True,
    help="Add personal data: comments, addresses, names, event properties (never a forgotten contact's).",
)
def export(
    config_path: str, kind: str, since: str | None, until: str | None, fmt: str | None, output: Path | None,
    personal: bool,
) -> None:  # fmt: skip
    """Stream KIND (responses, sends or decisions) as CSV or JSON lines, in constant memory.
    The columns are listed in docs/exports.md."""
    from bot.cli.export import export_file, format_for

    config = read_config(config_path)
    start, end = _moment(since, "--since"), _moment(until, "--until")
    count = export_file(config, kind, output, fmt=format_for(output, fmt), personal=personal,  # type: ignore[arg-type]
                        since=start, until=end)  # fmt: skip
    click.echo(messages.exported(count, kind, str(output) if output else None), err=True)


def _moment(value: str | None, hint: str) -> datetime | None:
    return None if value is None else _end(value, hint)


@cli.command()
@config_option
@click.argument("contact_id", required=False)
@click.option("--phone", help="Find the contact(s) by this phone number (E.164).")
@click.option("--email", help="Find the contact(s) by this email address.")
@click.option("--json", "as_json", is_flag=True, help="Print what was erased as JSON.")
def forget(
    config_path: str, contact_id: str | None, phone: str | None, email: str | None, as_json: bool
) -> None:
    """Erase a contact's personal data (addresses, name, comments, message texts); keep the
    anonymous scores. Safe to run again. Exit 1 when nothing matches."""
    from bot.cli.commands import forget_contact
    from bot.errors import InvalidEvent

    if not (contact_id or phone or email):
        raise click.UsageError(messages.FORGET_NEEDS_WHOM)
    try:
        report = forget_contact(read_config(config_path), contact_id=contact_id, phone=phone, email=email)
    except InvalidEvent as exc:
        option = "--" + exc.field.rpartition(".")[2]  # contact.phone -> --phone
        raise click.BadParameter(str(exc).partition(": ")[2], param_hint=option) from None
    if as_json:
        click.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    elif report.found:
        click.echo(messages.forgotten(report.contact_ids, report.erased))
    if not report.found:
        asked = " / ".join(x for x in (contact_id, phone, email) if x)
        click.echo(messages.nothing_stored_for(asked), err=True)
        sys.exit(1)


@cli.command()
@config_option
@click.argument("contact_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
def explain(config_path: str, contact_id: str, as_json: bool) -> None:
    """Show a contact's events, every decision with its reason, sends and responses, in time order."""
    from bot.cli import tables
    from bot.cli.commands import explain_contact

    history = explain_contact(read_config(config_path), contact_id)
    if as_json:
        click.echo(orjson.dumps(history.to_json(), option=orjson.OPT_INDENT_2).decode())
    elif history.found:
        _print(tables.explain_table(contact_id, history))
    if not history.found:
        click.echo(tables.no_contact(contact_id), err=True)
        sys.exit(1)


@cli.group()
def dashboard() -> None:
    """The web dashboard at /dashboard (see docs/dashboard.md)."""


@dashboard.command("login")
@config_option
@click.argument("email")
def dashboard_login(config_path: str, email: str) -> None:
    """Print a one-time sign-in link to the dashboard for EMAIL, one of dashboard.users."""
    from bot.cli.dashboard_login import print_sign_in_link

    click.echo(print_sign_in_link(read_config(config_path), email))


@cli.command()
@config_option
@click.argument("events_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
def simulate(config_path: str, events_file: Path, fmt: str, as_json: bool) -> None:
    """Replay events through the policy, in time order, sending and storing nothing; count the outcomes."""
    from bot.cli import tables
    from bot.intake.simulate import simulate_file

    simulation = simulate_file(read_config(config_path), events_file, fmt=fmt)
    report = simulation.to_json()
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    else:
        _print(tables.simulation_view(report))
    events = simulation.events
    _exit_on_invalid(
        [] if as_json else simulation.errors, events["invalid"], sum(events.values()), "simulate"
    )


@cli.command()
@config_option
@click.argument("action", required=False, type=click.Choice(["retry"]))
@click.argument("message_id", required=False)
@click.option("--failed", is_flag=True, help="Only the messages that failed for good.")
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="How many, newest first."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
def webhooks(
    config_path: str, action: str | None, message_id: str | None, failed: bool, limit: int, as_json: bool
) -> None:
    """List recent webhook and write-back deliveries and failures; `retry ID` sends a failed one
    again (exit 1 when no failed message has that id)."""
    from bot.cli import webhooks as outbox_cli

    config = read_config(config_path)
    if action == "retry":
        if not message_id:
            raise click.UsageError("retry needs the message's id (the first column of `surveybot webhooks`)")
        message = outbox_cli.retry_delivery(config, message_id)
        if message is None:
            click.echo(f"error: {messages.no_failed_message(message_id)}", err=True)
            sys.exit(1)
        click.echo(
            orjson.dumps(outbox_cli.message_json(message)).decode()
            if as_json
            else messages.retry_queued(message.id, message.target)
        )
        return
    recent, counts = outbox_cli.recent_deliveries(config, limit=limit, status="failed" if failed else None)
    if as_json:
        document = {"counts": counts, "messages": [outbox_cli.message_json(m) for m in recent]}
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        _print(outbox_cli.deliveries_table(recent, counts))


def _print(renderable: Any) -> None:
    from rich.console import Console

    Console(soft_wrap=False).print(renderable)


def setup_logging() -> None:
    from bot.runtime.logs import configure_logging

    configure_logging(json_lines=not sys.stderr.isatty())


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    cli(prog_name="surveybot")
