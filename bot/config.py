"""The one `config.yaml`: loaded once, validated once, every problem named by its path.

`load_config(path)` returns a `Config` or raises `ConfigError` listing every problem, each as
`path: what is wrong and what would be right`. Strings may hold `${VAR}` or `${VAR:-default}`;
an unset variable without a default is a problem of its own. JSON is accepted (YAML's subset).
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError
from bot.metrics.journey_settings import IndexConfig, JourneyStage, journey_problems
from bot.outbound.settings import WebhookConfig, WritebackConfig, outbound_problems
from bot.texts.brand import BrandConfig
from triggers.follow_ups import OutcomeConfig, outcome_problems
from triggers.settings import (
    Duration,
    Section,
    SurveyConfig,
    ThrottleConfig,
    TimeZoneName,
    TriggerConfig,
)

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


ApiScope = Literal["ingest", "read"]
INGEST_ONLY: tuple[ApiScope, ...] = ("ingest",)


class ApiKeyConfig(Section):
    """One entry of `server.api_keys`: a key and what it may do. A plain string is an ingest key."""

    key: str
    scopes: list[ApiScope] = Field(default_factory=lambda: list(INGEST_ONLY), min_length=1)

    @field_validator("key", mode="after")
    @classmethod
    def _strip_key(cls, key: str) -> str:
        # A key read from a secrets file often ends in a newline; a presented token never does.
        return key.strip()


def _plain_key(value: Any) -> Any:
    if isinstance(value, str):
        return {"key": value}
    if not isinstance(value, dict):
        raise ValueError(
            f"{value!r} is not an API key: write it as text, or as {{key: ..., scopes: [ingest, read]}}"
        )
    return value


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    api_keys: list[Annotated[ApiKeyConfig, BeforeValidator(_plain_key)]] = Field(default_factory=list)
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
    def _drop_empty_keys(cls, keys: list[ApiKeyConfig]) -> list[ApiKeyConfig]:
        return [key for key in keys if key.key]  # `${KEY:-}` left unset: no key, not an empty one

    @model_validator(mode="wrap")
    @classmethod
    def _note_padded_keys(cls, data: Any, handler: ModelWrapValidatorHandler[ServerConfig]) -> ServerConfig:
        server = handler(data)
        keys = data.get("api_keys") if isinstance(data, dict) else None
        if isinstance(keys, list):
            given = [key.get("key") if isinstance(key, dict) else key for key in keys]
            server._padded_api_keys = [
                i for i, key in enumerate(given) if isinstance(key, str) and key.strip() not in ("", key)
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


class WhatsAppChannelConfig(SmsChannelConfig):
    """WhatsApp through Twilio: `from` is `whatsapp:+E.164`; `content_sid` (HX…) is the approved
    template that opens the conversation, `content_variables` its variables as Jinja texts."""

    from_: str | None = Field(default=None, alias="from", pattern=r"^whatsapp:\+[1-9]\d{6,14}$")
    content_sid: str | None = Field(default=None, pattern=r"^HX[0-9a-fA-F]{32}$")
    content_variables: dict[str, str] = Field(default_factory=dict)
    path: str = "outbox/whatsapp.jsonl"


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
    whatsapp: WhatsAppChannelConfig = WhatsAppChannelConfig()


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
    # How often each process looks for workers that died (their liveness lock is free).
    liveness_sweep: Duration = timedelta(seconds=5)

    @field_validator("liveness_sweep")
    @classmethod
    def _sweep_in_range(cls, sweep: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= sweep <= timedelta(minutes=5):
            raise ValueError(f"{sweep.total_seconds():g}s is out of range: give 1s to 5m, such as 5s")
        return sweep


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


class DashboardUser(Section):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    role: Literal["viewer", "manager", "admin"] = "viewer"


class DashboardConfig(Section):
    """Who may sign in to `/dashboard` and how long a sign-in lasts (see docs/dashboard.md)."""

    secret: str | None = None
    users: list[DashboardUser] = Field(default_factory=list)
    timezone: TimeZoneName = "UTC"  # where the trend chart's days begin
    link_lifetime: Duration = timedelta(minutes=15)
    session_lifetime: Duration = timedelta(hours=12)


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
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    writeback: WritebackConfig = WritebackConfig()
    brand: BrandConfig = BrandConfig()
    dashboard: DashboardConfig = DashboardConfig()
    journey: list[JourneyStage] = Field(default_factory=list)
    index: IndexConfig | None = None
    outcomes: dict[str, OutcomeConfig] = Field(default_factory=dict)


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
        # In the same pass: what the parts without a problem of shape refer to.
        problems.extend(p for p in _references_despite(raw, exc) if p not in problems)
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
        if part == "[key]":  # pydantic's mark of a mapping's key: the path already names it
            continue
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return f"{path or 'config'}: {_in_our_words(error)}"


def _in_our_words(error: Any) -> str:
    """Pydantic's message for `error`, said the way the rest of our messages are."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_key(error["loc"])
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        return f"{value!r} is not one of: {str(error['msg']).removeprefix('Input should be ')}"
    words = {
        "less_than_equal": lambda: f"{value!r} is too large: at most {ctx.get('le')}",
        "less_than": lambda: f"{value!r} is too large: less than {ctx.get('lt')}",
        "greater_than_equal": lambda: f"{value!r} is too small: at least {ctx.get('ge')}",
        "greater_than": lambda: f"{value!r} is too small: more than {ctx.get('gt')}",
        "int_parsing": lambda: f"{value!r} is not a whole number",
        "int_type": lambda: f"{value!r} is not a whole number",
        "int_from_float": lambda: f"{value!r} is not a whole number",
        "float_parsing": lambda: f"{value!r} is not a number",
        "float_type": lambda: f"{value!r} is not a number",
        "bool_parsing": lambda: f"{value!r} is not true or false",
        "bool_type": lambda: f"{value!r} is not true or false",
        "string_type": lambda: f"{value!r} is not text: write it in quotes",
        "list_type": lambda: f"{value!r} is not a list: write it as [a, b] or one '- item' a line",
        "dict_type": lambda: f"{value!r} is not a mapping: write it as 'key: value' lines",
        "model_type": lambda: f"{value!r} is not a mapping: write it as 'key: value' lines",
        "model_attributes_type": lambda: f"{value!r} is not a mapping: write it as 'key: value' lines",
        "too_long": lambda: f"has too many items: at most {ctx.get('max_length')}",
        "too_short": lambda: f"has too few items: at least {ctx.get('min_length')}",
        "string_too_long": lambda: f"is too long: at most {ctx.get('max_length')} characters",
        "string_too_short": lambda: f"is too short: at least {ctx.get('min_length')} characters",
        "string_pattern_mismatch": lambda: _pattern_words(value, str(ctx.get("pattern", ""))),
    }
    if kind in words:
        return words[kind]()
    return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


_PATTERN_WORDS = {
    "whatsapp:": "is not a WhatsApp sender like whatsapp:+15550001111",
    "^HX": "is not a Content SID like HX followed by 32 hex digits",
    ".:/-]": "is not an event type like subscription.cancelled",
}


def _pattern_words(value: Any, pattern: str) -> str:
    for marker, words in _PATTERN_WORDS.items():
        if marker in pattern:
            return f"{value!r} {words}"
    return f"{value!r} may hold only letters, digits and _ . -"


def _unknown_key(loc: tuple[Any, ...]) -> str:
    """`is not a known key here`, with the closest known key when one is near (`chanels`)."""
    known = _known_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"is not a known key here: did you mean {close[0]!r}?"
    if known:
        return f"is not a known key here (known: {', '.join(sorted(known))})"
    return "is not a known key here (check its spelling and its section)"


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the config accepts at `loc`: the fields (by their YAML names) of its section."""
    node: Any = Config
    for part in loc:
        if isinstance(node, tuple):  # a list or a mapping: `part` picks one of its items
            node = _node(node[1])
            continue
        if node is None:
            return []
        field = node.model_fields.get(part) or next(
            (f for f in node.model_fields.values() if f.alias == part), None
        )
        node = _node(field.annotation) if field else None
    if node is None or isinstance(node, tuple):
        return []
    return [field.alias or name for name, field in node.model_fields.items()]


def _node(annotation: Any) -> Any:
    """A section model; ("items", T) for `list[T]` or `dict[str, T]`; None for a plain value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (list, dict):
        return ("items", args[-1]) if args else None
    for arg in args:  # a union: the first part that is a section
        if (found := _node(arg)) is not None:
            return found
    return None


_GONE = object()  # a list item set aside for the second look (see `_references_despite`)
SECTION_LISTS = ("triggers", "digests")


def _references_despite(raw: dict[str, Any], failed: ValidationError) -> list[str]:
    """The reference and template problems of the config's sound parts, found in the same pass
    as the problems of shape: each part with such a problem is set aside (a key falls back to
    its default, an item leaves its list), the rest validated again, and its references checked.
    Problems about a survey that was set aside are left out: it does exist, only not soundly."""
    pruned = copy.deepcopy(raw)
    set_aside: dict[str, set[int]] = {name: set() for name in SECTION_LISTS}
    surveys_aside: set[str] = set()
    errors = failed.errors()
    for _ in range(8):
        kept = {name: _kept(pruned, name, set_aside[name]) for name in SECTION_LISTS}
        changed = [_set_aside(pruned, e["loc"], e["type"], kept, set_aside, surveys_aside) for e in errors]
        if not any(changed):
            return []
        kept = {name: _kept(pruned, name, set_aside[name]) for name in SECTION_LISTS}
        candidate = {**pruned, **{n: [pruned[n][i] for i in kept[n]] for n in SECTION_LISTS if n in pruned}}
        try:
            config = Config.model_validate(_without_gone(candidate))
        except ValidationError as again:
            errors = again.errors()
            continue
        return [
            _original_index(problem, kept)
            for problem in check_references(config)
            if not any(f"{name!r} is not a survey" in problem or f"survey {name!r} has" in problem
                       for name in surveys_aside)
        ]  # fmt: skip
    return []


def _kept(raw: dict[str, Any], name: str, aside: set[int]) -> list[int]:
    items = raw.get(name)
    return [i for i in range(len(items)) if i not in aside] if isinstance(items, list) else []


def _set_aside(
    raw: dict[str, Any],
    loc: tuple[Any, ...],
    kind: str,
    kept: dict[str, list[int]],
    set_aside: dict[str, set[int]],
    surveys_aside: set[str],
) -> bool:
    """Set aside the part of `raw` an error at `loc` is about; False when nothing changed."""
    path = list(loc[:-1] if kind == "missing" else loc)
    if len(path) >= 2 and path[0] in SECTION_LISTS and isinstance(path[1], int):
        if path[1] >= len(kept[path[0]]):
            return False
        path[1] = kept[path[0]][path[1]]
        if len(path) == 2:
            set_aside[path[0]].add(path[1])
            return True
    if len(path) >= 2 and path[0] == "surveys" and (len(path) == 2 or kind == "missing"):
        surveys_aside.add(str(path[1]))
    parent: Any = raw
    for depth, part in enumerate(path):
        inside = isinstance(parent, dict) and part in parent
        inside = inside or (isinstance(parent, list) and isinstance(part, int) and 0 <= part < len(parent))
        if not inside:
            path = path[:depth]
            break
        if depth < len(path) - 1:
            parent = parent[part]
    if not path:
        return False
    if len(path) == 2 and path[0] in SECTION_LISTS and isinstance(path[1], int):
        set_aside[path[0]].add(path[1])
        return True
    container: Any = raw
    for part in path[:-1]:
        container = container[part]
    if isinstance(container, dict):
        del container[path[-1]]
    elif container[path[-1]] is _GONE:
        return False
    else:
        container[path[-1]] = _GONE
    return True


def _without_gone(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_gone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_gone(v) for v in value if v is not _GONE]
    return value


def _original_index(problem: str, kept: dict[str, list[int]]) -> str:
    """`triggers[1]...` of the pruned config -> the index the user wrote it at."""
    match = re.match(r"^(triggers|digests)\[(\d+)\]", problem)
    if not match:
        return problem
    original = kept[match.group(1)][int(match.group(2))]
    return f"{match.group(1)}[{original}]{problem[match.end() :]}"


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
            if (survey.question.email if channel == "email" else survey.question.text_for(channel)) is None:
                text = "question.whatsapp or question.sms" if channel == "whatsapp" else f"question.{channel}"
                problems.append(f"{where}.channels: survey {trigger.survey!r} has no {text} text")
        for key in trigger.when:
            if problem := path_problem(key):
                problems.append(f"{where}.when.{key}: {problem}")
        if trigger.cancel_on:
            for j, key in enumerate(trigger.cancel_on.match):
                if problem := path_problem(key):
                    problems.append(f"{where}.cancel_on.match[{j}]: {problem}")
    for name, survey in config.surveys.items():
        problems.extend(template_problems(f"surveys.{name}", survey))
    from bot.channels.whatsapp import content_variable_problems

    problems.extend(content_variable_problems(config.channels.whatsapp.content_variables))
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
    problems.extend(outbound_problems(config.webhooks, config.writeback))
    from bot.dashboard.settings import dashboard_problems

    problems.extend(dashboard_problems(config.dashboard))
    problems.extend(journey_problems(config.journey, config.index, config.surveys))
    problems.extend(outcome_problems(config.outcomes))
    names = [d.name for d in config.digests]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"digests: the name {name!r} is used twice; names are unique")
    return problems


__all__ = ["Config", "ConfigError", "load_config", "parse_config"]
