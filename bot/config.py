"""The one `config.yaml`: loaded once, validated once, every problem named by its path.

`load_config(path)` returns a `Config` or raises `ConfigError` listing every problem, each as
`path: what is wrong and what would be right`. Strings may hold `${VAR}` or `${VAR:-default}`;
an unset variable without a default is a problem of its own. JSON is accepted (YAML's subset).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError
from triggers.settings import (
    Duration,
    Section,
    SurveyConfig,
    ThrottleConfig,
    TimeZoneName,
    TriggerConfig,
)

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    api_keys: list[str] = Field(default_factory=list)
    secret_key: str | None = None
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_future_skew: Duration = timedelta(days=1)
    # Indices (in the config's list) of API keys that came with whitespace around them.
    _padded_api_keys: list[int] = PrivateAttr(default_factory=list)
    max_connections: int = Field(default=10_000, ge=1)
    idle_timeout: Duration = timedelta(seconds=15)
    body_timeout: Duration = timedelta(seconds=30)

    @field_validator("idle_timeout", "body_timeout", mode="after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("is shorter than a second; give a duration like 15s")
        return value

    @field_validator("api_keys", mode="after")
    @classmethod
    def _strip_keys(cls, keys: list[str]) -> list[str]:
        # A key read from a secrets file often ends in a newline; a presented token never does.
        return [key.strip() for key in keys if key.strip()]

    @model_validator(mode="wrap")
    @classmethod
    def _note_padded_keys(cls, data: Any, handler: ModelWrapValidatorHandler[ServerConfig]) -> ServerConfig:
        server = handler(data)
        keys = data.get("api_keys") if isinstance(data, dict) else None
        if isinstance(keys, list):
            server._padded_api_keys = [
                i for i, key in enumerate(keys) if isinstance(key, str) and key.strip() and key != key.strip()
            ]
        return server

    @property
    def padded_api_keys(self) -> list[int]:
        """Which of `server.api_keys` (by index) had whitespace around them, now stripped."""
        return list(self._padded_api_keys)

    @field_validator("max_future_skew", mode="after")
    @classmethod
    def _positive_skew(cls, skew: timedelta) -> timedelta:
        if skew <= timedelta(0):
            raise ValueError("must be a positive duration like 1d (how far ahead of now occurred_at may be)")
        return skew

    @field_validator("public_url", mode="after")
    @classmethod
    def _absolute_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"{url!r} is not an absolute http(s) URL like https://surveys.example.com")
        return url.rstrip("/")


class StorageConfig(Section):
    url: str = "sqlite:///surveybot.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite://", "postgresql")):
            raise ValueError(
                f"{url!r} is not a storage URL like sqlite:///surveybot.db "
                "or postgresql+psycopg://user@host/db"
            )
        return url


class SmsChannelConfig(Section):
    provider: Literal["twilio", "log"] = "log"
    account_sid: str | None = None
    auth_token: str | None = None
    from_: str | None = Field(default=None, alias="from")
    messaging_service_sid: str | None = None
    rate_per_second: float = Field(default=1.0, gt=0, le=1000)
    api_base_url: str | None = None
    path: str = "outbox/sms.jsonl"

    @model_validator(mode="after")
    def _twilio_needs_credentials(self) -> SmsChannelConfig:
        if self.provider == "twilio":
            missing = [k for k in ("account_sid", "auth_token") if not getattr(self, k)]
            if not (self.from_ or self.messaging_service_sid):
                missing.append("from (or messaging_service_sid)")
            if missing:
                raise ValueError(f"provider twilio needs {', '.join(missing)}")
        return self


class EmailChannelConfig(Section):
    provider: Literal["smtp", "log"] = "log"
    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    from_: str = Field(default="surveybot <surveys@localhost>", alias="from")
    timeout_seconds: float = Field(default=30.0, gt=0)
    path: str = "outbox/email.jsonl"

    @model_validator(mode="after")
    def _smtp_needs_host(self) -> EmailChannelConfig:
        if self.provider == "smtp" and not self.host:
            raise ValueError("provider smtp needs host")
        return self


class ChannelsConfig(Section):
    sms: SmsChannelConfig = SmsChannelConfig()
    email: EmailChannelConfig = EmailChannelConfig()


class SlackConfig(Section):
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_base_url: str | None = None


class DigestConfig(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    channel: str
    schedule: str
    timezone: TimeZoneName = "UTC"
    window: Duration = timedelta(days=7)
    surveys: list[str] | None = None
    group_by: list[str] = Field(default_factory=list)
    chart: bool = False


class AlertsConfig(Section):
    channel: str | None = None


class RetentionConfig(Section):
    """How long each kind of data is kept before the daily purge; null keeps it for ever.

    `comments` covers comments on responses; `inbound_messages` the SMS texts that came in."""

    events: Duration | None = timedelta(days=90)
    comments: Duration | None = timedelta(days=365)
    inbound_messages: Duration | None = timedelta(days=365)


class DispatchConfig(Section):
    """How sends are claimed and recovered; `lease` must be longer than any provider timeout."""

    batch_size: int = Field(default=50, ge=1, le=1000)
    lease: Duration = timedelta(minutes=5)


class SignatureConfig(Section):
    """How a `webhook` source's sender signs: an HMAC of the body (and optionally a timestamp)."""

    header: str = Field(min_length=1)
    algorithm: Literal["sha1", "sha256"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""
    timestamp_header: str | None = None
    tolerance: Duration = timedelta(minutes=5)
    signed: str | None = None  # what is signed; default {body}, or {timestamp}.{body} with a timestamp


class SourceConfig(Section):
    """One entry of `sources:`: `POST /v1/sources/<name>` takes the vendor's webhooks."""

    kind: Literal["zendesk", "shopify", "stripe", "intercom", "webhook"]
    secret: str | None = None
    tolerance: Duration = timedelta(minutes=5)  # for signed timestamps (zendesk, stripe)
    signature: SignatureConfig | None = None  # kind webhook only
    map: dict[str, str] | None = None  # kind webhook only


class MetricsConfig(Section):
    min_sample: int = Field(default=30, ge=1)


class Config(Section):
    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    surveys: dict[str, SurveyConfig] = Field(default_factory=dict)
    triggers: list[TriggerConfig] = Field(default_factory=list)
    throttle: ThrottleConfig = ThrottleConfig()
    channels: ChannelsConfig = ChannelsConfig()
    slack: SlackConfig = SlackConfig()
    digests: list[DigestConfig] = Field(default_factory=list)
    alerts: AlertsConfig = AlertsConfig()
    themes: dict[str, list[str]] = Field(default_factory=dict)
    retention: RetentionConfig = RetentionConfig()
    metrics: MetricsConfig = MetricsConfig()
    dispatch: DispatchConfig = DispatchConfig()
    sources: dict[str, SourceConfig] = Field(default_factory=dict)


# --- loading ---------------------------------------------------------------------------------


class _Yaml12Loader(yaml.SafeLoader):
    """YAML without 1.1's surprises: `on`, `yes` and `no` stay strings (`on:` is a trigger key)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """Read, interpolate and validate a config file; `ConfigError` lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    return parse_config(text, environ=environ, source=str(path))


def parse_config(text: str, environ: dict[str, str] | None = None, source: str = "config") -> Config:
    try:
        raw = yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: is not valid YAML or JSON ({exc})"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: must be a mapping of sections (server, surveys, triggers, ...)"])
    problems: list[str] = []
    raw = _interpolate(raw, os.environ if environ is None else environ, "", problems)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_describe(error) for error in exc.errors())
        raise ConfigError(problems) from None
    problems.extend(check_references(config))
    if problems:
        raise ConfigError(problems)
    return config


def _interpolate(value: Any, environ: Any, path: str, problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, environ, _join(path, str(k)), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, environ, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, has_default, default = match.group(1), match.group(2), match.group(3)
        if name in environ:
            return str(environ[name])
        if has_default is not None:
            return default or ""
        problems.append(
            f"{path}: environment variable {name} is not set "
            f"(set it, or write ${{{name}:-default}} to allow a default)"
        )
        return ""

    return ENV_PATTERN.sub(substitute, value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(error: Any) -> str:
    path = ""
    for part in error["loc"]:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "is not a known key here (check its spelling and its section)"
    elif error["type"] == "missing":
        message = "is required"
    elif error["type"] == "literal_error":
        message = f"{error['input']!r} is not one of: {message.removeprefix('Input should be ')}"
    return f"{path or 'config'}: {message}"


def check_references(config: Config) -> list[str]:
    """Problems pydantic cannot see alone: names that must exist, templates that must compile."""
    from bot.texts.rendering import template_problems  # the template engine lives in one module
    from triggers.paths import path_problem

    problems: list[str] = []
    seen: set[str] = set()
    for i, trigger in enumerate(config.triggers):
        where = f"triggers[{i}]"
        if trigger.name in seen:
            problems.append(f"{where}.name: {trigger.name!r} is used by another trigger; names are unique")
        seen.add(trigger.name)
        survey = config.surveys.get(trigger.survey)
        if survey is None:
            known = ", ".join(sorted(config.surveys)) or "none defined"
            problems.append(f"{where}.survey: {trigger.survey!r} is not a survey (known: {known})")
            continue
        for channel in trigger.channels:
            if getattr(survey.question, channel) is None:
                problems.append(f"{where}.channels: survey {trigger.survey!r} has no question.{channel} text")
        for key in trigger.when:
            if problem := path_problem(key):
                problems.append(f"{where}.when.{key}: {problem}")
        if trigger.cancel_on:
            for j, key in enumerate(trigger.cancel_on.match):
                if problem := path_problem(key):
                    problems.append(f"{where}.cancel_on.match[{j}]: {problem}")
    for name, survey in config.surveys.items():
        problems.extend(template_problems(f"surveys.{name}", survey))
    from bot.runtime.scheduler import cron_problem

    for i, digest in enumerate(config.digests):
        if problem := cron_problem(digest.schedule):
            problems.append(f"digests[{i}].schedule: {problem}")
        for survey_name in digest.surveys or []:
            if survey_name not in config.surveys:
                problems.append(f"digests[{i}].surveys: {survey_name!r} is not a survey")
        for key in digest.group_by:
            if problem := path_problem(key, allow=("channel", "survey", "trigger")):
                problems.append(f"digests[{i}].group_by: {problem}")
    slack = config.slack
    if slack.bot_token and not slack.signing_secret and not slack.app_token:
        problems.append(
            "slack.signing_secret: is required with slack.bot_token over HTTP (the app's Signing Secret), "
            "or set slack.app_token for Socket Mode"
        )
    from bot.intake.sources.kinds import source_problems

    for name, source in config.sources.items():
        problems.extend(source_problems(name, source))
    names = [d.name for d in config.digests]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"digests: the name {name!r} is used twice; names are unique")
    return problems


__all__ = ["Config", "ConfigError", "load_config", "parse_config"]
